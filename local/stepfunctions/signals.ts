/**
 * Abort controllers chained to a parent signal: stopping an execution aborts every task, branch and
 * iteration under it; a task's own timeout aborts only that task.
 */
export interface ChildController {
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  /** Detaches from the parent (call when the child's work is over, so long-lived parents hold no listeners). */
  dispose(): void;
}

export function childController(parent: AbortSignal): ChildController {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", onParentAbort, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => parent.removeEventListener("abort", onParentAbort),
  };
}
