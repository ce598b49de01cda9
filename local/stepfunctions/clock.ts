/**
 * Time as the engine sees it. Injected so tests can run retries, waits and timeouts on a virtual clock
 * instead of sleeping; the runtime uses `systemClock`.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once after `delayMs` (zero or less: as soon as possible) unless cancelled first. */
  setTimer(callback: () => void, delayMs: number): Timer;
}

/** Node's setTimeout overflows above 2^31-1 ms (~24.8 days); AWS's default task timeout is ~3.2 years. */
const MAX_NATIVE_DELAY_MS = 2 ** 31 - 1;

/** A timer that may wait longer than setTimeout can, by re-arming in steps of at most `maxStepMs`. */
export function setLongTimer(callback: () => void, delayMs: number, maxStepMs = MAX_NATIVE_DELAY_MS): Timer {
  let handle: NodeJS.Timeout;
  const arm = (remainingMs: number) => {
    const stepMs = Math.min(Math.max(0, remainingMs), maxStepMs);
    handle = setTimeout(() => (remainingMs > stepMs ? arm(remainingMs - stepMs) : callback()), stepMs);
  };
  arm(delayMs);
  return { cancel: () => clearTimeout(handle) };
}

/**
 * Timers due later than setTimeout can wait, under one shared native timer: every task has a deadline (AWS's
 * default TimeoutSeconds is ~3.2 years) that is almost always cancelled within milliseconds, so arming and
 * cancelling one is a set insertion and deletion instead of a native timer each. When the shared timer fires,
 * the timers now within reach get native ones.
 */
export class FarTimers {
  private readonly waiting = new Set<{ at: number; callback: () => void; near?: Timer }>();
  private shared?: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    /** The longest delay a native timer takes (a parameter so tests can make it short). */
    private readonly maxNativeDelayMs = MAX_NATIVE_DELAY_MS,
  ) {}

  setTimer(callback: () => void, delayMs: number): Timer {
    if (delayMs <= this.maxNativeDelayMs) return setLongTimer(callback, delayMs, this.maxNativeDelayMs);
    const entry: { at: number; callback: () => void; near?: Timer } = { at: this.now() + delayMs, callback };
    this.waiting.add(entry);
    if (!this.shared) this.shared = setTimeout(() => this.wake(), this.maxNativeDelayMs);
    // Like a native timer, a waiting one keeps the process alive; none waiting, the shared timer does not.
    else if (this.waiting.size === 1) this.shared.ref();
    return {
      cancel: () => {
        entry.near?.cancel();
        if (this.waiting.delete(entry) && this.waiting.size === 0) this.shared?.unref();
      },
    };
  }

  private wake(): void {
    this.shared = undefined;
    const now = this.now();
    for (const entry of this.waiting) {
      if (entry.at - now > this.maxNativeDelayMs) continue;
      this.waiting.delete(entry);
      entry.near = setLongTimer(entry.callback, entry.at - now, this.maxNativeDelayMs);
    }
    if (this.waiting.size > 0) this.shared = setTimeout(() => this.wake(), this.maxNativeDelayMs);
  }
}

const farTimers = new FarTimers();

export const systemClock: Clock = { now: () => Date.now(), setTimer: (callback, delayMs) => farTimers.setTimer(callback, delayMs) };

let lastIsoMs = Number.NaN;
let lastIso = "";

/**
 * A time as ISO 8601 text (`EnteredTime`, `StartTime`). Remembers the last one: the states of a chain are mostly
 * entered within the same millisecond, and formatting a Date costs as much as a state's own work.
 */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/**
 * Resolves after `delayMs` on `clock`, or rejects with the signal's reason as soon as `signal` aborts
 * (the timer is cancelled, so nothing lingers after a stop).
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A clock whose new timers can be held back and then armed in deadline order. While a restart replays every
 * running execution, their timers are held; released together, the overdue ones fire at once, oldest deadline
 * first, instead of in the order the executions happened to be replayed.
 */
export class DeferringClock implements Clock {
  private held: Array<{ at: number; callback: () => void; cancelled: boolean; timer?: Timer }> | undefined;

  constructor(private readonly inner: Clock) {}

  now(): number {
    return this.inner.now();
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    if (!this.held) return this.inner.setTimer(callback, delayMs);
    const entry: { at: number; callback: () => void; cancelled: boolean; timer?: Timer } = {
      at: this.now() + delayMs,
      callback,
      cancelled: false,
    };
    this.held.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
        entry.timer?.cancel();
      },
    };
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    held.sort((a, b) => a.at - b.at);
    for (const entry of held) if (!entry.cancelled) entry.timer = this.inner.setTimer(entry.callback, Math.max(0, entry.at - this.now()));
  }
}
