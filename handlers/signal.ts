/**
 * Answering a task token: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, with AWS's limits applied
 * before the call rather than discovered after it.
 *
 * - `error` is cut to 256 and `cause` to 32,768 characters: an over-long value makes SendTaskFailure itself fail
 *   (ValidationException), the token is never answered and the execution hangs until its timeout.
 * - `TaskTimedOut` means the task is already closed (answered before, or timed out): with at-least-once event
 *   delivery and retries this is normal, so it is reported as a result ("already closed"), not thrown.
 *
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html
 */
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, type SFNClient } from "@aws-sdk/client-sfn";

export const MAX_ERROR_LENGTH = 256;
export const MAX_CAUSE_LENGTH = 32_768;
export const MAX_OUTPUT_BYTES = 262_144;

export type SignalKind = "success" | "failure" | "heartbeat";

export type SignalResult =
  | { signal: SignalKind; delivered: true }
  /** The task had already closed: the token was answered before or the wait timed out (AWS: TaskTimedOut). */
  | { signal: SignalKind; delivered: false; reason: "TaskTimedOut"; message: string };

export interface TaskFailure {
  /** Error name the state machine's Catch matches (e.g. "ProcessingFailed"); cut to 256 characters. */
  error: string;
  /** Human-readable cause; cut to 32,768 characters. */
  cause?: string;
}

/** What the helpers need from the SDK: only `send` (an `SFNClient`, or a stand-in in tests). */
export type SendsCommands = Pick<SFNClient, "send">;

export interface TaskSignaller {
  success(taskToken: string, output: unknown): Promise<SignalResult>;
  failure(taskToken: string, failure: TaskFailure): Promise<SignalResult>;
  heartbeat(taskToken: string): Promise<SignalResult>;
}

export function createSignaller(client: SendsCommands): TaskSignaller {
  return {
    success: async (taskToken, output) => {
      const json = serializeOutput(output);
      return deliver("success", () => client.send(new SendTaskSuccessCommand({ taskToken, output: json })));
    },
    failure: (taskToken, failure) =>
      deliver("failure", () =>
        client.send(
          new SendTaskFailureCommand({
            taskToken,
            error: truncate(failure.error, MAX_ERROR_LENGTH),
            ...(failure.cause !== undefined ? { cause: truncate(failure.cause, MAX_CAUSE_LENGTH) } : {}),
          }),
        ),
      ),
    heartbeat: (taskToken) => deliver("heartbeat", () => client.send(new SendTaskHeartbeatCommand({ taskToken }))),
  };
}

async function deliver(signal: SignalKind, send: () => Promise<unknown>): Promise<SignalResult> {
  try {
    await send();
    return { signal, delivered: true };
  } catch (error) {
    if (error instanceof Error && error.name === "TaskTimedOut") {
      return { signal, delivered: false, reason: "TaskTimedOut", message: error.message };
    }
    throw error;
  }
}

/**
 * The output as JSON, refused here when AWS would refuse it (InvalidOutput): not serializable to JSON, or over
 * 262,144 bytes. Failing in the handler keeps the reason in its logs instead of an opaque API error.
 */
export function serializeOutput(output: unknown): string {
  const json = JSON.stringify(output);
  if (json === undefined) throw new TypeError(`SendTaskSuccess output must be JSON-serializable; received ${typeof output}`);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > MAX_OUTPUT_BYTES) {
    throw new RangeError(`SendTaskSuccess output is ${bytes} bytes of JSON; Step Functions accepts at most ${MAX_OUTPUT_BYTES}`);
  }
  return json;
}

/** At most `maxLength` characters (UTF-16 units, as AWS counts them), never splitting a surrogate pair. */
export function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const marker = "…";
  let end = maxLength - marker.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}
