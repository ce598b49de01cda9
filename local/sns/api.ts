/**
 * SNS's operations over requests in the shapes of its API reference (the query form is translated in
 * wire.ts). Publish answers once the message is accepted; delivery to each subscription follows.
 * https://docs.aws.amazon.com/sns/latest/api/API_Operations.html
 */
import { randomUUID } from "node:crypto";
import { MessagingError, type MessageAttributeValue, type PublishRequest, type TopicPublisher } from "../common/messaging";
import type { ResourcePolicyReader } from "../common/access";
import type { Deliverer } from "./delivery";
import {
  batchEntryIdsNotDistinct,
  batchRequestTooLong,
  emptyBatchRequest,
  invalidAction,
  invalidBatchEntryId,
  invalidParameter,
  notEmulated,
  tooManyEntriesInBatchRequest,
} from "./errors";
import { passesFilter } from "./filterPolicy";
import { checkTopicPolicy } from "./policy";
import { checkTopicName, type Subscription, type Topic, type TopicRegistry } from "./topics";

type Input = Record<string, any>;

export const MAX_MESSAGE_BYTES = 262_144;
const PAGE_SIZE = 100;
/** Attempts per delivery before it is reported as failed (AWS's retry policies are longer; locally failures are bugs to see). */
const DELIVERY_ATTEMPTS = 3;

