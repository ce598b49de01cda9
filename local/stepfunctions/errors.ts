import { STATES_ERRORS } from "../../workflow/contract";

/**
 * Errors raised while running a state machine, named exactly as AWS names them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 *
 * `error` and `cause` are what AWS records in the history (`TaskFailed`, `ExecutionFailed`, ...) and what
 * a Catch hands to its next state as `{"Error": ..., "Cause": ...}`.
 */
export class StatesError extends Error {
  constructor(
    /** The error name: "States.Timeout", "ProcessingFailed", "Lambda.Unknown", ... */
    readonly error: string,
    /** Human-readable cause (AWS often puts JSON here). */
    override readonly cause: string = "",
  ) {
    super(cause ? `${error}: ${cause}` : error);
    this.name = "StatesError";
  }

  /**
   * Whether a Retrier or Catcher may handle it. AWS: `States.Runtime` and `States.DataLimitExceeded` fail
   * the execution and are not caught by `States.ALL`.
   */
  get catchable(): boolean {
    return !UNCATCHABLE.has(this.error);
  }
}

// One list for the engine, the validator and the components (workflow/contract.ts); re-exported for the engine.
export { STATES_ERRORS } from "../../workflow/contract";

const UNCATCHABLE = new Set<string>([STATES_ERRORS.Runtime, STATES_ERRORS.DataLimitExceeded]);

/**
 * Whether a Retrier's or Catcher's `ErrorEquals` matches an error, by AWS's rules:
 * - `States.ALL` matches every catchable error;
 * - `States.TaskFailed` matches every catchable error except `States.Timeout`;
 * - any other name matches only itself, case-sensitively.
 * `States.Runtime` is never matched (it always fails the execution); `States.DataLimitExceeded` only by its
 * exact name. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export function errorMatches(errorEquals: readonly string[], error: StatesError): boolean {
  if (error.error === STATES_ERRORS.Runtime) return false;
  for (const name of errorEquals) {
    if (name === error.error) return true;
    if (!error.catchable) continue;
    if (name === STATES_ERRORS.ALL) return true;
    if (name === STATES_ERRORS.TaskFailed && error.error !== STATES_ERRORS.Timeout) return true;
  }
  return false;
}

/** Anything thrown inside the interpreter that is not already a StatesError is a bug or bad data: `States.Runtime`. */
export function toStatesError(thrown: unknown): StatesError {
  if (thrown instanceof StatesError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new StatesError(STATES_ERRORS.Runtime, message);
}
