/**
 * Topics and their subscriptions. Subscriptions are confirmed at once: there is no one to click AWS's
 * confirmation link locally (an email subscription on AWS stays "PendingConfirmation" until its recipient does).
 */
import { randomUUID } from "node:crypto";
import { invalidParameter, notEmulated, subscriptionNotFound, topicNotFound } from "./errors";
import type { SnsPersistence } from "./persistence";

export interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  /** RawMessageDelivery, FilterPolicy, FilterPolicyScope, ... as the API names them. */
  attributes: Map<string, string>;
}

export interface Topic {
  name: string;
  arn: string;
  attributes: Map<string, string>;
  subscriptions: Map<string, Subscription>;
}

const TOPIC_ARN = /^arn:aws[\w-]*:sns:([\w-]+):(\d{12}):([\w-]{1,256})$/;
const SUBSCRIPTION_ARN = /^(arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}):([0-9a-f-]{36})$/;
export const PROTOCOLS = ["lambda", "sqs", "http", "https", "email", "email-json"] as const;
const SETTABLE_SUBSCRIPTION_ATTRIBUTES = new Set([
  "RawMessageDelivery",
  "FilterPolicy",
  "FilterPolicyScope",
  "DeliveryPolicy",
  "RedrivePolicy",
  "SubscriptionRoleArn",
]);
const SETTABLE_TOPIC_ATTRIBUTES = new Set([
  "DisplayName",
  "Policy",
  "DeliveryPolicy",
  "KmsMasterKeyId",
  "TracingConfig",
  "SignatureVersion",
  "DataProtectionPolicy",
]);

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
    /** Where topics and subscriptions are kept across restarts; absent: memory only. */
    private readonly persistence?: SnsPersistence,
  ) {}

  get all(): Topic[] {
    return [...this.topics.values()];
  }

  /** `declared`: the program declares it (made again at every start, so not restored from the store). */
  create(name: unknown, attributes: Record<string, string> = {}, declared = false): Topic {
    checkTopicName(name, attributes);
    const arn = `arn:aws:sns:${this.region}:${this.accountId}:${name}`;
    const existing = this.topics.get(arn);
    if (existing) return existing;
    const topic: Topic = { name, arn, attributes: new Map(Object.entries(attributes)), subscriptions: new Map() };
    this.topics.set(arn, topic);
    this.persistence?.saveTopic(topic, declared);
    return topic;
  }

  /** The topic with this ARN, if there is one. */
  find(arn: string): Topic | undefined {
    return this.topics.get(arn);
  }

  /** InvalidParameter for a malformed ARN, NotFound for a well-formed one with no topic. */
  get(arn: unknown, parameter = "TopicArn"): Topic {
    const match = typeof arn === "string" ? TOPIC_ARN.exec(arn) : null;
    if (!match) throw invalidParameter(parameter);
    const topic = this.topics.get(arn as string);
    if (!topic) throw topicNotFound();
    return topic;
  }

  delete(arn: unknown): void {
    const topic = this.get(arn);
    this.topics.delete(topic.arn);
    this.persistence?.deleteTopic(topic);
  }

  setTopicAttribute(topic: Topic, name: unknown, value: unknown): void {
    if (typeof name !== "string" || !SETTABLE_TOPIC_ATTRIBUTES.has(name)) throw invalidParameter(`AttributeName`);
    topic.attributes.set(name, String(value ?? ""));
    this.persistence?.saveTopic(topic);
  }

  /** A declared attribute the program no longer sets (watch mode). */
  removeTopicAttribute(topic: Topic, name: string): void {
    if (topic.attributes.delete(name)) this.persistence?.saveTopic(topic);
  }

  /** Subscribe: the same protocol and endpoint on a topic is one subscription (AWS answers its ARN again). */
  subscribe(
    topic: Topic,
    protocol: unknown,
    endpoint: unknown,
    attributes: Record<string, string> = {},
    declaredArn?: string,
  ): Subscription {
    if (typeof protocol !== "string" || !(PROTOCOLS as readonly string[]).includes(protocol)) {
      throw typeof protocol === "string" && protocol !== "" ? notEmulated(`Protocol ${protocol}`) : invalidParameter("Protocol");
    }
    if (typeof endpoint !== "string" || endpoint === "") throw invalidParameter("Endpoint");
    checkEndpoint(protocol, endpoint);
    for (const [key, value] of Object.entries(attributes)) checkSubscriptionAttribute(key, value);
    for (const existing of topic.subscriptions.values())
      if (existing.protocol === protocol && existing.endpoint === endpoint) return existing;
    const subscription: Subscription = {
      // A declared subscription keeps the ARN the program's outputs already name.
      arn: declaredArn && SUBSCRIPTION_ARN.exec(declaredArn)?.[1] === topic.arn ? declaredArn : `${topic.arn}:${randomUUID()}`,
      topicArn: topic.arn,
      protocol,
      endpoint,
      attributes: new Map(Object.entries(attributes)),
    };
    topic.subscriptions.set(subscription.arn, subscription);
    this.persistence?.saveSubscription(subscription, declaredArn !== undefined);
    return subscription;
  }

  subscription(arn: unknown): Subscription {
    const match = typeof arn === "string" ? SUBSCRIPTION_ARN.exec(arn) : null;
    if (!match) throw invalidParameter("SubscriptionArn");
    const subscription = this.topics.get(match[1])?.subscriptions.get(arn as string);
    if (!subscription) throw subscriptionNotFound();
    return subscription;
  }

  unsubscribe(arn: unknown): void {
    const subscription = this.subscription(arn);
    this.topics.get(subscription.topicArn)?.subscriptions.delete(subscription.arn);
    this.persistence?.deleteSubscription(subscription.arn);
  }

  setSubscriptionAttribute(subscription: Subscription, name: unknown, value: unknown): void {
    if (typeof name !== "string") throw invalidParameter("AttributeName");
    const text = String(value ?? "");
    checkSubscriptionAttribute(name, text);
    subscription.attributes.set(name, text);
    this.persistence?.saveSubscription(subscription);
  }

  /**
   * After provisioning: topics and subscriptions made through the API come back (with their ARNs); kept ones
   * the program declared but no longer does are removed, and said so.
   */
  restore(log: (line: string) => void): { topics: number; subscriptions: number } {
    if (!this.persistence) return { topics: 0, subscriptions: 0 };
    let topics = 0;
    let subscriptions = 0;
    for (const [arn, kept] of this.persistence.keptTopics()) {
      if (this.topics.has(arn)) continue;
      if (kept.declared) {
        log(`topic ${kept.name} is no longer declared by the program: removed with its subscriptions`);
        this.persistence.deleteTopic({ name: kept.name, arn, attributes: new Map(), subscriptions: new Map() });
        continue;
      }
      const topic: Topic = { name: kept.name, arn, attributes: new Map(Object.entries(kept.attributes)), subscriptions: new Map() };
      this.topics.set(arn, topic);
      topics++;
    }
    for (const [arn, kept] of this.persistence.keptSubscriptions()) {
      const topic = this.topics.get(kept.topicArn);
      if (!topic || topic.subscriptions.has(arn)) continue;
      if (kept.declared) {
        log(`subscription ${arn} (${kept.protocol} ${kept.endpoint}) is no longer declared by the program: removed`);
        this.persistence.deleteSubscription(arn);
        continue;
      }
      const attributes = new Map(Object.entries(kept.attributes));
      topic.subscriptions.set(arn, { arn, topicArn: topic.arn, protocol: kept.protocol, endpoint: kept.endpoint, attributes });
      subscriptions++;
    }
    return { topics, subscriptions };
  }
}

