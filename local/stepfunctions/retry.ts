/**
 * Which Retrier or Catcher handles an error, and how long a retry waits.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import type { Catcher, Retrier } from "./asl/types";
import { errorMatches, StatesError } from "./errors";

export const RETRIER_DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0 } as const;

/**
 * The index of the first Retrier whose ErrorEquals matches, or -1. Only the first match counts: once its
 * attempts are used up the error goes to Catch, even if a later Retrier would also match (AWS does the same).
 */
export function findRetrier(retriers: readonly Retrier[] | undefined, error: StatesError): number {
  if (!retriers) return -1;
  return retriers.findIndex((retrier) => errorMatches(retrier.ErrorEquals, error));
}

export function maxAttempts(retrier: Retrier): number {
  return retrier.MaxAttempts ?? RETRIER_DEFAULTS.MaxAttempts;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): IntervalSeconds × BackoffRate^attempt, capped
 * by MaxDelaySeconds; with `JitterStrategy: FULL`, a uniformly random fraction of that.
 */
export function retryDelayMs(retrier: Retrier, attempt: number, random: () => number = Math.random): number {
  const intervalSeconds = retrier.IntervalSeconds ?? RETRIER_DEFAULTS.IntervalSeconds;
  const backoffRate = retrier.BackoffRate ?? RETRIER_DEFAULTS.BackoffRate;
  let delaySeconds = intervalSeconds * backoffRate ** attempt;
  if (retrier.MaxDelaySeconds !== undefined) delaySeconds = Math.min(delaySeconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === "FULL") delaySeconds *= random();
  return Math.round(delaySeconds * 1000);
}

export function findCatcher(catchers: readonly Catcher[] | undefined, error: StatesError): Catcher | undefined {
  return catchers?.find((catcher) => errorMatches(catcher.ErrorEquals, error));
}

/**
 * What a Catcher hands to its Next state (placed by its ResultPath): always both `Error` and `Cause`, as
 * strings (empty when a SendTaskFailure gave none), so a following `CausePath: "$.Cause"` always resolves.
 */
export function errorOutput(error: StatesError): { Error: string; Cause: string } {
  return { Error: error.error, Cause: error.cause };
}
