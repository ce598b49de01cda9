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
  /** Calls `callback` once after `delayMs` unless cancelled first. */
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

export const systemClock: Clock = { now: () => Date.now(), setTimer: (callback, delayMs) => setLongTimer(callback, delayMs) };

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
