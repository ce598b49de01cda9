/**
 * Every local queue, found by name, URL or ARN; and sending, which the API, SNS delivery and Step Functions
 * share, so a message is checked the same way whoever sends it.
 * Queue URLs live on the local origin (`<origin>/<account>/<name>`), so clients given a URL reach this runtime.
 */
import type { MessageAttributeValue, QueueSender, SendMessageRequest, SendMessageResult } from "../common/messaging";
import { checkAttributes, DEFAULT_ATTRIBUTES } from "./attributes";
import {
  fifoNotEmulated,
  invalidMessageContents,
  invalidParameterValue,
  messageTooLong,
  missingParameter,
  queueDoesNotExist,
  queueNameExists,
} from "./errors";
import { md5OfMessageAttributes } from "./md5";
import type { SqsPersistence } from "./persistence";
import { Queue, type StoredMessage } from "./queue";

/** Characters SQS accepts in a body or string attribute (XML 1.0's). */
// eslint-disable-next-line no-control-regex -- tab, LF and CR, which SQS allows, are control characters by definition
const INVALID_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export class QueueRegistry implements QueueSender {
  private readonly byName = new Map<string, Queue>();

  constructor(
    private readonly origin: string,
    private readonly region: string,
    private readonly accountId: string,
    private readonly now: () => number = Date.now,
    /** Where queues and messages are kept across restarts; absent: memory only. */
    private readonly persistence?: SqsPersistence,
  ) {}

  urlFor(name: string): string {
    return `${this.origin}/${this.accountId}/${name}`;
  }

  arnFor(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  get all(): Queue[] {
    return [...this.byName.values()];
  }

  /**
   * CreateQueue: idempotent for the same attributes, QueueNameExists for different ones. `declared`: the
   * program declares it (it is provisioned again at every start, so only its messages are restored).
   */
  create(name: string, attributes: Record<string, unknown> = {}, declared = false): Queue {
    checkQueueName(name, attributes);
    const checked = checkAttributes(attributes);
    const existing = this.byName.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(checked)) if (existing.attributes.get(key) !== value) throw queueNameExists(key);
      return existing;
    }
    const queue = new Queue(
      name,
      this.urlFor(name),
      this.arnFor(name),
      new Map(Object.entries({ ...DEFAULT_ATTRIBUTES, ...checked })),
      this.now,
      (targetArn, message) => this.moveToDeadLetterQueue(targetArn, message),
      this.persistence,
    );
    this.byName.set(name, queue);
    this.persistence?.saveQueue(queue, declared);
    return queue;
  }

  /**
   * A changed declaration (watch mode): the attributes it sets take effect, those the previous one set and this
   * one does not go back to their defaults; messages stay.
   */
  update(queue: Queue, attributes: Record<string, unknown>, previouslySet: readonly string[]): void {
    if (String(attributes.FifoQueue) === "true") throw fifoNotEmulated(queue.name);
    const checked = checkAttributes(attributes);
    for (const name of previouslySet) {
      if (name in checked) continue;
      if (DEFAULT_ATTRIBUTES[name] !== undefined) queue.attributes.set(name, DEFAULT_ATTRIBUTES[name]);
      else queue.attributes.delete(name);
    }
    for (const [name, value] of Object.entries(checked)) queue.attributes.set(name, value);
    queue.lastModifiedTimestamp = this.now();
    this.changed(queue);
    // Receivers waiting under the old settings (a shorter long poll, a delay) look again.
    queue.releaseWaiters();
  }

  /** SetQueueAttributes (or a declared policy) changed the queue. */
  changed(queue: Queue): void {
    this.persistence?.queueChanged(queue);
  }

  delete(queue: Queue): void {
    this.byName.delete(queue.name);
    queue.purge();
    queue.releaseWaiters();
    this.persistence?.deleteQueue(queue.name);
  }

  /**
   * After provisioning: queues created through the API come back, and every queue gets its kept messages.
   * A kept queue the program no longer declares is not brought back; its messages are reported, not hidden.
   */
  restore(log: (line: string) => void): { queues: number; messages: number } {
    if (!this.persistence) return { queues: 0, messages: 0 };
    let queues = 0;
    let messages = 0;
    for (const [name, kept] of this.persistence.keptQueues()) {
      let queue = this.byName.get(name);
      if (!queue && kept.declared) {
        const dropped = this.persistence.keptMessages(name).length;
        log(`queue ${name} is no longer declared by the program: removed${dropped > 0 ? ` with its ${dropped} kept messages` : ""}`);
        this.persistence.deleteQueue(name);
        continue;
      }
      if (!queue) {
        queue = this.create(name, withoutDefaults(kept.attributes));
        queue.createdTimestamp = kept.createdTimestamp;
        queue.lastModifiedTimestamp = kept.lastModifiedTimestamp;
        this.changed(queue);
        queues++;
      }
      for (const message of this.persistence.keptMessages(name)) {
        queue.restore(message);
        messages++;
      }
      // Pollers already waiting (event source mappings start at provisioning) look again.
      queue.releaseWaiters();
    }
    return { queues, messages };
  }

  byQueueName(name: string): Queue | undefined {
    return this.byName.get(name);
  }

  /** Any host is accepted (localhost or 127.0.0.1, or an AWS-shaped URL): the path names the queue, as on AWS. */
  byUrl(url: unknown): Queue {
    if (typeof url !== "string" || url === "") throw missingParameter("QueueUrl");
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw queueDoesNotExist();
    }
    const [, account, name, ...rest] = path.split("/");
    const queue = account === this.accountId && rest.length === 0 ? this.byName.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  byArn(arn: string): Queue | undefined {
    const match = /^arn:aws[\w-]*:sqs:([\w-]+):(\d{12}):([\w.-]+)$/.exec(arn);
    if (!match || match[1] !== this.region || match[2] !== this.accountId) return undefined;
    return this.byName.get(match[3]);
  }

  sendMessage(request: SendMessageRequest, senderId = "AIDALOCALSENDER"): SendMessageResult {
    const queue = this.byUrl(request.QueueUrl);
    const delaySeconds = request.DelaySeconds ?? queue.numberAttribute("DelaySeconds");
    const stored = queue.add(
      {
        messageId: Queue.newMessageId(),
        body: checkBody(request.MessageBody, request.MessageAttributes, queue.numberAttribute("MaximumMessageSize")),
        messageAttributes:
          request.MessageAttributes && Object.keys(request.MessageAttributes).length > 0 ? request.MessageAttributes : undefined,
        sentTimestamp: this.now(),
        senderId,
      },
      checkDelay(delaySeconds),
    );
    return {
      MessageId: stored.messageId,
      MD5OfMessageBody: stored.md5OfBody,
      MD5OfMessageAttributes: stored.messageAttributes ? md5OfMessageAttributes(stored.messageAttributes) : undefined,
    };
  }

  /** A message whose receives reached maxReceiveCount: same id, body and send time in the dead-letter queue. */
  private moveToDeadLetterQueue(targetArn: string, message: StoredMessage): boolean {
    const target = this.byArn(targetArn);
    if (!target) return false;
    target.add(
      {
        messageId: message.messageId,
        body: message.body,
        messageAttributes: message.messageAttributes,
        sentTimestamp: message.sentTimestamp,
        senderId: message.senderId,
      },
      0,
    );
    return true;
  }
}

