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

/**
 * The tasks running under each abort signal (an execution's, a branch's, an iteration's): one listener on the
 * signal cancels them all, instead of one listener added and removed per task (EventTarget's bookkeeping costs
 * more than the rest of a Pass state's transition).
 */
const runningTasks = new WeakMap<AbortSignal, Set<TaskCancellation>>();

function tasksUnder(signal: AbortSignal): Set<TaskCancellation> {
  let running = runningTasks.get(signal);
  if (!running) {
    const tasks = new Set<TaskCancellation>();
    running = tasks;
    runningTasks.set(signal, tasks);
    signal.addEventListener(
      "abort",
      () => {
        for (const task of tasks) task.cancel(signal.reason);
        tasks.clear();
      },
      { once: true },
    );
  }
  return running;
}

/**
 * What cancels one task attempt: its own TimeoutSeconds, or its parent (the execution, branch or iteration)
 * aborting. The engine waits on it through `race`, with plain callbacks; the AbortSignal that an invoker
 * may listen to is made only when one asks for it (`signal`). On Node 20 making an AbortSignal costs
 * microseconds, as much as the rest of a task's transition, and most waits never need one.
 */
export class TaskCancellation {
  private controller?: AbortController;
  private cancelled = false;
  private cancelReason: unknown;
  private waiters: Array<(reason: unknown) => void> = [];
  private readonly siblings?: Set<TaskCancellation>;

  constructor(parent: AbortSignal) {
    if (parent.aborted) this.cancel(parent.reason);
    else (this.siblings = tasksUnder(parent)).add(this);
  }

  get aborted(): boolean {
    return this.cancelled;
  }

  get reason(): unknown {
    return this.cancelReason;
  }

  /** An AbortSignal that aborts with this task (made on first use, already aborted if the task is). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(this.cancelReason);
    }
    return this.controller.signal;
  }

  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelReason = reason;
    // Listeners of the signal (the invoker) first, then the engine's own waits, as one AbortSignal would order them.
    this.controller?.abort(reason);
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(reason ?? new Error("aborted"));
  }

  /** Resolves with `promise`, or rejects with the cancellation's reason as soon as the task is cancelled. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.cancelled) return Promise.reject(this.cancelReason ?? new Error("aborted"));
    return new Promise<T>((resolve, reject) => {
      this.waiters.push(reject);
      const forget = () => {
        const index = this.waiters.indexOf(reject);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      promise.then(
        (value) => {
          forget();
          resolve(value);
        },
        (error) => {
          forget();
          reject(error);
        },
      );
    });
  }

  /** Detaches from the parent (the task's work is over). */
  dispose(): void {
    this.siblings?.delete(this);
  }
}
