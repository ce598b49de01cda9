import { StatesError, STATES_ERRORS } from "./errors";

/**
 * Largest payload (execution input, state input/output, task output) Step Functions accepts, in UTF-8 bytes.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;

/**
 * A Standard execution runs for a year at most, redrives included: a longer Wait fails at once, and an execution
 * that old can no longer be redriven. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 */
export const MAX_EXECUTION_MS = 365 * 24 * 3600 * 1000;

/** AWS's default for a Task's TimeoutSeconds (the ASL specification's 60 does not apply on AWS). */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/** Whether `text` exceeds the payload limit (exact byte count only when it could). */
export function exceedsPayloadLimit(text: string): boolean {
  if (text.length * 3 <= PAYLOAD_LIMIT_BYTES) return false;
  return Buffer.byteLength(text, "utf8") > PAYLOAD_LIMIT_BYTES;
}

/** JSON text of a state's data, or `States.DataLimitExceeded` when it is over the limit. */
export function serializePayload(value: unknown, what: string): string {
  const text = JSON.stringify(value === undefined ? null : value);
  if (exceedsPayloadLimit(text)) {
    throw new StatesError(
      STATES_ERRORS.DataLimitExceeded,
      `The ${what} has a size of ${Buffer.byteLength(text, "utf8")} bytes, which exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes.`,
    );
  }
  return text;
}
