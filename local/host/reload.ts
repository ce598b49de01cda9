/**
 * Applies an edited program to the running services (watch mode): what the new evaluation no longer
 * declares, or declares differently, is deprovisioned (dependents first: reverse declaration order), then
 * what is new or changed is provisioned (in declaration order), through LocalService's contract.
 *
 * A resource that fails to provision does not stop the ones after it: they are provisioned too, and the
 * failures are returned, so the caller can hand them back as `retry` and have them provisioned at the next reload.
 */
import type { LocalService } from "../common/service";
import { diffPrograms, type ProgramDiff } from "../program/diff";
import type { EvaluatedResource } from "../program/evaluator";

export interface ProgramChange {
  diff: ProgramDiff;
  /** Resources of the new program that failed to provision, in declaration order, each with its error. */
  failed: Array<{ resource: EvaluatedResource; error: Error }>;
}

export async function applyProgramChange(
  servicesByType: ReadonlyMap<string, LocalService>,
  previous: readonly EvaluatedResource[],
  next: readonly EvaluatedResource[],
  /** URNs that failed to provision at the last reload: replaced again even when declared as recorded. */
  retry: ReadonlySet<string> = new Set(),
): Promise<ProgramChange> {
  const diff = diffPrograms(previous, next);
  if (retry.size > 0) {
    // A service may have removed the old resource before the new one failed (Lambda retires a function it replaces):
    // whatever the program declares now, provisioning it again is what brings the resource back.
    const before = new Map(previous.map((resource) => [resource.urn, resource]));
    const changed = new Set(diff.changed.map(({ next: replacement }) => replacement.urn));
    for (const resource of next) {
      const recorded = before.get(resource.urn);
      if (recorded && retry.has(resource.urn) && !changed.has(resource.urn)) diff.changed.push({ previous: recorded, next: resource });
    }
  }
  const replacements = new Map(diff.changed.map(({ previous: old, next: replacement }) => [old.urn, replacement]));
  const leaving = previous.filter((resource) => replacements.has(resource.urn) || diff.removed.includes(resource)).reverse();
  for (const resource of leaving) {
    await servicesByType.get(resource.type)?.deprovision(resource, replacements.get(resource.urn));
  }
  const arriving = new Set([...diff.added, ...diff.changed.map(({ next: replacement }) => replacement)]);
  const failed: ProgramChange["failed"] = [];
  for (const resource of next) {
    if (!arriving.has(resource)) continue;
    const service = servicesByType.get(resource.type);
    if (!service) continue;
    try {
      await service.provision(resource, next);
    } catch (error) {
      failed.push({ resource, error: new Error(`${resource.type} "${resource.name}": ${(error as Error).message}`, { cause: error }) });
    }
  }
  return { diff, failed };
}
