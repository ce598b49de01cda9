/**
 * Watch mode: on each burst of edits to the program's sources, evaluate the program again (in a child
 * process) and apply the difference to the running services (reload.ts). One reload at a time; edits made
 * during a reload start another one after it. A program that no longer evaluates leaves the previous one
 * serving, and the log names the file.
 */
import type { LocalService } from "../common/service";
import { describeDiff } from "../program/diff";
import type { EvaluatedProgram } from "../program/evaluator";
import type { ProgramSource } from "../program/source";
import { applyProgramChange } from "./reload";

export interface WatchAndReloadOptions {
  source: ProgramSource;
  servicesByType: ReadonlyMap<string, LocalService>;
  current(): EvaluatedProgram;
  replace(next: EvaluatedProgram): void;
  /**
   * Before the services see the new program: what reads it as a whole (IAM's roles and policies, which the
   * functions' credentials are checked against when they are provisioned). Throwing rejects the program.
   */
  adopt?(next: EvaluatedProgram, previous: EvaluatedProgram): Promise<void>;
  log(source: string, line: string): void;
}

export function watchAndReload(options: WatchAndReloadOptions): { close(): Promise<void> } {
  let running: Promise<void> | undefined;
  let pending: string[] | undefined;
  let closed = false;
  /** What failed to provision at the last reload (applyProgramChange provisions it again). */
  let retry = new Set<string>();

  const reload = async (files: string[]): Promise<void> => {
    const startedAt = performance.now();
    options.log("reload", `changed: ${files.join(", ")}; evaluating the program`);
    let next: EvaluatedProgram;
    try {
      next = await options.source.evaluate();
      if (!closed) await options.adopt?.(next, options.current());
    } catch (error) {
      options.log("reload", `the program failed to evaluate; the previous one keeps serving. ${(error as Error).message}`);
      return;
    }
    if (closed) return;
    try {
      const { diff, failed } = await applyProgramChange(options.servicesByType, options.current().resources, next.resources, retry);
      retry = new Set(failed.map(({ resource }) => resource.urn));
      if (failed.length === 0) {
        options.replace(next);
        options.log("reload", `reloaded in ${Math.round(performance.now() - startedAt)} ms: ${describeDiff(diff)}`);
        return;
      }
      // A failed resource is provisioned again at the next reload (`retry`), edited or not: a new one counts as not
      // there; a changed one as its previous declaration, so a removal then deprovisions what the service still has.
      const failedUrns = new Set(failed.map(({ resource }) => resource.urn));
      const previousOf = new Map(diff.changed.map(({ previous }) => [previous.urn, previous]));
      const resources = next.resources.flatMap((resource) =>
        !failedUrns.has(resource.urn) ? [resource] : previousOf.has(resource.urn) ? [previousOf.get(resource.urn)!] : [],
      );
      options.replace({ ...next, resources });
      options.log(
        "reload",
        `reload applied except ${failed.length} resource${failed.length === 1 ? "" : "s"}, tried again at the next save: ` +
          `${failed.map(({ error }) => error.message).join("; ")} (${describeDiff(diff)})`,
      );
    } catch (error) {
      options.replace(next);
      options.log("reload", `reload applied only in part (fix the program and save again): ${(error as Error).message}`);
    }
  };

  const schedule = (files: string[]) => {
    if (closed) return;
    if (running) {
      pending = [...new Set([...(pending ?? []), ...files])];
      return;
    }
    running = reload(files).finally(() => {
      running = undefined;
      const again = pending;
      pending = undefined;
      if (again) schedule(again);
    });
  };

  options.source.watch(schedule);
  return {
    async close() {
      closed = true;
      await running?.catch(() => undefined);
    },
  };
}
