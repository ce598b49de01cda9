/**
 * SQS state in the runtime's store: queues created through the API (declared ones come from the program at
 * every start) and every queue's messages, each with its body, attributes, send time, receive count, receipt
 * handle and visibility deadline as an absolute time. So after a restart a message that was in flight becomes
 * visible at the deadline it had, with its receive count kept (and the dead-letter redrive counting on from it),
 * and a receipt handle given out before the restart still deletes its message.
 */
import type { MessageAttributeValue } from "../common/messaging";
import type { StateStore, StoreCollection } from "../common/store";
import type { MessageJournal, Queue, StoredMessage } from "./queue";

export interface KeptQueue {
  /** Declared by the program (provisioned again at each start) or created through the API (restored from here). */
  declared: boolean;
  attributes: Record<string, string>;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
}

/** A message as JSON: binary attribute values as base64 (a Buffer does not survive JSON). */
interface KeptMessage extends Omit<StoredMessage, "messageAttributes"> {
  messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

const messageKey = (queueName: string, messageId: string) => `${queueName}\u0001${messageId}`;

export class SqsPersistence implements MessageJournal {
  private readonly queues: StoreCollection<KeptQueue>;
  private readonly messages: StoreCollection<KeptMessage>;

  constructor(store: StateStore) {
    this.queues = store.collection("sqs.queues");
    this.messages = store.collection("sqs.messages");
  }

  saveQueue(queue: Queue, declared: boolean): void {
    this.queues.put(queue.name, {
      declared,
      attributes: Object.fromEntries(queue.attributes),
      createdTimestamp: queue.createdTimestamp,
      lastModifiedTimestamp: queue.lastModifiedTimestamp,
    });
  }

  /** Keeps an API queue's changed attributes; a declared queue's come from the program at the next start. */
  queueChanged(queue: Queue): void {
    const kept = this.queues.get(queue.name);
    this.saveQueue(queue, kept?.declared ?? false);
  }

  deleteQueue(name: string): void {
    this.queues.delete(name);
    this.messages.deletePrefix(`${name}\u0001`);
  }

  keptQueues(): Array<[name: string, queue: KeptQueue]> {
    return this.queues.entries();
  }

  /** A queue's kept messages, oldest sent first (standard queues order on a best-effort basis, as on AWS). */
  keptMessages(queueName: string): StoredMessage[] {
    return this.messages
      .entries(`${queueName}\u0001`)
      .map(([, kept]) => fromKept(kept))
      .sort((a, b) => a.sentTimestamp - b.sentTimestamp);
  }

  saved(queue: Queue, message: StoredMessage): void {
    this.messages.put(messageKey(queue.name, message.messageId), toKept(message));
  }

  removed(queue: Queue, messageId: string): void {
    this.messages.delete(messageKey(queue.name, messageId));
  }

  cleared(queue: Queue): void {
    this.messages.deletePrefix(`${queue.name}\u0001`);
  }
}

function toKept(message: StoredMessage): KeptMessage {
  const { messageAttributes, ...rest } = message;
  if (!messageAttributes) return { ...rest };
  const attributes: KeptMessage["messageAttributes"] = {};
  for (const [name, value] of Object.entries(messageAttributes)) {
    attributes[name] = {
      DataType: value.DataType,
      StringValue: value.StringValue,
      BinaryValue: value.BinaryValue === undefined ? undefined : Buffer.from(value.BinaryValue).toString("base64"),
    };
  }
  return { ...rest, messageAttributes: attributes };
}

function fromKept(kept: KeptMessage): StoredMessage {
  const { messageAttributes, ...rest } = kept;
  if (!messageAttributes) return { ...rest };
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(messageAttributes)) {
    attributes[name] = {
      DataType: value.DataType,
      StringValue: value.StringValue ?? undefined,
      BinaryValue: typeof value.BinaryValue === "string" ? Buffer.from(value.BinaryValue, "base64") : undefined,
    };
  }
  return { ...rest, messageAttributes: attributes };
}
