/**
 * The `sns` channel: the token travels in a topic message (`sns:publish.waitForTaskToken`) to the topic's
 * subscribers: functions, queues, email addresses. Also the topic and subscriptions the approval channel uses.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { publishPolicy, topicToQueuePolicy } from "../policies";
import type { ResolvedSnsChannel, ResolvedSubscription } from "../resolveSteps";
import type { ExistingTopic } from "../steps";
import type { ChannelContext, ChannelResources } from "./context";
import { keyToGrant } from "./encryptionKey";

export interface DeclaredTopic {
  topicArn: pulumi.Output<string>;
  /** The customer managed key a publisher must be granted (see keyToGrant); undefined: none. */
  kmsKeyArn?: pulumi.Input<string | undefined>;
}

/** The given topic, or a new one (`${prefix}-topic`), with the key its publishers need. */
export function declareTopic(
  topic: ExistingTopic | aws.sns.Topic | undefined,
  kmsKeyArn: pulumi.Input<string> | undefined,
  context: ChannelContext,
): DeclaredTopic {
  if (topic) {
    // A topic resource names its key as SNS takes it (id, ARN or alias); the grant needs the key's ARN.
    const keyReference = topic instanceof aws.sns.Topic ? topic.kmsMasterKeyId : topic.kmsKeyArn;
    return { topicArn: pulumi.output(topic.arn), kmsKeyArn: keyToGrant(keyReference, context.parent) };
  }
  const created = new aws.sns.Topic(
    `${context.prefix}-topic`,
    { ...(kmsKeyArn !== undefined ? { kmsMasterKeyId: kmsKeyArn } : {}), tags: context.tags },
    { parent: context.parent },
  );
  return { topicArn: created.arn, kmsKeyArn: keyToGrant(kmsKeyArn, context.parent) };
}

/** One subscription; a function defined here is returned so its role can be granted the task response. */
export function declareSubscription(
  topicArn: pulumi.Output<string>,
  subscription: ResolvedSubscription,
  index: number,
  context: ChannelContext,
): aws.iam.Role | undefined {
  const name = `${context.prefix}-subscription-${index}`;
  const opts = { parent: context.parent };
  switch (subscription.protocol) {
    case "lambda": {
      const fn = context.referFunction(`subscriber-${index}`, subscription.function, `Receives ${context.stepName}'s topic messages.`);
      // SNS may invoke only this function, and only for this topic.
      const permission = new aws.lambda.Permission(
        `${name}-invoke`,
        { function: fn.arn, action: "lambda:InvokeFunction", principal: "sns.amazonaws.com", sourceArn: topicArn },
        opts,
      );
      new aws.sns.TopicSubscription(name, { topic: topicArn, protocol: "lambda", endpoint: fn.arn }, { ...opts, dependsOn: [permission] });
      return fn.defined?.role;
    }
    case "sqs": {
      const queueArn = pulumi.output(subscription.queue.arn);
      const policy = new aws.sqs.QueuePolicy(
        `${name}-queue-policy`,
        { queueUrl: subscription.queue.url, policy: pulumi.jsonStringify(topicToQueuePolicy(queueArn, topicArn)) },
        opts,
      );
      new aws.sns.TopicSubscription(
        name,
        { topic: topicArn, protocol: "sqs", endpoint: queueArn, rawMessageDelivery: subscription.rawMessageDelivery },
        { ...opts, dependsOn: [policy] },
      );
      return undefined;
    }
    case "email":
    case "email-json":
      new aws.sns.TopicSubscription(name, { topic: topicArn, protocol: subscription.protocol, endpoint: subscription.endpoint }, opts);
      return undefined;
  }
}

export function declareSnsChannel(channel: ResolvedSnsChannel, context: ChannelContext): ChannelResources {
  const topic = declareTopic(channel.topic, channel.kmsKeyArn, context);
  const tokenResponders: ChannelResources["tokenResponders"] = {};
  channel.subscriptions.forEach((subscription, index) => {
    const role = declareSubscription(topic.topicArn, subscription, index, context);
    if (role) tokenResponders[`subscriber-${index}`] = role;
  });
  return {
    target: { topicArn: topic.topicArn },
    invokedFunctionArns: [],
    stateMachinePolicies: { publish: publishPolicy(topic.topicArn, topic.kmsKeyArn) },
    tokenResponders,
    outputs: { topicArn: topic.topicArn },
  };
}
