/**
 * The `sqs` channel: the token travels in a message (`sqs:sendMessage.waitForTaskToken`) to a queue created here
 * or given, optionally consumed by a worker function through an event source mapping that reports partial batch
 * failures, with a dead-letter queue after `maxReceiveCount` receives.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { consumeQueuePolicy, sendMessagePolicy } from "../policies";
import type { ResolvedSqsChannel } from "../resolveSteps";
import type { ChannelContext, ChannelResources } from "./context";
import { keyToGrant } from "./encryptionKey";

export function declareSqsChannel(channel: ResolvedSqsChannel, context: ChannelContext): ChannelResources {
  const { prefix, parent, tags } = context;
  const opts = { parent };
  let queueArn: pulumi.Output<string>;
  let queueUrl: pulumi.Output<string>;
  let kmsKeyArn: pulumi.Input<string | undefined> | undefined;
  let deadLetterQueue: aws.sqs.Queue | undefined;
  if (channel.queue) {
    queueArn = pulumi.output(channel.queue.arn);
    queueUrl = pulumi.output(channel.queue.url);
    // A queue resource names its key as SQS takes it (id, ARN or alias); the grant needs the key's ARN.
    kmsKeyArn = keyToGrant(channel.queue instanceof aws.sqs.Queue ? channel.queue.kmsMasterKeyId : channel.queue.kmsKeyArn, parent);
  } else {
    const settings = channel.queueSettings;
    kmsKeyArn = keyToGrant(settings.kmsKeyArn, parent);
    const encryption = settings.kmsKeyArn !== undefined ? { kmsMasterKeyId: settings.kmsKeyArn } : { sqsManagedSseEnabled: true };
    const deadLetter = channel.worker?.deadLetter;
    if (deadLetter) {
      // A DLQ keeps its messages longest (14 days), so a failed message can still be read and redriven.
      deadLetterQueue = new aws.sqs.Queue(`${prefix}-dlq`, { messageRetentionSeconds: 1_209_600, ...encryption, tags }, opts);
    }
    const queue = new aws.sqs.Queue(
      `${prefix}-queue`,
      {
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
        messageRetentionSeconds: settings.messageRetentionSeconds,
        ...encryption,
        ...(deadLetterQueue && deadLetter
          ? {
              redrivePolicy: pulumi.jsonStringify({
                deadLetterTargetArn: deadLetterQueue.arn,
                maxReceiveCount: deadLetter.maxReceiveCount,
              }),
            }
          : {}),
        tags,
      },
      opts,
    );
    queueArn = queue.arn;
    queueUrl = queue.url;
  }

  const tokenResponders: ChannelResources["tokenResponders"] = {};
  if (channel.worker) {
    const worker = channel.worker;
    const defined = context.defineFunction("worker", worker.function, `Consumes ${context.stepName}'s queue and answers its task tokens.`);
    const consume = new aws.iam.RolePolicy(
      `${prefix}-worker-consume`,
      { role: defined.role.id, policy: pulumi.jsonStringify(consumeQueuePolicy(queueArn, kmsKeyArn)) },
      opts,
    );
    new aws.lambda.EventSourceMapping(
      `${prefix}-worker-mapping`,
      {
        eventSourceArn: queueArn,
        functionName: defined.function.arn,
        batchSize: worker.batchSize,
        functionResponseTypes: worker.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
        enabled: true,
      },
      // Lambda checks the role's queue rights when the mapping is created.
      { parent, dependsOn: [consume] },
    );
    tokenResponders.worker = defined.role;
  }
  return {
    target: { queueUrl },
    invokedFunctionArns: [],
    stateMachinePolicies: { send: sendMessagePolicy(queueArn, kmsKeyArn) },
    tokenResponders,
    outputs: { queueUrl, queueArn, deadLetterQueueUrl: deadLetterQueue?.url },
  };
}