/** Kept attributes include the defaults filled in at creation; CreateQueue checks only what was given. */
function withoutDefaults(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attributes).filter(([name, value]) => (DEFAULT_ATTRIBUTES as Record<string, string>)[name] !== value),
  );
}

function checkDelay(value: unknown): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 900) {
    throw invalidParameterValue(`DelaySeconds must be an integer from 0 to 900, received '${value}'.`);
  }
  return seconds;
}

/** Body and attributes: present, valid characters, and together within the queue's MaximumMessageSize. */
function checkBody(body: unknown, attributes: Record<string, MessageAttributeValue> | undefined, maximumBytes: number): string {
  if (typeof body !== "string") throw missingParameter("MessageBody");
  if (body === "") throw invalidParameterValue("The message body must be between 1 and 262144 bytes long (received an empty body).");
  if (INVALID_CHARACTER.test(body)) throw invalidMessageContents();
  let size = Buffer.byteLength(body, "utf8");
  const entries = Object.entries(attributes ?? {});
  if (entries.length > 10)
    throw invalidParameterValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  for (const [name, attribute] of entries) {
    checkMessageAttribute(name, attribute);
    size += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType);
    size += attribute.BinaryValue ? attribute.BinaryValue.length : Buffer.byteLength(attribute.StringValue ?? "");
  }
  if (size > maximumBytes) throw messageTooLong(maximumBytes);
  return body;
}

function checkMessageAttribute(name: string, attribute: MessageAttributeValue): void {
  if (
    !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
    /^(aws\.|amazon\.)/i.test(name) ||
    name.startsWith(".") ||
    name.endsWith(".") ||
    name.includes("..")
  ) {
    throw invalidParameterValue(`Message attribute name '${name}' is invalid.`);
  }
  const type = attribute?.DataType;
  if (typeof type !== "string" || !/^(String|Number|Binary)(\..+)?$/.test(type)) {
    throw invalidParameterValue(
      `The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
    );
  }
  if (type.startsWith("Binary")) {
    if (!attribute.BinaryValue)
      throw invalidParameterValue(`Message attribute '${name}' must contain a non-empty binary value of type '${type}'.`);
  } else {
    if (typeof attribute.StringValue !== "string" || attribute.StringValue === "") {
      throw invalidParameterValue(
        `Message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`,
      );
    }
    if (INVALID_CHARACTER.test(attribute.StringValue)) throw invalidMessageContents();
    if (type.startsWith("Number") && !Number.isFinite(Number(attribute.StringValue))) {
      throw invalidParameterValue(`Can't cast the value of message attribute '${name}' to a number.`);
    }
  }
}

/** CreateQueue's name checks, made before any attribute's (a FIFO queue is refused by name: not emulated). */
export function checkQueueName(name: string, attributes: Record<string, unknown>): void {
  if (name.endsWith(".fifo") || String(attributes.FifoQueue) === "true") throw fifoNotEmulated(name);
  if (!QUEUE_NAME.test(name)) {
    throw invalidParameterValue(
      `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (received '${name}').`,
    );
  }
}
