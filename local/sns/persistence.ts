/**
 * SNS state in the runtime's store: topics and subscriptions, each marked as declared by the program (made again
 * at every start, so only what the API made is restored from here) or made through the API.
 */
import type { StateStore, StoreCollection } from "../common/store";
import type { Subscription, Topic } from "./topics";

interface KeptTopic {
  name: string;
  declared: boolean;
  attributes: Record<string, string>;
}

interface KeptSubscription {
  topicArn: string;
  protocol: string;
  endpoint: string;
  declared: boolean;
  attributes: Record<string, string>;
}

export class SnsPersistence {
  private readonly topics: StoreCollection<KeptTopic>;
  private readonly subscriptions: StoreCollection<KeptSubscription>;

  constructor(store: StateStore) {
    this.topics = store.collection("sns.topics");
    this.subscriptions = store.collection("sns.subscriptions");
  }

  /** `declared` undefined: keep what the record says (an attribute changed through the API). */
  saveTopic(topic: Topic, declared?: boolean): void {
    this.topics.put(topic.arn, {
      name: topic.name,
      declared: declared ?? this.topics.get(topic.arn)?.declared ?? false,
      attributes: Object.fromEntries(topic.attributes),
    });
  }

  deleteTopic(topic: Topic): void {
    this.topics.delete(topic.arn);
    // A subscription's ARN is its topic's ARN, a colon and an id.
    this.subscriptions.deletePrefix(`${topic.arn}:`);
  }

  saveSubscription(subscription: Subscription, declared?: boolean): void {
    this.subscriptions.put(subscription.arn, {
      topicArn: subscription.topicArn,
      protocol: subscription.protocol,
      endpoint: subscription.endpoint,
      declared: declared ?? this.subscriptions.get(subscription.arn)?.declared ?? false,
      attributes: Object.fromEntries(subscription.attributes),
    });
  }

  deleteSubscription(arn: string): void {
    this.subscriptions.delete(arn);
  }

  keptTopics(): Array<[arn: string, topic: KeptTopic]> {
    return this.topics.entries();
  }

  keptSubscriptions(): Array<[arn: string, subscription: KeptSubscription]> {
    return this.subscriptions.entries();
  }
}
