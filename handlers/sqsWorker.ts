/**
 * The demo's SQS worker: a function on the callback queue (event source mapping) that does the work each message
 * asks for and answers its task token. The message body is the channel's default `{"taskToken", "input"}`.
 * The execution input's `outcome` decides: `"failure"` → SendTaskFailure `ProcessingFailed`; `"crash"` → the
 * message is reported as failed and comes back after the visibility timeout, until the queue's redrive policy
 * moves it to the dead-letter queue (the execution then times out); anything else → SendTaskSuccess.
 *
 * Failures are reported per message (`batchItemFailures`), so one bad message does not return the whole batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import { PAYLOAD_KEYS, PROCESSING_FAILED_ERROR } from "../workflow/contract";
import { createSignaller, type TaskSignaller } from "./signal";

export interface SqsRecord {
  messageId: string;
  body: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface WorkOutput {
  status: "DONE";
  messageId: string;
}

export async function handleTokenMessages(
  event: SqsEvent,
  signaller: TaskSignaller,
  log: (line: string) => void = console.log,
): Promise<BatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  await Promise.all(
    (event?.Records ?? []).map(async (record) => {
      try {
        await handleRecord(record, signaller, log);
      } catch (error) {
        log(
          `message ${record.messageId}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}; it will be delivered again`,
        );
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}

async function handleRecord(record: SqsRecord, signaller: TaskSignaller, log: (line: string) => void): Promise<void> {
  let body: Record<string, any>;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw Object.assign(new Error(`the body is not JSON: ${record.body.slice(0, 200)}`), { name: "MalformedMessage" });
  }
  const taskToken = body?.[PAYLOAD_KEYS.taskToken];
  if (typeof taskToken !== "string" || taskToken.length === 0) {
    throw Object.assign(new Error(`the body has no "${PAYLOAD_KEYS.taskToken}"`), { name: "MalformedMessage" });
  }
  const outcome = body[PAYLOAD_KEYS.input]?.outcome;
  if (outcome === "crash")
    throw Object.assign(new Error('the execution input asked the worker to crash (outcome: "crash")'), { name: "RequestedCrash" });
  const result =
    outcome === "failure"
      ? await signaller.failure(taskToken, {
          error: PROCESSING_FAILED_ERROR,
          cause: 'The execution input asked for failure (outcome: "failure")',
        })
      : await signaller.success(taskToken, { status: "DONE", messageId: record.messageId } satisfies WorkOutput);
  // A closed task (answered before, or timed out) is not an error: SQS delivers at least once.
  log(`message ${record.messageId}: ${result.signal} ${result.delivered ? "delivered" : "not needed: the task had already closed"}`);
}

/** The Lambda entry point factory (`callbackFactory`): one SFN client per container. */
export function tokenQueueWorkerFactory(): (event: SqsEvent) => Promise<BatchResponse> {
  const signaller = createSignaller(new SFNClient({}));
  return (event) => handleTokenMessages(event, signaller);
}
