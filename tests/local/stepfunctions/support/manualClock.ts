/**
 * A virtual clock for engine tests: time moves only when the test advances it, and timers fire in due
 * order, so retries, waits and timeouts of minutes or years run in microseconds and deterministically.
 */
import type { Clock, Timer } from "../../../../local/stepfunctions/clock";

interface PendingTimer {
  dueAt: number;
  order: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  private current: number;
  private order = 0;
  private readonly timers = new Set<PendingTimer>();
  /** Every delay requested, in order (to assert backoff). */
  readonly requestedDelays: number[] = [];

  constructor(start = Date.parse("2026-01-01T00:00:00.000Z")) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const timer: PendingTimer = { dueAt: this.current + Math.max(0, delayMs), order: this.order++, callback };
    this.requestedDelays.push(delayMs);
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time and letting the engine react. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].filter((timer) => timer.dueAt <= target).sort((a, b) => a.dueAt - b.dueAt || a.order - b.order)[0];
      if (!next) break;
      this.timers.delete(next);
      this.current = next.dueAt;
      next.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets every pending promise chain run (the engine awaits across several microtask and macrotask turns). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}
