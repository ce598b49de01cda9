/**
 * SQS's operations over requests in the JSON protocol's shape (the query protocol is translated to it in
 * wire.ts), answering with the JSON protocol's output shapes.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
 */
import type { ResourcePolicyReader } from "../common/access";
import { MessagingError, type MessageAttributeValue } from "../common/messaging";
import { checkAttributes, MAX_MESSAGE_BYTES, readAttributes } from "./attributes";
import {
  batchEntryIdsNotDistinct,
  batchRequestTooLong,
  emptyBatchRequest,
  invalidBatchEntryId,
  invalidParameterValue,
  messageNotInflight,
  missingParameter,
  purgeQueueInProgress,
  queueDoesNotExist,
  receiptHandleIsInvalid,
  tooManyEntriesInBatchRequest,
} from "./errors";
import { md5OfMessageAttributes } from "./md5";
import { checkQueuePolicy } from "./policy";
import { parseReceiptHandle, type Queue, type StoredMessage } from "./queue";
import { checkQueueName, type QueueRegistry } from "./queues";

type Input = Record<string, any>;

const SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId"] as const;

export class SqsApi {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly accountId: string,
    /** IAM's policy parser, for the Policy attribute (local/iam through local/common's contract). */
    private readonly readPolicy: ResourcePolicyReader,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs one operation; throws MessagingError for what AWS refuses. `signal` ends a long poll early. */
  async call(operation: string, input: Input, signal?: AbortSignal): Promise<Input> {
    switch (operation) {
      case "CreateQueue": {
        const name = requiredString(input, "QueueName");
        const attributes = input.Attributes ?? {};
        checkQueueName(name, attributes);
        const { Policy } = checkAttributes(attributes);
        if (Policy !== undefined) checkQueuePolicy(Policy, name, this.readPolicy, this.log);
        return { QueueUrl: this.queues.create(name, attributes).url };
      }
      case "GetQueueUrl": {
        const queue = this.queues.byQueueName(requiredString(input, "QueueName"));
        if (!queue || (input.QueueOwnerAWSAccountId !== undefined && input.QueueOwnerAWSAccountId !== this.accountId))
          throw queueDoesNotExist();
        return { QueueUrl: queue.url };
      }
      case "ListQueues":
        return this.listQueues(input);
      case "DeleteQueue":
        this.queues.delete(this.queues.byUrl(input.QueueUrl));
        return {};
      case "GetQueueAttributes":
        return { Attributes: readAttributes(this.queues.byUrl(input.QueueUrl), stringList(input.AttributeNames ?? [])) };
      case "SetQueueAttributes": {
        const queue = this.queues.byUrl(input.QueueUrl);
        const checked = checkAttributes(input.Attributes ?? {});
        if (checked.Policy !== undefined) checkQueuePolicy(checked.Policy, queue.name, this.readPolicy, this.log);
        for (const [name, value] of Object.entries(checked)) queue.attributes.set(name, value);
        queue.lastModifiedTimestamp = this.now();
        this.queues.changed(queue);
        return {};
      }
      case "PurgeQueue": {
        const queue = this.queues.byUrl(input.QueueUrl);
        if (this.now() - queue.lastPurgeTimestamp < 60_000) throw purgeQueueInProgress(queue.url);
        queue.purge();
        return {};
      }
      case "SendMessage":
        return this.queues.sendMessage({
          QueueUrl: input.QueueUrl,
          MessageBody: input.MessageBody,
          DelaySeconds: input.DelaySeconds === undefined ? undefined : integer(input.DelaySeconds, "DelaySeconds", 0, 900),
          MessageAttributes: messageAttributes(input.MessageAttributes),
        });
      case "SendMessageBatch":
        return this.sendMessageBatch(input);
      case "ReceiveMessage":
        return this.receiveMessage(input, signal);
      case "DeleteMessage": {
        const queue = this.queues.byUrl(input.QueueUrl);
        queue.delete(messageIdOf(queue, requiredString(input, "ReceiptHandle")));
        return {};
      }
      case "DeleteMessageBatch":
        return this.batch(input, (queue, entry) => {
          queue.delete(messageIdOf(queue, requiredString(entry, "ReceiptHandle")));
          return {};
        });
      case "ChangeMessageVisibility": {
        const queue = this.queues.byUrl(input.QueueUrl);
        changeVisibility(queue, input);
        return {};
      }
      case "ChangeMessageVisibilityBatch":
        return this.batch(input, (queue, entry) => {
          changeVisibility(queue, entry);
          return {};
        });
      default:
        throw new MessagingError("InvalidAction", `The action ${operation} is not valid for this endpoint.`, "InvalidAction");
    }
  }