function checkSubscriptionAttribute(name: string, value: string): void {
  if (!SETTABLE_SUBSCRIPTION_ATTRIBUTES.has(name)) throw invalidParameter(`AttributeName: ${name}`);
  if (name === "RawMessageDelivery" && !/^(true|false)$/i.test(value))
    throw invalidParameter("Attributes Reason: RawMessageDelivery: Invalid value [" + value + "]. Must be true or false.");
  if (name === "FilterPolicy" && value !== "") {
    try {
      const policy = JSON.parse(value);
      if (!policy || typeof policy !== "object" || Array.isArray(policy)) throw new Error();
    } catch {
      throw invalidParameter("Filter policy: the policy must be a JSON object");
    }
  }
}

/** What each protocol's endpoint must look like; HTTP delivery stays on this machine. */
function checkEndpoint(protocol: string, endpoint: string): void {
  switch (protocol) {
    case "lambda":
      if (!/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(endpoint)) throw invalidParameter("Lambda endpoint ARN");
      return;
    case "sqs":
      if (!/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[\w.-]+$/.test(endpoint)) throw invalidParameter("SQS endpoint ARN");
      return;
    case "http":
    case "https": {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw invalidParameter(`Endpoint must be a URL for protocol ${protocol}`);
      }
      if (url.protocol !== `${protocol}:`) throw invalidParameter(`Endpoint must match the protocol ${protocol}`);
      if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
        throw invalidParameter(
          `Endpoint ${endpoint}: the local runtime delivers HTTP only to loopback addresses (127.0.0.1, localhost, [::1])`,
        );
      }
      return;
    }
    case "email":
    case "email-json":
      if (!/^[^@\s]+@[^@\s]+$/.test(endpoint)) throw invalidParameter("Email address");
      return;
  }
}

export function topicNameOf(arn: string): string {
  return TOPIC_ARN.exec(arn)?.[3] ?? arn;
}

/**
 * CreateTopic's checks of the name and the attribute names, made before the Policy's (as SQS's CreateQueue checks
 * its name first): a FIFO topic is refused by name (not emulated).
 */
export function checkTopicName(name: unknown, attributes: Record<string, string>): asserts name is string {
  if (typeof name === "string" && (name.endsWith(".fifo") || attributes.FifoTopic === "true")) throw notEmulated(`FIFO topic "${name}"`);
  if (typeof name !== "string" || !/^[\w-]{1,256}$/.test(name)) {
    throw invalidParameter("Topic Name (1 to 256 letters, digits, hyphens or underscores)");
  }
  for (const key of Object.keys(attributes))
    if (!SETTABLE_TOPIC_ATTRIBUTES.has(key)) throw invalidParameter(`Attributes Reason: Unknown attribute ${key}`);
}
