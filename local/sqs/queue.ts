/**
 * One standard queue: its messages, each visible, delayed or in flight, and the receivers waiting for one
 * (long polling). Delivery is at least once, as on AWS: a received message that is not deleted before its
 * visibility timeout ends becomes visible again, and after the redrive policy's `maxReceiveCount` receives
 * it moves to the dead-letter queue instead of being received again.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { MessageAttributeValue } from "../common/messaging";
import { md5Hex } from "./md5";

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  sentTimestamp: number;
  senderId: string;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** When it may next be received (delay or visibility timeout). */
  visibleAt: number;
  /** The handle of its latest receive (the only one ChangeMessageVisibility accepts). */
  receiptHandle?: string;
}

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** Queue attributes as the API names them; values are the API's strings. */
export type QueueAttributes = Map<string, string>;

/** Told of every change to a queue's messages, so they can be kept across restarts (persistence.ts). */
export interface MessageJournal {
  saved(queue: Queue, message: StoredMessage): void;
  removed(queue: Queue, messageId: string): void;
  cleared(queue: Queue): void;
}

const NO_JOURNAL: MessageJournal = { saved() {}, removed() {}, cleared() {} };

export class Queue {
  /** In send order; Map keeps insertion order, so a scan serves the oldest first. */
  private readonly messages = new Map<string, StoredMessage>();
  private readonly waiters = new Set<() => void>();
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  lastPurgeTimestamp = -Infinity;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    readonly attributes: QueueAttributes,
    private readonly now: () => number,
    /** Moves a message whose receives reached maxReceiveCount; false when the dead-letter queue does not exist. */
    private readonly deadLetter: (targetArn: string, message: StoredMessage) => boolean,
    private readonly journal: MessageJournal = NO_JOURNAL,
  ) {
    this.createdTimestamp = this.lastModifiedTimestamp = now();
  }

  numberAttribute(name: string): number {
    return Number(this.attributes.get(name));
  }

  get redrivePolicy(): RedrivePolicy | undefined {
    const text = this.attributes.get("RedrivePolicy");
    return text ? (JSON.parse(text) as RedrivePolicy) : undefined;
  }

  /** Stores a new message (or one moved here from another queue, keeping its id and send time). */
  add(message: Omit<StoredMessage, "md5OfBody" | "receiveCount" | "visibleAt">, delaySeconds: number): StoredMessage {
    const stored: StoredMessage = {
      ...message,
      md5OfBody: md5Hex(message.body),
      receiveCount: 0,
      visibleAt: this.now() + delaySeconds * 1000,
    };
    this.messages.set(stored.messageId, stored);
    this.journal.saved(this, stored);
    if (delaySeconds === 0) this.wake();
    return stored;
  }

  /** Puts back a message kept across a restart, as it was (receive count, deadlines, receipt handle). */
  restore(message: StoredMessage): void {
    this.messages.set(message.messageId, message);
  }

  static newMessageId(): string {
    return randomUUID();
  }

  /** Takes up to `max` visible messages, making each invisible for `visibilitySeconds`. */
  receive(max: number, visibilitySeconds: number): StoredMessage[] {
    const now = this.now();
    const retentionMs = this.numberAttribute("MessageRetentionPeriod") * 1000;
    const redrive = this.redrivePolicy;
    const received: StoredMessage[] = [];
    for (const message of this.messages.values()) {
      if (received.length >= max) break;
      if (now - message.sentTimestamp >= retentionMs) {
        this.remove(message.messageId);
        continue;
      }
      if (message.visibleAt > now) continue;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount && this.deadLetter(redrive.deadLetterTargetArn, message)) {
        this.remove(message.messageId);
        continue;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receiptHandle = newReceiptHandle(this.name, message.messageId);
      this.journal.saved(this, message);
      received.push(message);
    }
    return received;
  }

  /** Deletes by receipt handle; an unknown message is already gone (AWS answers success). */
  delete(messageId: string): void {
    this.remove(messageId);
  }

  private remove(messageId: string): void {
    if (this.messages.delete(messageId)) this.journal.removed(this, messageId);
  }

  /** Sets a received message's remaining visibility; false when it is not in flight under this handle. */
  changeVisibility(messageId: string, receiptHandle: string, visibilitySeconds: number): boolean {
    const message = this.messages.get(messageId);
    if (!message || message.receiptHandle !== receiptHandle || message.visibleAt <= this.now()) return false;
    message.visibleAt = this.now() + visibilitySeconds * 1000;
    this.journal.saved(this, message);
    if (visibilitySeconds === 0) this.wake();
    return true;
  }

  purge(): void {
    this.messages.clear();
    this.journal.cleared(this);
    this.lastPurgeTimestamp = this.now();
  }

  counts(): { visible: number; inFlight: number; delayed: number } {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) visible++;
      else if (message.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /**
   * Resolves when a message may have become receivable (a send, a visibility change, a delay or visibility
   * timeout ending) or at `deadline`, whichever is first.
   */
  waitForMessages(deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const now = this.now();
      let wakeAt = deadline;
      for (const message of this.messages.values()) if (message.visibleAt > now && message.visibleAt < wakeAt) wakeAt = message.visibleAt;
      const done = () => {
        this.waiters.delete(done);
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wakeAt - now));
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Ends every long poll at once (the queue was deleted or the runtime is closing). */
  releaseWaiters(): void {
    this.wake();
  }
}

/** Opaque to clients; carries the message id so a delete needs no lookup table, and a nonce per receive. */
function newReceiptHandle(queueName: string, messageId: string): string {
  return Buffer.from(`${queueName} ${messageId} ${randomBytes(12).toString("hex")}`).toString("base64");
}

export function parseReceiptHandle(handle: string): { queueName: string; messageId: string } | undefined {
  const parts = Buffer.from(handle, "base64").toString("utf8").split(" ");
  if (parts.length !== 3 || !/^[0-9a-f-]{36}$/.test(parts[1])) return undefined;
  return { queueName: parts[0], messageId: parts[1] };
}
