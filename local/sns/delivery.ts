/**
 * Delivering one published message to one subscription, shaped per protocol as AWS shapes it:
 * Lambda gets the SNS event (invoked asynchronously), SQS the JSON envelope (or the bare message with
 * RawMessageDelivery), HTTP the envelope in a POST, email/email-json an entry in the local outbox.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 */
import { createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Principal } from "../common/access";
import type { LambdaInvoker } from "../common/invoker";
import type { MessageAttributeValue, QueueSender } from "../common/messaging";
import type { Outbox } from "./outbox";
import type { Subscription } from "./topics";

export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  /** The message for this protocol (MessageStructure json already resolved). */
  message: string;
  subject?: string;
  timestamp: string;
  messageAttributes: Record<string, MessageAttributeValue>;
}

export interface DeliveryTargets {
  origin: string;
  region: string;
  lambda: LambdaInvoker;
  sqs?: QueueSender;
  outbox: Outbox;
  log(line: string): void;
}

/** The path where the key that signs envelopes is published (SigningCertURL), as a PEM public key. */
export const SIGNING_KEY_PATH = "/_local/sns/signing-key.pem";

export class Deliverer {
  private signingKey?: { privateKey: KeyObject; publicKeyPem: string };

  constructor(private readonly targets: DeliveryTargets) {}

  get publicKeyPem(): string {
    return this.key().publicKeyPem;
  }

  async deliver(subscription: Subscription, published: PublishedMessage): Promise<void> {
    const { targets } = this;
    const raw = subscription.attributes.get("RawMessageDelivery")?.toLowerCase() === "true";
    switch (subscription.protocol) {
      case "lambda": {
        // SNS invokes as itself, for the topic: only the function's resource policy can allow it.
        const result = await targets.lambda.invoke({
          functionName: subscription.endpoint,
          payload: JSON.stringify({ Records: [this.lambdaRecord(subscription, published)] }),
          invocationType: "Event",
          caller: snsFor(published.topicArn),
        });
        if (result.statusCode !== 202) targets.log(`delivery to ${subscription.endpoint} answered ${result.statusCode}`);
        return;
      }
      case "sqs": {
        if (!targets.sqs) throw new Error("no local SQS to deliver to");
        const [, , , region, account, name] = subscription.endpoint.split(":");
        targets.sqs.sendMessage(
          {
            QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
            MessageBody: raw ? published.message : JSON.stringify(this.envelope(subscription, published)),
            MessageAttributes: raw && Object.keys(published.messageAttributes).length > 0 ? published.messageAttributes : undefined,
          },
          "AIDASNSLOCAL",
          // Only the queue's policy can let SNS send, for this topic (aws:SourceArn).
          { caller: snsFor(published.topicArn) },
        );
        return;
      }
      case "http":
      case "https":
        return this.post(subscription, published, raw);
      case "email":
      case "email-json":
        targets.outbox.add({
          topicArn: published.topicArn,
          protocol: subscription.protocol,
          endpoint: subscription.endpoint,
          subject: published.subject ?? null,
          message: subscription.protocol === "email" ? published.message : JSON.stringify(this.envelope(subscription, published), null, 2),
          timestamp: published.timestamp,
        });
        targets.log(
          `${subscription.protocol} to ${subscription.endpoint}: "${published.subject ?? "(no subject)"}" (read it at ${targets.origin}/_local/sns/messages)`,
        );
        return;
    }
  }

  private async post(subscription: Subscription, published: PublishedMessage, raw: boolean): Promise<void> {
    const body = raw ? published.message : JSON.stringify(this.envelope(subscription, published));
    const response = await fetch(subscription.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": published.messageId,
        "x-amz-sns-topic-arn": published.topicArn,
        "x-amz-sns-subscription-arn": subscription.arn,
        ...(raw ? { "x-amz-sns-rawdelivery": "true" } : {}),
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    if (response.status < 200 || response.status > 299) throw new Error(`${subscription.endpoint} answered ${response.status}`);
  }

  /** The JSON a subscriber receives; signed (SignatureVersion 1, SHA1withRSA) with this runtime's own key. */
  envelope(subscription: Subscription, published: PublishedMessage): Record<string, unknown> {
    const envelope: Record<string, unknown> = {
      Type: "Notification",
      MessageId: published.messageId,
      TopicArn: published.topicArn,
      ...(published.subject !== undefined ? { Subject: published.subject } : {}),
      Message: published.message,
      Timestamp: published.timestamp,
      SignatureVersion: "1",
      Signature: this.sign(published),
      SigningCertURL: `${this.targets.origin}${SIGNING_KEY_PATH}`,
      UnsubscribeURL: `${this.targets.origin}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription.arn)}`,
    };
    const attributes = envelopeAttributes(published.messageAttributes);
    if (attributes) envelope.MessageAttributes = attributes;
    return envelope;
  }

  private lambdaRecord(subscription: Subscription, published: PublishedMessage) {
    return {
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: subscription.arn,
      Sns: {
        Type: "Notification",
        MessageId: published.messageId,
        TopicArn: published.topicArn,
        Subject: published.subject ?? null,
        Message: published.message,
        Timestamp: published.timestamp,
        SignatureVersion: "1",
        Signature: this.sign(published),
        SigningCertUrl: `${this.targets.origin}${SIGNING_KEY_PATH}`,
        UnsubscribeUrl: `${this.targets.origin}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscription.arn)}`,
        MessageAttributes: envelopeAttributes(published.messageAttributes) ?? {},
      },
    };
  }

  /** The string to sign for a Notification: its fields in a fixed order, each as "Name\nvalue\n". */
  private sign(published: PublishedMessage): string {
    const fields: Array<[string, string | undefined]> = [
      ["Message", published.message],
      ["MessageId", published.messageId],
      ["Subject", published.subject],
      ["Timestamp", published.timestamp],
      ["TopicArn", published.topicArn],
      ["Type", "Notification"],
    ];
    const text = fields
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name}\n${value}\n`)
      .join("");
    return createSign("RSA-SHA1").update(text).sign(this.key().privateKey, "base64");
  }

  /** Made on first use: a key pair costs tens of milliseconds, and most runs publish nothing. */
  private key() {
    if (!this.signingKey) {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      this.signingKey = { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
    }
    return this.signingKey;
  }
}

function snsFor(topicArn: string): Principal {
  return { kind: "service", service: "sns.amazonaws.com", sourceArn: topicArn };
}

/** `{"name": {"Type": "String", "Value": "..."}}`, binary values base64-encoded. */
function envelopeAttributes(attributes: Record<string, MessageAttributeValue>) {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, value]) => [
      name,
      { Type: value.DataType, Value: value.BinaryValue ? value.BinaryValue.toString("base64") : value.StringValue },
    ]),
  );
}