  private listQueues(input: Input): Input {
    const prefix = typeof input.QueueNamePrefix === "string" ? input.QueueNamePrefix : "";
    const names = this.queues.all
      .map((queue) => queue.name)
      .filter((name) => name.startsWith(prefix))
      .sort();
    const max = input.MaxResults === undefined ? 1000 : integer(input.MaxResults, "MaxResults", 1, 1000);
    const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), "base64").toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalidParameterValue("Invalid NextToken value.");
    const page = names.slice(start, start + max);
    const more = input.MaxResults !== undefined && start + max < names.length;
    const output: Input = {};
    if (page.length > 0) output.QueueUrls = page.map((name) => this.queues.urlFor(name));
    if (more) output.NextToken = Buffer.from(String(start + max)).toString("base64");
    return output;
  }

  private sendMessageBatch(input: Input): Promise<Input> {
    const entries = batchEntries(input);
    const total = entries.reduce((sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? "")), 0);
    if (total > MAX_MESSAGE_BYTES) throw batchRequestTooLong(MAX_MESSAGE_BYTES);
    return this.batch(input, (_queue, entry) => {
      const { MessageId, MD5OfMessageBody, MD5OfMessageAttributes } = this.queues.sendMessage({
        QueueUrl: input.QueueUrl,
        MessageBody: entry.MessageBody,
        DelaySeconds: entry.DelaySeconds === undefined ? undefined : integer(entry.DelaySeconds, "DelaySeconds", 0, 900),
        MessageAttributes: messageAttributes(entry.MessageAttributes),
      });
      return { MessageId, MD5OfMessageBody, MD5OfMessageAttributes };
    });
  }

  /** A batch operation: entries checked as a whole first, then each succeeds or fails on its own. */
  private async batch(input: Input, run: (queue: Queue, entry: Input) => Input): Promise<Input> {
    const queue = this.queues.byUrl(input.QueueUrl);
    const entries = batchEntries(input);
    const successful: Input[] = [];
    const failed: Input[] = [];
    for (const entry of entries) {
      try {
        successful.push({ Id: entry.Id, ...run(queue, entry) });
      } catch (error) {
        if (!(error instanceof MessagingError)) throw error;
        failed.push({ Id: entry.Id, SenderFault: error.fault === "Sender", Code: error.queryCode, Message: error.message });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  private async receiveMessage(input: Input, signal?: AbortSignal): Promise<Input> {
    const queue = this.queues.byUrl(input.QueueUrl);
    const max = input.MaxNumberOfMessages === undefined ? 1 : integer(input.MaxNumberOfMessages, "MaxNumberOfMessages", 1, 10);
    const visibility =
      input.VisibilityTimeout === undefined
        ? queue.numberAttribute("VisibilityTimeout")
        : integer(input.VisibilityTimeout, "VisibilityTimeout", 0, 43_200);
    const waitSeconds =
      input.WaitTimeSeconds === undefined
        ? queue.numberAttribute("ReceiveMessageWaitTimeSeconds")
        : integer(input.WaitTimeSeconds, "WaitTimeSeconds", 0, 20);
    const systemNames = [...stringList(input.AttributeNames ?? []), ...stringList(input.MessageSystemAttributeNames ?? [])];
    const attributeNames = stringList(input.MessageAttributeNames ?? []);
    const deadline = this.now() + waitSeconds * 1000;
    let received = queue.receive(max, visibility);
    // Long polling: answer as soon as there is at least one message, or when the wait time is up.
    while (received.length === 0 && this.now() < deadline && !signal?.aborted && this.queues.byQueueName(queue.name) === queue) {
      await queue.waitForMessages(deadline, signal);
      received = queue.receive(max, visibility);
    }
    if (received.length === 0) return {};
    return { Messages: received.map((message) => messageOutput(message, systemNames, attributeNames)) };
  }
}

function messageOutput(message: StoredMessage, systemNames: string[], attributeNames: string[]): Input {
  const output: Input = {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
  };
  const system: Record<string, string> = {
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
    SentTimestamp: String(message.sentTimestamp),
    SenderId: message.senderId,
  };
  const attributes: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) if (systemNames.includes("All") || systemNames.includes(name)) attributes[name] = system[name];
  if (Object.keys(attributes).length > 0) output.Attributes = attributes;
  const selected = selectMessageAttributes(message.messageAttributes, attributeNames);
  if (selected) {
    output.MD5OfMessageAttributes = md5OfMessageAttributes(selected);
    output.MessageAttributes = Object.fromEntries(
      Object.entries(selected).map(([name, value]) => [
        name,
        value.BinaryValue !== undefined
          ? { DataType: value.DataType, BinaryValue: value.BinaryValue }
          : { DataType: value.DataType, StringValue: value.StringValue },
      ]),
    );
  }
  return output;
}

/** `All` or `.*`, exact names, and `prefix.*` select message attributes, as ReceiveMessage documents. */
function selectMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined, names: string[]) {
  if (!attributes || names.length === 0) return undefined;
  const wanted = (name: string) =>
    names.some(
      (pattern) =>
        pattern === "All" || pattern === ".*" || pattern === name || (pattern.endsWith(".*") && name.startsWith(pattern.slice(0, -1))),
    );
  const selected = Object.fromEntries(Object.entries(attributes).filter(([name]) => wanted(name)));
  return Object.keys(selected).length > 0 ? selected : undefined;
}

