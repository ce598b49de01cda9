/**
 * Lambda event source mappings on SQS queues: pollers that receive batches and invoke the function with
 * AWS's SQS event, then delete what the function handled. A thrown error (or crash, or timeout) leaves the
 * whole batch in the queue, where it becomes visible again after the visibility timeout; with
 * `ReportBatchItemFailures`, only the listed messages stay. Redrive to a dead-letter queue is the queue's.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * Under IAM enforcement the pollers act as the function's execution role, which needs sqs:ReceiveMessage,
 * sqs:DeleteMessage and sqs:GetQueueAttributes on the queue: without ReceiveMessage (or GetQueueAttributes)
 * nothing is received, without DeleteMessage every handled message comes back after its visibility timeout.
 * AWS also checks the three when the mapping is created (InvalidParameterValueException); the runtime says so at
 * start and runs the mapping anyway, so the consequence at run time can be seen (as after a policy change on AWS).
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
 */
import { raceAbort } from "../common/abort";
import type { AccessControl, Principal } from "../common/access";
import type { LambdaInvoker } from "../common/invoker";
import type { LogLevel } from "../common/service";
import type { QueueRegistry } from "./queues";
import type { Queue, StoredMessage } from "./queue";

export interface EventSourceMappingConfig {
  uuid: string;
  eventSourceArn: string;
  functionName: string;
  /** @default 10 */
  batchSize: number;
  /** @default 0 */
  maximumBatchingWindowInSeconds: number;
  reportBatchItemFailures: boolean;
  /** Concurrent pollers (AWS scales up to `scalingConfig.maximumConcurrency`). @default 5 */
  maximumConcurrency: number;
}

/** The longest a poll waits (SQS's long-polling maximum), so pollers sleep between messages instead of spinning. */
const LONG_POLL_SECONDS = 20;
/** After a refused receive, pollers wait this long before asking again (one denial logged per pause, not per poller). */
const PAUSE_AFTER_DENIAL_MS = 10_000;
/** The actions the execution role needs on the queue, in the order Lambda checks them when the mapping is created. */
const POLLER_ACTIONS = ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"] as const;

/** Who the pollers are for IAM: the function's execution role. */
export interface PollerAccess {
  control: AccessControl;
  principal: Principal;
}

export class SqsEventSourceMapping {
  private readonly stopped = new AbortController();
  private readonly loops: Promise<void>[] = [];
  /** While a refused receive's pause lasts, every poller waits. */
  private pausedUntil = 0;

  constructor(
    readonly config: EventSourceMappingConfig,
    private readonly queues: QueueRegistry,
    private readonly lambda: LambdaInvoker,
    private readonly region: string,
    private readonly log: (line: string, level?: LogLevel) => void,
    private readonly access?: PollerAccess,
  ) {}

  start(): void {
    const missing = POLLER_ACTIONS.find((action) => !this.allowed(action));
    if (missing)
      this.log(
        `event source mapping ${this.config.functionName} ← ${this.config.eventSourceArn}: AWS refuses to create it ` +
          `(InvalidParameterValueException: The provided execution role does not have permissions to call ${missing} on SQS); ` +
          `locally it runs, its pollers acting as the role`,
        "warn",
      );
    for (let i = 0; i < this.config.maximumConcurrency; i++) this.loops.push(this.poll());
  }

  /** Whether the execution role may call `action` on the queue (always, when IAM is off). */
  private allowed(action: (typeof POLLER_ACTIONS)[number]): boolean {
    if (!this.access) return true;
    return this.access.control.authorize({
      principal: this.access.principal,
      action: `sqs:${action}`,
      resource: this.config.eventSourceArn,
    }).allowed;
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await Promise.all(this.loops);
  }