export class SnsApi implements TopicPublisher {
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly topics: TopicRegistry,
    private readonly deliverer: Deliverer,
    private readonly accountId: string,
    private readonly log: (line: string) => void,
    /** IAM's policy parser, for the Policy attribute (local/iam through local/common's contract). */
    private readonly readPolicy: ResourcePolicyReader,
    private readonly retryDelayMs = 1000,
  ) {}

  async call(action: string, input: Input): Promise<Input> {
    switch (action) {
      case "CreateTopic": {
        const attributes = stringMap(input.Attributes);
        checkTopicName(input.Name, attributes);
        if (attributes.Policy !== undefined) checkTopicPolicy(attributes.Policy, input.Name, this.readPolicy, this.log);
        return { TopicArn: this.topics.create(input.Name, attributes).arn };
      }
      case "DeleteTopic":
        this.topics.delete(input.TopicArn);
        return {};
      case "ListTopics":
        return page(
          this.topics.all.map((topic) => ({ TopicArn: topic.arn })),
          input.NextToken,
          "Topics",
        );
      case "GetTopicAttributes":
        return { Attributes: this.topicAttributes(this.topics.get(input.TopicArn)) };
      case "SetTopicAttributes": {
        const topic = this.topics.get(input.TopicArn);
        if (input.AttributeName === "Policy") checkTopicPolicy(String(input.AttributeValue ?? ""), topic.name, this.readPolicy, this.log);
        this.topics.setTopicAttribute(topic, input.AttributeName, input.AttributeValue);
        return {};
      }
      case "Subscribe": {
        const subscription = this.topics.subscribe(
          this.topics.get(input.TopicArn),
          input.Protocol,
          input.Endpoint,
          stringMap(input.Attributes),
        );
        return { SubscriptionArn: subscription.arn };
      }
      case "Unsubscribe":
        this.topics.unsubscribe(input.SubscriptionArn);
        return {};
      case "ListSubscriptions":
        return page(
          this.topics.all.flatMap((topic) => [...topic.subscriptions.values()].map((s) => this.describe(s))),
          input.NextToken,
          "Subscriptions",
        );
      case "ListSubscriptionsByTopic": {
        const topic = this.topics.get(input.TopicArn);
        return page(
          [...topic.subscriptions.values()].map((s) => this.describe(s)),
          input.NextToken,
          "Subscriptions",
        );
      }
      case "GetSubscriptionAttributes": {
        const subscription = this.topics.subscription(input.SubscriptionArn);
        return {
          Attributes: {
            ...Object.fromEntries(subscription.attributes),
            SubscriptionArn: subscription.arn,
            TopicArn: subscription.topicArn,
            Protocol: subscription.protocol,
            Endpoint: subscription.endpoint,
            Owner: this.accountId,
            PendingConfirmation: "false",
            ConfirmationWasAuthenticated: "true",
          },
        };
      }
      case "SetSubscriptionAttributes":
        this.topics.setSubscriptionAttribute(this.topics.subscription(input.SubscriptionArn), input.AttributeName, input.AttributeValue);
        return {};
      case "Publish":
        if (input.TopicArn === undefined && (input.TargetArn !== undefined || input.PhoneNumber !== undefined)) {
          throw notEmulated("Publishing to a TargetArn or PhoneNumber");
        }
        return this.publish(input as PublishRequest);
      case "PublishBatch":
        return this.publishBatch(input);
      default:
        throw invalidAction(action);
    }
  }

  /** Publish: checked now, delivered to every subscription whose filter it passes, afterwards. */
  async publish(request: PublishRequest): Promise<{ MessageId: string }> {
    const topic = this.topics.get(request.TopicArn);
    const messageAttributes = checkAttributes(request.MessageAttributes);
    const structured = checkMessage(request, messageAttributes);
    const messageId = randomUUID();
    const timestamp = new Date().toISOString();
    for (const subscription of topic.subscriptions.values()) {
      const message = structured ? (structured[subscription.protocol] ?? structured.default) : request.Message;
      const filter = subscription.attributes.get("FilterPolicy");
      if (!passesFilter(filter, subscription.attributes.get("FilterPolicyScope"), messageAttributes, message)) continue;
      const published = { messageId, topicArn: topic.arn, message, subject: request.Subject, timestamp, messageAttributes };
      const delivery = this.deliverWithRetries(subscription, published);
      this.deliveries.add(delivery);
      void delivery.finally(() => this.deliveries.delete(delivery));
    }
    return { MessageId: messageId };
  }

  private async publishBatch(input: Input): Promise<Input> {
    const topic = this.topics.get(input.TopicArn);
    const entries = input.PublishBatchRequestEntries;
    if (!Array.isArray(entries) || entries.length === 0) throw emptyBatchRequest();
    if (entries.length > 10) throw tooManyEntriesInBatchRequest();
    const ids = new Set<string>();
    let total = 0;
    for (const entry of entries) {
      if (typeof entry?.Id !== "string" || !/^[\w-]{1,80}$/.test(entry.Id)) throw invalidBatchEntryId();
      if (ids.has(entry.Id)) throw batchEntryIdsNotDistinct();
      ids.add(entry.Id);
      total += Buffer.byteLength(String(entry.Message ?? ""));
    }
    if (total > MAX_MESSAGE_BYTES) throw batchRequestTooLong();
    const successful: Input[] = [];
    const failed: Input[] = [];
    for (const entry of entries) {
      try {
        const { MessageId } = await this.publish({ ...entry, TopicArn: topic.arn });
        successful.push({ Id: entry.Id, MessageId });
      } catch (error) {
        if (!(error instanceof MessagingError)) throw error;
        failed.push({ Id: entry.Id, Code: error.queryCode, Message: error.message, SenderFault: error.fault === "Sender" });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  private async deliverWithRetries(subscription: Subscription, published: Parameters<Deliverer["deliver"]>[1]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deliverer.deliver(subscription, published);
      } catch (error) {
        const reason = (error as Error)?.message ?? String(error);
        // A refusal (the queue's or function's policy does not let SNS in) is not retried by SNS: it is final.
        const refused = (error as Error)?.name === "AccessDenied" || (error as Error)?.name === "AccessDeniedException";
        if (refused) {
          this.log(
            `delivery of ${published.messageId} to ${subscription.protocol}:${subscription.endpoint} FAILED: ${(error as Error).name} (${reason}); SNS does not retry a refused delivery`,
          );
          return;
        }
        if (attempt >= DELIVERY_ATTEMPTS) {
          this.log(
            `delivery of ${published.messageId} to ${subscription.protocol}:${subscription.endpoint} FAILED after ${attempt} attempts: ${reason}`,
          );
          return;
        }
        this.log(`delivery of ${published.messageId} to ${subscription.protocol}:${subscription.endpoint} failed (${reason}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
  }

  /** Resolves when every delivery started so far has ended. */
  async settled(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private describe(subscription: Subscription): Input {
    return {
      SubscriptionArn: subscription.arn,
      Owner: this.accountId,
      Protocol: subscription.protocol,
      Endpoint: subscription.endpoint,
      TopicArn: subscription.topicArn,
    };
  }

  private topicAttributes(topic: Topic): Record<string, string> {
    return {
      ...Object.fromEntries(topic.attributes),
      TopicArn: topic.arn,
      Owner: this.accountId,
      DisplayName: topic.attributes.get("DisplayName") ?? "",
      SubscriptionsConfirmed: String(topic.subscriptions.size),
      SubscriptionsPending: "0",
      SubscriptionsDeleted: "0",
    };
  }
}

/** A list page of 100, with the position of the next page as its token. */
function page(items: Input[], token: unknown, key: string): Input {
  const start = token === undefined ? 0 : Number(Buffer.from(String(token), "base64").toString());
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("NextToken");
  const output: Input = { [key]: items.slice(start, start + PAGE_SIZE) };
  if (start + PAGE_SIZE < items.length) output.NextToken = Buffer.from(String(start + PAGE_SIZE)).toString("base64");
  return output;
}

function stringMap(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value)) throw invalidParameter("Attributes");
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

function checkAttributes(attributes: unknown): Record<string, MessageAttributeValue> {
  if (attributes === undefined) return {};
  if (!attributes || typeof attributes !== "object") throw invalidParameter("MessageAttributes");
  const checked: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of Object.entries(attributes as Record<string, any>)) {
    const type = raw?.DataType;
    if (typeof type !== "string" || !/^(String|String\.Array|Number|Binary)(\..+)?$/.test(type)) {
      throw invalidParameter(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    const binary = raw.BinaryValue;
    const value: MessageAttributeValue = {
      DataType: type,
      StringValue: raw.StringValue,
      BinaryValue: binary === undefined ? undefined : Buffer.isBuffer(binary) ? binary : Buffer.from(String(binary), "base64"),
    };
    if (type.startsWith("Binary") ? !value.BinaryValue : typeof value.StringValue !== "string") {
      throw invalidParameter(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
      );
    }
    checked[name] = value;
  }
  return checked;
}

/** Message, Subject and MessageStructure as Publish checks them; returns the per-protocol messages of a `json` structure. */
function checkMessage(request: PublishRequest, attributes: Record<string, MessageAttributeValue>): Record<string, string> | undefined {
  if (typeof request.Message !== "string" || request.Message === "") throw invalidParameter("Empty message");
  let size = Buffer.byteLength(request.Message);
  for (const [name, attribute] of Object.entries(attributes)) {
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(attribute.DataType) +
      (attribute.BinaryValue?.length ?? Buffer.byteLength(attribute.StringValue ?? ""));
  }
  if (size > MAX_MESSAGE_BYTES) throw invalidParameter("Message too long");
  if (request.Subject !== undefined && (typeof request.Subject !== "string" || !/^[\x20-\x7E]{1,100}$/.test(request.Subject))) {
    throw invalidParameter("Subject");
  }
  if (request.MessageStructure === undefined) return undefined;
  if (request.MessageStructure !== "json") throw invalidParameter("MessageStructure");
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.Message);
  } catch {
    throw invalidParameter("Message Structure - JSON message body failed to parse");
  }
  const structure = parsed as Record<string, unknown>;
  if (!structure || typeof structure !== "object" || typeof structure.default !== "string") {
    throw invalidParameter("Message Structure - No default entry in JSON message body");
  }
  return Object.fromEntries(Object.entries(structure).filter(([, value]) => typeof value === "string")) as Record<string, string>;
}
