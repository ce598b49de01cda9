/**
 * Real crashes for the local SQS and SNS: the runtime (`npm start`'s command) is killed with SIGKILL after
 * its answers, then started again on the same state folder; queues, messages and the email outbox are back.
 * One runtime pair for every rule here (the machine is small).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { startRuntime, temporaryStateDirectory, type RuntimeProcess } from "./runtimeProcess";

const CLIENT = { region: "us-east-1", credentials: { accessKeyId: "AKIDE2E", secretAccessKey: "e2e" } };

describe("local runtime: SQS messages and the SNS outbox survive kill -9", function () {
  this.timeout(900_000);
  const directory = temporaryStateDirectory();
  const running: RuntimeProcess[] = [];
  let first: { sqs: SQSClient; sns: SNSClient; runtime: RuntimeProcess };
  let second: { sqs: SQSClient; sns: SNSClient; runtime: RuntimeProcess };
  let queueUrl: string;
  let topicArn: string;
  let subscriptionArn: string;
  /** The outbox ETag the first run gave once its mail was in. */
  let firstOutboxTag: string;
  let inFlight: { messageId: string; receiptHandle: string; receivedAt: number };
  let unreceivedId: string;
  /** The in-flight message as first received after the restart (by whichever test saw it first). */
  let returned: Message | undefined;
  const VISIBILITY_SECONDS = 6;

  async function run() {
    const runtime = await startRuntime(["--state-dir", directory], { LOCAL_LAMBDA_NODE: "machine" });
    running.push(runtime);
    return {
      runtime,
      sqs: new SQSClient({ ...CLIENT, endpoint: runtime.origin }),
      sns: new SNSClient({ ...CLIENT, endpoint: runtime.origin }),
    };
  }

  before(async () => {
    first = await run();
    queueUrl = (await first.sqs.send(new CreateQueueCommand({ QueueName: "kept-work" }))).QueueUrl!;
    const sent = await first.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "received before the crash",
        MessageAttributes: { kind: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 2]) } },
      }),
    );
    const received = await first.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: VISIBILITY_SECONDS, MessageSystemAttributeNames: ["All"] }),
    );
    assert.equal(received.Messages?.[0]?.MessageId, sent.MessageId);
    inFlight = { messageId: sent.MessageId!, receiptHandle: received.Messages![0].ReceiptHandle!, receivedAt: Date.now() };
    unreceivedId = (await first.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "never received" }))).MessageId!;

    topicArn = (await first.sns.send(new CreateTopicCommand({ Name: "kept-announcements" }))).TopicArn!;
    subscriptionArn = (await first.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "email", Endpoint: "ops@example.com" })))
      .SubscriptionArn!;
    await first.sns.send(new PublishCommand({ TopicArn: topicArn, Subject: "kept", Message: "read me after the crash" }));
    // Email delivery follows the Publish answer; the crash comes once the mail is in the outbox.
    for (let attempt = 0; attempt < 100; attempt++) {
      const response = await fetch(`${first.runtime.origin}/_local/sns/messages`);
      firstOutboxTag = response.headers.get("etag")!;
      if (((await response.json()) as unknown[]).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await first.runtime.crash();
    second = await run();
  });

  after(async () => {
    for (const runtime of running.splice(0)) await runtime.crash();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("says in the banner how many SQS messages and outbox mails it restored", () => {
    assert.match(second.runtime.output(), /restored .*1 SQS queue, 2 SQS messages, 1 SNS topic, 1 SNS subscription, 1 outbox mail/);
  });

  it("gives back a sent, unreceived message, and keeps a received one invisible while its old deadline has not passed", async () => {
    const attributes = await second.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
    const beforeDeadline = Date.now() < inFlight.receivedAt + VISIBILITY_SECONDS * 1000 - 500;
    if (beforeDeadline) assert.equal(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible, "1");
    const received = await second.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const ids = (received.Messages ?? []).map((message) => message.MessageId);
    assert.ok(ids.includes(unreceivedId), `the unreceived message is back: ${ids}`);
    returned = received.Messages?.find((message) => message.MessageId === inFlight.messageId);
    if (beforeDeadline) assert.equal(returned, undefined);
  });

  it("makes a received, undeleted message visible again after its visibility timeout with ApproximateReceiveCount kept", async () => {
    const deadline = inFlight.receivedAt + VISIBILITY_SECONDS * 1000;
    while (!returned) {
      const received = await second.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          WaitTimeSeconds: 5,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      returned = received.Messages?.find((message) => message.MessageId === inFlight.messageId);
    }
    assert.ok(Date.now() >= deadline - 1000, "not before its deadline");
    assert.equal(returned.Body, "received before the crash");
    assert.equal(returned.Attributes?.ApproximateReceiveCount, "2");
    assert.deepEqual([...(returned.MessageAttributes?.kind.BinaryValue ?? [])], [0, 1, 2]);
    assert.notEqual(returned.ReceiptHandle, inFlight.receiptHandle);
    await second.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: returned.ReceiptHandle! }));
  });

  it("keeps the topic, its email subscription and the outbox's mail", async () => {
    const subscriptions = await second.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    assert.deepEqual(
      subscriptions.Subscriptions?.map(({ SubscriptionArn, Protocol, Endpoint }) => ({ SubscriptionArn, Protocol, Endpoint })),
      [{ SubscriptionArn: subscriptionArn, Protocol: "email", Endpoint: "ops@example.com" }],
    );
    const response = await fetch(`${second.runtime.origin}/_local/sns/messages`);
    const outbox = (await response.json()) as Array<Record<string, unknown>>;
    assert.deepEqual(
      outbox.map(({ topicArn, endpoint, subject, message }) => ({ topicArn, endpoint, subject, message })),
      [{ topicArn, endpoint: "ops@example.com", subject: "kept", message: "read me after the crash" }],
    );
    // As many mails as before the crash, but another run: a tab holding the old ETag must not get a 304.
    assert.notEqual(response.headers.get("etag"), firstOutboxTag);
    const asked = await fetch(`${second.runtime.origin}/_local/sns/messages`, { headers: { "If-None-Match": firstOutboxTag } });
    assert.equal(asked.status, 200);
  });
});
