/**
 * The local SQS and SNS through the AWS SDK v3 (SQS over JSON, SNS over query) and Debian's AWS CLI 2.9 (both
 * over query), against the fixture program started with `npm start -- --cwd`: every operation, AWS's errors,
 * long polling, visibility and redrive, event source mappings with partial batch failures and crashing
 * workers, SNS fan-out, the email outbox, Step Functions' sqs/sns tasks, and queue and topic policies checked
 * when set. IAM is enforced, as a user runs the runtime.
 */
import * as assert from "node:assert/strict";
import { createHash, createVerify } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";
import { CreateStateMachineCommand, SendTaskSuccessCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { historyOf, waitForEnd } from "../e2e/runtimeProcess";
import { describePolicyValidation } from "./policyValidation";
import { aws, collect, outbox, rejection, sleep, startMessagingRuntime, type MessagingRuntime } from "./support";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

describe("local SQS and SNS end to end (SDK v3 and AWS CLI)", function () {
  this.timeout(60_000);
  let runtime: MessagingRuntime;
  let out: Record<string, string>;

  before(async function () {
    this.timeout(240_000);
    runtime = await startMessagingRuntime();
    out = runtime.outputs;
  });
  after(async () => {
    if (runtime) {
      runtime.sqs.destroy();
      runtime.sns.destroy();
      await runtime.stop();
    }
  });

  const createQueue = async (QueueName: string, Attributes?: Record<string, string>) =>
    (await runtime.sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!;

  describe("SQS API (SDK v3, JSON protocol)", () => {
    it("CreateQueue answers a URL on the local origin; GetQueueUrl and ListQueues find it; the same call again is idempotent", async () => {
      const url = await createQueue("sdk-basics", { VisibilityTimeout: "5" });
      assert.equal(url, `${runtime.origin}/123456789012/sdk-basics`);
      assert.equal((await runtime.sqs.send(new GetQueueUrlCommand({ QueueName: "sdk-basics" }))).QueueUrl, url);
      assert.deepEqual((await runtime.sqs.send(new ListQueuesCommand({ QueueNamePrefix: "sdk-basic" }))).QueueUrls, [url]);
      assert.equal(await createQueue("sdk-basics", { VisibilityTimeout: "5" }), url);
      const error = await rejection(createQueue("sdk-basics", { VisibilityTimeout: "6" }));
      assert.equal(error.name, "QueueNameExists");
    });

    it("the program's declared queues are listed with their declared attributes and redrive policy", async () => {
      const { Attributes } = await runtime.sqs.send(new GetQueueAttributesCommand({ QueueUrl: out.jobsUrl, AttributeNames: ["All"] }));
      assert.equal(Attributes!.VisibilityTimeout, "5");
      const dlqArn = `arn:aws:sqs:us-east-1:123456789012:${out.deadLettersUrl.split("/").pop()}`;
      assert.deepEqual(JSON.parse(Attributes!.RedrivePolicy!), { deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
      assert.equal(Attributes!.QueueArn, `arn:aws:sqs:us-east-1:123456789012:${out.jobsUrl.split("/").pop()}`);
    });

    it("SendMessage answers the body's and attributes' MD5; ReceiveMessage returns body, attributes and ApproximateReceiveCount", async () => {
      const url = await createQueue("sdk-send");
      const sent = await runtime.sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: "héllo",
          MessageAttributes: {
            kind: { DataType: "String", StringValue: "greeting" },
            raw: { DataType: "Binary", BinaryValue: Buffer.from([1, 2, 3]) },
          },
        }),
      );
      assert.equal(sent.MD5OfMessageBody, md5("héllo"));
      assert.match(sent.MD5OfMessageAttributes!, /^[0-9a-f]{32}$/);
      const { Messages } = await runtime.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }),
      );
      assert.equal(Messages!.length, 1);
      const [message] = Messages!;
      assert.equal(message.MessageId, sent.MessageId);
      assert.equal(message.Body, "héllo");
      assert.equal(message.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
      assert.equal(message.Attributes!.ApproximateReceiveCount, "1");
      assert.match(message.Attributes!.SentTimestamp!, /^\d{13}$/);
      assert.deepEqual(message.MessageAttributes!.kind, { DataType: "String", StringValue: "greeting" });
      assert.deepEqual(Buffer.from(message.MessageAttributes!.raw.BinaryValue!), Buffer.from([1, 2, 3]));
      await runtime.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      const attributes = await runtime.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      assert.deepEqual(attributes.Attributes, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
    });

    it("a received message is invisible for its visibility timeout, then comes back with a higher receive count", async () => {
      const url = await createQueue("sdk-visibility");
      await runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "again" }));
      const first = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 1 }));
      assert.equal(first.Messages!.length, 1);
      assert.equal((await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      const second = await runtime.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }),
      );
      assert.equal(second.Messages![0].Body, "again");
      assert.equal(second.Messages![0].Attributes!.ApproximateReceiveCount, "2");
      await runtime.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: second.Messages![0].ReceiptHandle, VisibilityTimeout: 0 }),
      );
      const third = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
      assert.equal(third.Messages![0].MessageId, first.Messages![0].MessageId);
      const stale = await rejection(
        runtime.sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first.Messages![0].ReceiptHandle, VisibilityTimeout: 5 }),
        ),
      );
      assert.equal(stale.name, "MessageNotInflight");
    });

    it("a long poll answers as soon as a message is sent, and an empty one waits its full WaitTimeSeconds", async () => {
      const url = await createQueue("sdk-long-poll");
      const started = Date.now();
      const empty = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      assert.equal(empty.Messages, undefined);
      assert.ok(Date.now() - started >= 950, `an empty long poll returned after ${Date.now() - started} ms`);
      const polling = runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
      await sleep(300);
      const sentAt = Date.now();
      await runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "wake up" }));
      const { Messages } = await polling;
      assert.equal(Messages![0].Body, "wake up");
      assert.ok(Date.now() - sentAt < 5000, "the long poll did not answer promptly");
    });

    it("DelaySeconds keeps a message invisible (counted as delayed) until the delay ends", async () => {
      const url = await createQueue("sdk-delay");
      await runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "later", DelaySeconds: 1 }));
      assert.equal((await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      const { Attributes } = await runtime.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessagesDelayed"] }),
      );
      assert.equal(Attributes!.ApproximateNumberOfMessagesDelayed, "1");
      const { Messages } = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
      assert.equal(Messages![0].Body, "later");
    });

    it("SendMessageBatch and DeleteMessageBatch report each entry; repeated ids are refused as a whole", async () => {
      const url = await createQueue("sdk-batch");
      const tooLong = await rejection(
        runtime.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [
              { Id: "a", MessageBody: "one" },
              { Id: "big", MessageBody: "x".repeat(262_145) },
            ],
          }),
        ),
      );
      // The batch as a whole is over 256 KB: refused before any entry is looked at.
      assert.equal(tooLong.name, "BatchRequestTooLong");
      const sent = await runtime.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: "a", MessageBody: "one" },
            { Id: "b", MessageBody: "two" },
            { Id: "c", MessageBody: "three", DelaySeconds: 901 },
          ],
        }),
      );
      assert.deepEqual(
        sent.Successful!.map((entry) => [entry.Id, entry.MD5OfMessageBody]),
        [
          ["a", md5("one")],
          ["b", md5("two")],
        ],
      );
      assert.deepEqual(
        sent.Failed!.map((entry) => [entry.Id, entry.Code, entry.SenderFault]),
        [["c", "InvalidParameterValue", true]],
      );
      const { Messages } = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      assert.deepEqual(Messages!.map((message) => message.Body).sort(), ["one", "two"]);
      const deleted = await runtime.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            ...Messages!.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })),
            { Id: "junk", ReceiptHandle: "not-a-handle" },
          ],
        }),
      );
      assert.deepEqual(
        deleted.Successful!.map((entry) => entry.Id),
        ["m0", "m1"],
      );
      assert.deepEqual(
        deleted.Failed!.map((entry) => [entry.Id, entry.Code, entry.SenderFault]),
        [["junk", "ReceiptHandleIsInvalid", true]],
      );
      const repeated = await rejection(
        runtime.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [
              { Id: "x", MessageBody: "1" },
              { Id: "x", MessageBody: "2" },
            ],
          }),
        ),
      );
      assert.equal(repeated.name, "BatchEntryIdsNotDistinct");
    });

    it("PurgeQueue empties a queue, and a second purge within 60 s is PurgeQueueInProgress", async () => {
      const url = await createQueue("sdk-purge");
      await runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "gone" }));
      await runtime.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      assert.equal((await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      const again = await rejection(runtime.sqs.send(new PurgeQueueCommand({ QueueUrl: url })));
      assert.equal(again.name, "PurgeQueueInProgress");
    });

    it("SetQueueAttributes changes what GetQueueAttributes reports; an unknown attribute is InvalidAttributeName", async () => {
      const url = await createQueue("sdk-attributes");
      await runtime.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: "45", DelaySeconds: "3" } }));
      const { Attributes } = await runtime.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["VisibilityTimeout", "DelaySeconds"] }),
      );
      assert.deepEqual(Attributes, { VisibilityTimeout: "45", DelaySeconds: "3" });
      const unknown = await rejection(
        runtime.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Colour: "blue" } as Record<string, string> })),
      );
      assert.equal(unknown.name, "InvalidAttributeName");
      const outOfRange = await rejection(
        runtime.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: "43201" } })),
      );
      assert.equal(outOfRange.name, "InvalidAttributeValue");
    });

    it("a message received maxReceiveCount times moves to the dead-letter queue with its id and body", async () => {
      const deadLetterUrl = await createQueue("sdk-redrive-dlq");
      const url = await createQueue("sdk-redrive", {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:sdk-redrive-dlq", maxReceiveCount: 1 }),
      });
      const sent = await runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "poison" }));
      const first = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      assert.equal(first.Messages![0].MessageId, sent.MessageId);
      assert.equal((await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
      const moved = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl }));
      assert.equal(moved.Messages![0].MessageId, sent.MessageId);
      assert.equal(moved.Messages![0].Body, "poison");
    });

    it("answers AWS's errors: a message over 256 KB, an unknown queue (with its query code), a FIFO queue by name", async () => {
      const url = await createQueue("sdk-errors");
      const tooLong = await rejection(runtime.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "x".repeat(262_145) })));
      assert.equal(tooLong.name, "InvalidParameterValue");
      assert.match(tooLong.message, /Message must be shorter than 262144 bytes/);
      const missing = await rejection(
        runtime.sqs.send(new SendMessageCommand({ QueueUrl: `${runtime.origin}/123456789012/nope`, MessageBody: "x" })),
      );
      assert.equal(missing.name, "QueueDoesNotExist");
      assert.equal(missing.Code, "AWS.SimpleQueueService.NonExistentQueue");
      assert.equal(missing.$metadata.httpStatusCode, 400);
      const fifo = await rejection(createQueue("orders.fifo", { FifoQueue: "true" }));
      assert.match(fifo.message, /does not emulate FIFO queues \("orders\.fifo"\)/);
    });
  });

  describe("Lambda event source mapping on SQS", () => {
    const attemptsFor = async (body: string, count: number) =>
      (await collect(runtime, out.attemptsUrl, count, (message) => JSON.parse(message.Body!).body === body, 30_000)).map((message) => ({
        ...JSON.parse(message.Body!),
        sentAt: Number(message.Attributes!.SentTimestamp),
      }));

    it("with ReportBatchItemFailures, only the reported message returns, and reaches the DLQ after maxReceiveCount", async () => {
      await runtime.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: out.jobsUrl,
          Entries: [
            { Id: "ok", MessageBody: "ok-partial" },
            { Id: "fail", MessageBody: "fail-partial" },
          ],
        }),
      );
      const [dead] = await collect(runtime, out.deadLettersUrl, 1, (message) => message.Body === "fail-partial", 30_000);
      assert.equal(dead.Body, "fail-partial");
      const failAttempts = await attemptsFor("fail-partial", 2);
      assert.deepEqual(
        failAttempts.map((attempt) => attempt.receiveCount),
        [1, 2],
      );
      const okAttempts = await attemptsFor("ok-partial", 1);
      assert.deepEqual(
        okAttempts.map((attempt) => attempt.receiveCount),
        [1],
      );
    });

    it("a thrown error returns the whole batch: every message of it is delivered again", async () => {
      await runtime.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: out.jobsUrl,
          Entries: [
            { Id: "t", MessageBody: "throw-batch" },
            { Id: "o", MessageBody: "ok-batch" },
          ],
        }),
      );
      const okAttempts = await attemptsFor("ok-batch", 2);
      assert.deepEqual(
        okAttempts.map((attempt) => [attempt.receiveCount, attempt.batchSize]),
        [
          [1, 2],
          [2, 2],
        ],
      );
      const dead = await collect(runtime, out.deadLettersUrl, 2, (message) => /-batch$/.test(message.Body!), 30_000);
      assert.deepEqual(dead.map((message) => message.Body).sort(), ["ok-batch", "throw-batch"]);
    });

    it("a crashing worker's message comes back after the visibility timeout and reaches the DLQ after maxReceiveCount", async () => {
      await runtime.sqs.send(new SendMessageCommand({ QueueUrl: out.jobsUrl, MessageBody: "crash-once-more" }));
      const crashes = await attemptsFor("crash-once-more", 2);
      assert.deepEqual(
        crashes.map((attempt) => attempt.receiveCount),
        [1, 2],
      );
      assert.ok(
        crashes[1].sentAt - crashes[0].sentAt >= 4900,
        `redelivered after ${crashes[1].sentAt - crashes[0].sentAt} ms, before the 5 s visibility timeout`,
      );
      const [dead] = await collect(runtime, out.deadLettersUrl, 1, (message) => message.Body === "crash-once-more", 30_000);
      assert.equal(dead.Attributes!.ApproximateReceiveCount, "1");
    });
  });

  describe("SNS API (SDK v3, query protocol)", () => {
    it("CreateTopic, Subscribe, ListTopics, ListSubscriptions(ByTopic), GetTopicAttributes and Unsubscribe", async () => {
      const { TopicArn } = await runtime.sns.send(new CreateTopicCommand({ Name: "sdk-topic", Attributes: { DisplayName: "SDK" } }));
      assert.equal(TopicArn, "arn:aws:sns:us-east-1:123456789012:sdk-topic");
      const queueUrl = await createQueue("sdk-topic-queue");
      const { SubscriptionArn } = await runtime.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: "sqs",
          Endpoint: "arn:aws:sqs:us-east-1:123456789012:sdk-topic-queue",
          ReturnSubscriptionArn: true,
        }),
      );
      assert.match(SubscriptionArn!, /^arn:aws:sns:us-east-1:123456789012:sdk-topic:[0-9a-f-]{36}$/);
      const topics = await runtime.sns.send(new ListTopicsCommand({}));
      assert.ok(topics.Topics!.some((topic) => topic.TopicArn === TopicArn));
      assert.ok(topics.Topics!.some((topic) => topic.TopicArn === out.eventsTopicArn));
      const byTopic = await runtime.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
      assert.deepEqual(byTopic.Subscriptions, [
        {
          SubscriptionArn,
          Owner: "123456789012",
          Protocol: "sqs",
          Endpoint: "arn:aws:sqs:us-east-1:123456789012:sdk-topic-queue",
          TopicArn,
        },
      ]);
      const all = await runtime.sns.send(new ListSubscriptionsCommand({}));
      assert.equal(all.Subscriptions!.filter((subscription) => subscription.TopicArn === out.eventsTopicArn).length, 4);
      const { Attributes } = await runtime.sns.send(new GetTopicAttributesCommand({ TopicArn }));
      assert.equal(Attributes!.DisplayName, "SDK");
      assert.equal(Attributes!.SubscriptionsConfirmed, "1");
      await runtime.sns.send(new UnsubscribeCommand({ SubscriptionArn }));
      assert.deepEqual((await runtime.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions, []);
      await runtime.sns.send(new PublishCommand({ TopicArn, Message: "to nobody" }));
      await sleep(200);
      assert.equal((await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages, undefined);
    });

    it("fans one message out: raw body and attributes to one queue, a signed envelope to another, the SNS event to Lambda, the email outbox", async () => {
      const { MessageId } = await runtime.sns.send(
        new PublishCommand({
          TopicArn: out.eventsTopicArn,
          Message: "order 42 shipped",
          Subject: "Shipping",
          MessageAttributes: { kind: { DataType: "String", StringValue: "shipped" } },
        }),
      );
      const [raw] = await collect(runtime, out.rawQueueUrl, 1);
      assert.equal(raw.Body, "order 42 shipped");
      assert.deepEqual(raw.MessageAttributes!.kind, { DataType: "String", StringValue: "shipped" });

      const [enveloped] = await collect(runtime, out.envelopeQueueUrl, 1);
      const envelope = JSON.parse(enveloped.Body!);
      assert.equal(envelope.Type, "Notification");
      assert.equal(envelope.MessageId, MessageId);
      assert.equal(envelope.TopicArn, out.eventsTopicArn);
      assert.equal(envelope.Subject, "Shipping");
      assert.equal(envelope.Message, "order 42 shipped");
      assert.deepEqual(envelope.MessageAttributes, { kind: { Type: "String", Value: "shipped" } });
      assert.equal(envelope.SignatureVersion, "1");
      const publicKey = await (await fetch(envelope.SigningCertURL)).text();
      const signed = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        .map((name) => `${name}\n${envelope[name]}\n`)
        .join("");
      assert.ok(
        createVerify("RSA-SHA1").update(signed).verify(publicKey, envelope.Signature, "base64"),
        "the envelope's signature does not verify",
      );

      const [seen] = await collect(runtime, out.lambdaSeenUrl, 1);
      const record = JSON.parse(seen.Body!).Records[0];
      assert.equal(record.EventSource, "aws:sns");
      assert.match(record.EventSubscriptionArn, new RegExp(`^${out.eventsTopicArn}:`));
      assert.equal(record.Sns.Message, "order 42 shipped");
      assert.equal(record.Sns.Subject, "Shipping");
      assert.deepEqual(record.Sns.MessageAttributes, { kind: { Type: "String", Value: "shipped" } });

      const mail = (await outbox(runtime)).find((entry) => entry.endpoint === "ops@example.com" && entry.message === "order 42 shipped");
      assert.ok(mail, "no email in the outbox");
      assert.deepEqual(Object.keys(mail).sort(), ["endpoint", "message", "protocol", "subject", "timestamp", "topicArn"]);
      assert.equal(mail.subject, "Shipping");
      assert.equal(mail.protocol, "email");
      assert.equal(mail.topicArn, out.eventsTopicArn);
    });

    it("PublishBatch publishes each entry and reports each id", async () => {
      const { Successful, Failed } = await runtime.sns.send(
        new PublishBatchCommand({
          TopicArn: out.eventsTopicArn,
          PublishBatchRequestEntries: [
            { Id: "one", Message: "batch one" },
            { Id: "two", Message: "batch two" },
          ],
        }),
      );
      assert.deepEqual(
        Successful!.map((entry) => entry.Id),
        ["one", "two"],
      );
      assert.deepEqual(Failed, []);
      const raw = await collect(runtime, out.rawQueueUrl, 2);
      assert.deepEqual(raw.map((message) => message.Body).sort(), ["batch one", "batch two"]);
      await collect(runtime, out.envelopeQueueUrl, 2);
      await collect(runtime, out.lambdaSeenUrl, 2);
    });

    it("answers AWS's errors: unknown topic NotFound, malformed ARN InvalidParameter, a message over 256 KB", async () => {
      const missing = await rejection(
        runtime.sns.send(new PublishCommand({ TopicArn: "arn:aws:sns:us-east-1:123456789012:nope", Message: "x" })),
      );
      assert.equal(missing.name, "NotFoundException");
      assert.equal(missing.$metadata.httpStatusCode, 404);
      const malformed = await rejection(runtime.sns.send(new PublishCommand({ TopicArn: "not-an-arn", Message: "x" })));
      assert.equal(malformed.name, "InvalidParameterException");
      assert.match(malformed.message, /Invalid parameter: TopicArn/);
      const tooLong = await rejection(runtime.sns.send(new PublishCommand({ TopicArn: out.eventsTopicArn, Message: "x".repeat(262_145) })));
      assert.equal(tooLong.name, "InvalidParameterException");
      assert.match(tooLong.message, /Message too long/);
      const remote = await rejection(
        runtime.sns.send(new SubscribeCommand({ TopicArn: out.eventsTopicArn, Protocol: "http", Endpoint: "http://example.com/hook" })),
      );
      assert.match(remote.message, /only to loopback/);
    });
  });

  describe("a credential that cannot be read (not valid percent-encoding)", () => {
    const malformed = { accessKeyId: "AKID%ZZ", secretAccessKey: "messaging" };

    it("answers SNS's query-protocol XML error IncompleteSignature (400), which the SDK v3 reads", async () => {
      const sns = new SNSClient({ endpoint: runtime.origin, region: "us-east-1", credentials: malformed, maxAttempts: 1 });
      const refused = await rejection(sns.send(new ListTopicsCommand({})));
      sns.destroy();
      assert.equal(refused.name, "IncompleteSignature");
      assert.equal(refused.$metadata.httpStatusCode, 400);
      assert.match(refused.message, /the Credential is not valid percent-encoding: "AKID%ZZ\//);
    });

    it("answers SQS in the protocol of the request: the SDK v3's JSON and the AWS CLI's query XML", async function () {
      this.timeout(180_000);
      const sqs = new SQSClient({ endpoint: runtime.origin, region: "us-east-1", credentials: malformed, maxAttempts: 1 });
      const refused = await rejection(sqs.send(new ListQueuesCommand({})));
      sqs.destroy();
      assert.equal(refused.name, "IncompleteSignature");
      assert.equal(refused.$metadata.httpStatusCode, 400);
      const cli = await aws(runtime, ["sqs", "list-queues"], malformed);
      assert.notEqual(cli.code, 0);
      assert.match(cli.stderr, /An error occurred \(IncompleteSignature\) when calling the ListQueues operation: .*percent-encoding/);
    });
  });

  describe("Step Functions sqs:sendMessage and sns:publish tasks", () => {
    it("an SQS waitForTaskToken task sends its token; the worker's SendTaskSuccess output is the result; history names sqs/sendMessage.waitForTaskToken", async () => {
      const { executionArn } = await runtime.sfn.send(new StartExecutionCommand({ stateMachineArn: out.sqsCallbackArn, input: "{}" }));
      const ended = await waitForEnd(runtime, executionArn!, 30_000);
      assert.equal(ended.status, "SUCCEEDED", ended.cause);
      assert.deepEqual(JSON.parse(ended.output!), { processed: {} });
      const events = await historyOf(runtime, executionArn!);
      const scheduled = events.find((event) => event.type === "TaskScheduled")!.taskScheduledEventDetails!;
      assert.equal(scheduled.resourceType, "sqs");
      assert.equal(scheduled.resource, "sendMessage.waitForTaskToken");
      const submitted = JSON.parse(events.find((event) => event.type === "TaskSubmitted")!.taskSubmittedEventDetails!.output!);
      assert.match(submitted.MessageId, /^[0-9a-f-]{36}$/);
      assert.equal(submitted.MD5OfMessageBody, md5(JSON.stringify(JSON.parse(scheduled.parameters!).MessageBody)));
      assert.equal(submitted.SdkHttpMetadata.HttpStatusCode, 200);
    });

    it("an SQS waitForTaskToken task fails with the worker's SendTaskFailure error, which Catch matches", async () => {
      const { executionArn } = await runtime.sfn.send(
        new StartExecutionCommand({ stateMachineArn: out.sqsCallbackArn, input: JSON.stringify({ fail: true }) }),
      );
      const ended = await waitForEnd(runtime, executionArn!, 30_000);
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "WorkerFailed");
      const failed = (await historyOf(runtime, executionArn!)).find((event) => event.type === "TaskFailed")!.taskFailedEventDetails!;
      assert.deepEqual([failed.resourceType, failed.resource, failed.error], ["sqs", "sendMessage.waitForTaskToken", "ProcessingFailed"]);
    });

    it("an SNS waitForTaskToken task mails its token to the outbox (email and email-json); answering it resumes the execution", async () => {
      const { executionArn } = await runtime.sfn.send(new StartExecutionCommand({ stateMachineArn: out.snsCallbackArn, input: "{}" }));
      let mail: Record<string, any> | undefined;
      for (let i = 0; i < 100 && !mail; i++) {
        mail = (await outbox(runtime)).find((entry) => entry.topicArn === out.approvalsTopicArn && entry.protocol === "email");
        if (!mail) await sleep(100);
      }
      assert.ok(mail, "no approval email arrived");
      assert.equal(mail.subject, "Approval needed");
      const taskToken = /^Approve with token (.+)$/.exec(mail.message)![1];
      const json = (await outbox(runtime)).find((entry) => entry.protocol === "email-json" && entry.message.includes(taskToken))!;
      assert.equal(JSON.parse(json.message).Message, mail.message);
      await runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approved: true }) }));
      const ended = await waitForEnd(runtime, executionArn!, 30_000);
      assert.equal(ended.status, "SUCCEEDED");
      assert.deepEqual(JSON.parse(ended.output!), { approved: true });
      const scheduled = (await historyOf(runtime, executionArn!)).find(
        (event) => event.type === "TaskScheduled",
      )!.taskScheduledEventDetails!;
      assert.deepEqual([scheduled.resourceType, scheduled.resource], ["sns", "publish.waitForTaskToken"]);
    });

    it("plain sqs:sendMessage and sns:publish tasks return AWS's response shapes; an unknown queue fails with SQS.QueueDoesNotExistException", async () => {
      const { executionArn } = await runtime.sfn.send(
        new StartExecutionCommand({ stateMachineArn: out.plainTasksArn, input: JSON.stringify({ body: "ok-from-states" }) }),
      );
      const ended = await waitForEnd(runtime, executionArn!, 30_000);
      assert.equal(ended.status, "SUCCEEDED", ended.cause);
      const output = JSON.parse(ended.output!);
      assert.equal(output.sent.MD5OfMessageBody, md5("ok-from-states"));
      assert.match(output.sent.MessageId, /^[0-9a-f-]{36}$/);
      assert.match(output.published.MessageId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(output.published).sort(), ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]);
      assert.equal(output.missingError.Error, "SQS.QueueDoesNotExistException");
      assert.match(output.missingError.Cause, /Error Code: AWS\.SimpleQueueService\.NonExistentQueue/);
      const [published] = await collect(runtime, out.rawQueueUrl, 1);
      assert.deepEqual(JSON.parse(published.Body!), { fromExecution: executionArn!.split(":").pop() });
      await collect(runtime, out.envelopeQueueUrl, 1);
      await collect(runtime, out.lambdaSeenUrl, 1);
      await attemptsOf("ok-from-states");
    });

    it("JSONata states send Arguments to sqs:sendMessage and sqs:sendMessage.waitForTaskToken ($states.context.Task.Token carries the token)", async () => {
      const queueUrl = await createQueue("jsonata-arguments");
      const definition = {
        QueryLanguage: "JSONata",
        StartAt: "Notify",
        States: {
          Notify: {
            Type: "Task",
            Resource: "arn:aws:states:::sqs:sendMessage",
            Arguments: { QueueUrl: queueUrl, MessageBody: "{% 'plain ' & $states.input.name %}" },
            Output: "{% $states.input %}",
            Next: "Wait for worker",
          },
          "Wait for worker": {
            Type: "Task",
            Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            Arguments: { QueueUrl: queueUrl, MessageBody: { token: "{% $states.context.Task.Token %}", name: "{% $states.input.name %}" } },
            End: true,
          },
        },
      };
      const { stateMachineArn } = await runtime.sfn.send(
        new CreateStateMachineCommand({
          name: "jsonata-sqs",
          // The program's state machine role, which it grants sqs:SendMessage on this queue (IAM is enforced).
          roleArn: out.statesRoleArn,
          definition: JSON.stringify(definition),
        }),
      );
      const { executionArn } = await runtime.sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ name: "ada" }) }),
      );
      const [plain] = await collect(runtime, queueUrl, 1, (message) => message.Body === "plain ada");
      assert.equal(plain.MD5OfBody, md5("plain ada"));
      const [callback] = await collect(runtime, queueUrl, 1, (message) => message.Body!.startsWith("{"));
      const sent = JSON.parse(callback.Body!);
      assert.equal(sent.name, "ada");
      await runtime.sfn.send(new SendTaskSuccessCommand({ taskToken: sent.token, output: JSON.stringify({ done: sent.name }) }));
      const ended = await waitForEnd(runtime, executionArn!, 30_000);
      assert.equal(ended.status, "SUCCEEDED", ended.cause);
      assert.deepEqual(JSON.parse(ended.output!), { done: "ada" });
    });

    const attemptsOf = (body: string) => collect(runtime, out.attemptsUrl, 1, (message) => JSON.parse(message.Body!).body === body, 30_000);
  });

  describe("the AWS CLI 2.9 (query protocol)", function () {
    // Each CLI call starts a Python interpreter: seconds apiece on a busy machine.
    this.timeout(180_000);
    it("`aws sqs` creates, sends, receives, deletes and reads attributes; an unknown queue shows AWS.SimpleQueueService.NonExistentQueue", async () => {
      const created = await aws(runtime, ["sqs", "create-queue", "--queue-name", "cli-queue", "--attributes", "VisibilityTimeout=7"]);
      assert.equal(created.code, 0, created.stderr);
      const queueUrl = JSON.parse(created.stdout).QueueUrl;
      assert.equal(queueUrl, `${runtime.origin}/123456789012/cli-queue`);
      const sent = await aws(runtime, [
        "sqs",
        "send-message",
        "--queue-url",
        queueUrl,
        "--message-body",
        "from the cli & <xml>",
        "--message-attributes",
        '{"kind":{"DataType":"String","StringValue":"cli"}}',
      ]);
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(JSON.parse(sent.stdout).MD5OfMessageBody, md5("from the cli & <xml>"));
      const received = await aws(runtime, [
        "sqs",
        "receive-message",
        "--queue-url",
        queueUrl,
        "--attribute-names",
        "All",
        "--message-attribute-names",
        "All",
        "--wait-time-seconds",
        "2",
      ]);
      assert.equal(received.code, 0, received.stderr);
      const [message] = JSON.parse(received.stdout).Messages;
      assert.equal(message.Body, "from the cli & <xml>");
      assert.equal(message.Attributes.ApproximateReceiveCount, "1");
      assert.deepEqual(message.MessageAttributes.kind, { StringValue: "cli", DataType: "String" });
      const deleted = await aws(runtime, ["sqs", "delete-message", "--queue-url", queueUrl, "--receipt-handle", message.ReceiptHandle]);
      assert.equal(deleted.code, 0, deleted.stderr);
      const attributes = await aws(runtime, ["sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "All"]);
      assert.equal(JSON.parse(attributes.stdout).Attributes.VisibilityTimeout, "7");
      assert.equal(JSON.parse(attributes.stdout).Attributes.ApproximateNumberOfMessages, "0");
      const listed = await aws(runtime, ["sqs", "list-queues", "--queue-name-prefix", "cli-"]);
      assert.deepEqual(JSON.parse(listed.stdout).QueueUrls, [queueUrl]);
      const missing = await aws(runtime, ["sqs", "get-queue-url", "--queue-name", "no-such-queue"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /\(AWS\.SimpleQueueService\.NonExistentQueue\) when calling the GetQueueUrl operation/);
    });

    it("`aws sns` creates a topic, subscribes a queue raw, publishes, lists; an unknown topic shows NotFound", async () => {
      const created = await aws(runtime, ["sns", "create-topic", "--name", "cli-topic"]);
      assert.equal(created.code, 0, created.stderr);
      const topicArn = JSON.parse(created.stdout).TopicArn;
      // As on AWS, SNS may deliver to the queue only when the queue's policy lets the topic in.
      await createQueue("cli-topic-queue", {
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "sns.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: "arn:aws:sqs:us-east-1:123456789012:cli-topic-queue",
              Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
            },
          ],
        }),
      });
      const subscribed = await aws(runtime, [
        "sns",
        "subscribe",
        "--topic-arn",
        topicArn,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        "arn:aws:sqs:us-east-1:123456789012:cli-topic-queue",
        "--attributes",
        "RawMessageDelivery=true",
      ]);
      assert.equal(subscribed.code, 0, subscribed.stderr);
      const published = await aws(runtime, ["sns", "publish", "--topic-arn", topicArn, "--message", "cli says hi", "--subject", "Hi"]);
      assert.equal(published.code, 0, published.stderr);
      assert.match(JSON.parse(published.stdout).MessageId, /^[0-9a-f-]{36}$/);
      const [message] = await collect(runtime, `${runtime.origin}/123456789012/cli-topic-queue`, 1);
      assert.equal(message.Body, "cli says hi");
      const listed = await aws(runtime, ["sns", "list-subscriptions-by-topic", "--topic-arn", topicArn]);
      assert.equal(JSON.parse(listed.stdout).Subscriptions[0].Protocol, "sqs");
      const missing = await aws(runtime, ["sns", "publish", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:nope", "--message", "x"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /\(NotFound\) when calling the Publish operation: Topic does not exist/);
    });
  });

  describePolicyValidation(() => runtime);
});
