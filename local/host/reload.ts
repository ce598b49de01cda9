/**
 * Applies an edited program to the running services (watch mode): what the new evaluation no longer
 * declares, or declares differently, is deprovisioned (dependents first: reverse declaration order), then
 * what is new or changed is provisioned (in declaration order), through LocalService's contract.
 */
import type { LocalService } from "../common/service";
import { diffPrograms, type ProgramDiff } from "../program/diff";
import type { EvaluatedResource } from "../program/evaluator";

export async function applyProgramChange(
  servicesByType: ReadonlyMap<string, LocalService>,
  previous: readonly EvaluatedResource[],
  next: readonly EvaluatedResource[],
): Promise<ProgramDiff> {
  const diff = diffPrograms(previous, next);
  const replacements = new Map(diff.changed.map(({ previous: old, next: replacement }) => [old.urn, replacement]));
  const leaving = previous.filter((resource) => replacements.has(resource.urn) || diff.removed.includes(resource)).reverse();
  for (const resource of leaving) {
    await servicesByType.get(resource.type)?.deprovision(resource, replacements.get(resource.urn));
  }
  const arriving = new Set([...diff.added, ...diff.changed.map(({ next: replacement }) => replacement)]);
  for (const resource of next) {
    if (!arriving.has(resource)) continue;
    const service = servicesByType.get(resource.type);
    if (!service) continue;
    try {
      await service.provision(resource, next);
    } catch (error) {
      throw new Error(`${resource.type} "${resource.name}": ${(error as Error).message}`, { cause: error });
    }
  }
  return diff;
}