  private async poll(): Promise<void> {
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      const queue = this.queues.byArn(this.config.eventSourceArn);
      if (!queue) {
        // The queue may be created later through the API; check again in a moment.
        await delay(1000, signal);
        continue;
      }
      if (Date.now() < this.pausedUntil) {
        await delay(this.pausedUntil - Date.now(), signal);
        continue;
      }
      if (!this.allowed("ReceiveMessage") || !this.allowed("GetQueueAttributes")) {
        this.pausedUntil = Date.now() + PAUSE_AFTER_DENIAL_MS;
        this.log(
          `${this.config.functionName}: its role may not read ${queue.name}; polling again in ${PAUSE_AFTER_DENIAL_MS / 1000} s`,
          "warn",
        );
        continue;
      }
      const batch = await this.collectBatch(queue, signal);
      if (batch.length === 0) continue;
      await this.deliver(queue, batch, signal).catch((error) => this.log(`${this.config.functionName}: ${error?.stack ?? error}`));
    }
  }

  /** Up to `batchSize` messages: a long poll for the first, then more until the batching window closes. */
  private async collectBatch(queue: Queue, signal: AbortSignal): Promise<StoredMessage[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.config;
    const visibility = queue.numberAttribute("VisibilityTimeout");
    const batch: StoredMessage[] = [];
    const pollDeadline = Date.now() + LONG_POLL_SECONDS * 1000;
    while (batch.length === 0 && !signal.aborted && Date.now() < pollDeadline) {
      batch.push(...queue.receive(Math.min(10, batchSize), visibility));
      if (batch.length === 0) await queue.waitForMessages(pollDeadline, signal);
    }
    const windowDeadline = Date.now() + maximumBatchingWindowInSeconds * 1000;
    while (batch.length > 0 && batch.length < batchSize && !signal.aborted) {
      const more = queue.receive(Math.min(10, batchSize - batch.length), visibility);
      batch.push(...more);
      if (more.length > 0) continue;
      if (Date.now() >= windowDeadline) break;
      await queue.waitForMessages(windowDeadline, signal);
    }
    return batch;
  }

  private async deliver(queue: Queue, batch: StoredMessage[], signal: AbortSignal): Promise<void> {
    const { functionName, reportBatchItemFailures } = this.config;
    let result;
    try {
      // Raced with shutdown: the batch is then left in the queue, undeleted, as after a failure.
      const invocation = this.lambda.invoke({
        functionName,
        payload: JSON.stringify({ Records: batch.map((message) => sqsRecord(message, queue.arn, this.region)) }),
        invocationType: "RequestResponse",
        signal,
      });
      result = await raceAbort(invocation, signal);
    } catch (error) {
      if (signal.aborted) return;
      this.log(
        `${functionName}: could not invoke (${(error as Error).message}); ${batch.length} message(s) return to ${queue.name} after the visibility timeout`,
      );
      return;
    }
    if (result.functionError) {
      this.log(`${functionName} failed on a batch of ${batch.length}; the messages return to ${queue.name} after the visibility timeout`);
      return;
    }
    const failed = reportBatchItemFailures ? failedItems(result.payload, batch) : new Set<string>();
    if (failed === "wholeBatch") {
      this.log(`${functionName}: batchItemFailures names an identifier not in the batch; the whole batch returns to ${queue.name}`);
      return;
    }
    const handled = batch.filter((message) => !failed.has(message.messageId));
    if (handled.length > 0 && !this.allowed("DeleteMessage")) {
      this.log(
        `${functionName}: its role may not delete from ${queue.name}; ${handled.length} handled message(s) return after the visibility timeout`,
        "warn",
      );
      return;
    }
    for (const message of handled) queue.delete(message.messageId);
  }
}

/**
 * The partial batch response: `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}]}`. An empty or missing
 * list means all succeeded; an identifier that is empty or not in the batch fails the whole batch.
 */
function failedItems(payload: string, batch: StoredMessage[]): Set<string> | "wholeBatch" {
  let response: any;
  try {
    response = payload === "" ? null : JSON.parse(payload);
  } catch {
    return new Set();
  }
  const failures = response?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const ids = new Set(batch.map((message) => message.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== "string" || !ids.has(id)) return "wholeBatch";
    failed.add(id);
  }
  return failed;
}

/** One record of AWS's SQS event. https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event */
export function sqsRecord(message: StoredMessage, queueArn: string, region: string) {
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue.toString("base64") } : { stringValue: value.StringValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType,
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: message.senderId,
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