function changeVisibility(queue: Queue, entry: Input): void {
  const handle = requiredString(entry, "ReceiptHandle");
  const seconds = integer(entry.VisibilityTimeout, "VisibilityTimeout", 0, 43_200);
  if (!queue.changeVisibility(messageIdOf(queue, handle), handle, seconds)) throw messageNotInflight();
}

function messageIdOf(queue: Queue, handle: string): string {
  const parsed = parseReceiptHandle(handle);
  if (!parsed || parsed.queueName !== queue.name) throw receiptHandleIsInvalid(handle);
  return parsed.messageId;
}

function batchEntries(input: Input): Input[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw emptyBatchRequest();
  if (entries.length > 10) throw tooManyEntriesInBatchRequest(entries.length);
  const ids = new Set<string>();
  for (const entry of entries) {
    if (typeof entry?.Id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(entry.Id)) throw invalidBatchEntryId();
    if (ids.has(entry.Id)) throw batchEntryIdsNotDistinct(entry.Id);
    ids.add(entry.Id);
  }
  return entries;
}

/** Message attributes from the wire: BinaryValue arrives base64-encoded in both protocols. */
export function messageAttributes(value: unknown): Record<string, MessageAttributeValue> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw invalidParameterValue("MessageAttributes must be a map of name to attribute value.");
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of Object.entries(value as Record<string, any>)) {
    attributes[name] = {
      DataType: raw?.DataType,
      StringValue: raw?.StringValue,
      BinaryValue: typeof raw?.BinaryValue === "string" ? Buffer.from(raw.BinaryValue, "base64") : undefined,
    };
  }
  return attributes;
}

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") throw missingParameter(name);
  return value;
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw invalidParameterValue("Expected a list of strings.");
  return value;
}

/** Whole numbers arrive as JSON numbers or, in the query protocol, as strings. */
function integer(value: unknown, name: string, min: number, max: number): number {
  const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
    throw invalidParameterValue(
      `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}.`,
    );
  }
  return number;
}
