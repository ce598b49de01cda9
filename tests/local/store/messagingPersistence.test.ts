/** SQS queues and messages, SNS topics, subscriptions and the outbox, read back after the store is reopened. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Outbox } from "../../../local/sns/outbox";
import { SnsPersistence } from "../../../local/sns/persistence";
import { TopicRegistry } from "../../../local/sns/topics";
import { SqsPersistence } from "../../../local/sqs/persistence";
import { QueueRegistry } from "../../../local/sqs/queues";
import { SqliteStore } from "../../../local/store/sqliteStore";

const ORIGIN = "http://127.0.0.1:4566";
const ACCOUNT = "123456789012";

describe("SQS and SNS state in the state folder", () => {
  let directory: string;
  let clock: number;
  const now = () => clock;
  const noLog = () => undefined;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "messaging-state-"));
    clock = 1_000_000;
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  function queues(store: SqliteStore): QueueRegistry {
    return new QueueRegistry(ORIGIN, "us-east-1", ACCOUNT, now, new SqsPersistence(store));
  }

  it("restores an API queue with its messages, receive counts and absolute visibility deadlines; a deleted message stays deleted", async () => {
    let store = SqliteStore.open(directory);
    let registry = queues(store);
    const queue = registry.create("work", { VisibilityTimeout: "40" });
    const url = queue.url;
    const kept = registry.sendMessage({
      QueueUrl: url,
      MessageBody: "in flight",
      MessageAttributes: { b: { DataType: "Binary", BinaryValue: Buffer.from([7]) } },
    });
    const [received] = queue.receive(1, 40);
    registry.sendMessage({ QueueUrl: url, MessageBody: "waiting" });
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    registry = queues(store);
    assert.deepEqual(registry.restore(noLog), { queues: 1, messages: 2 });
    const again = registry.byUrl(url);
    assert.equal(again.attributes.get("VisibilityTimeout"), "40");
    assert.deepEqual(again.counts(), { visible: 1, inFlight: 1, delayed: 0 });
    clock += 39_999;
    assert.deepEqual(
      again.receive(10, 30).map((message) => message.body),
      ["waiting"],
    );
    clock += 1;
    const [back] = again.receive(10, 30);
    assert.equal(back.messageId, kept.MessageId);
    assert.equal(back.receiveCount, 2);
    assert.deepEqual([...back.messageAttributes!.b.BinaryValue!], [7]);
    assert.notEqual(back.receiptHandle, received.receiptHandle);
    again.delete(back.messageId);
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    registry = queues(store);
    assert.deepEqual(registry.restore(noLog), { queues: 1, messages: 1 });
    store.close();
  });

  it("keeps counting receives across a restart, so redrive moves the message to the dead-letter queue at maxReceiveCount", async () => {
    let store = SqliteStore.open(directory);
    let registry = queues(store);
    const dlq = registry.create("dead", {}, true);
    const queue = registry.create("main", { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) }, true);
    registry.sendMessage({ QueueUrl: queue.url, MessageBody: "poison" });
    queue.receive(1, 0);
    queue.receive(1, 0);
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    registry = queues(store);
    // Declared queues come from the program at each start, before restore.
    const dlqAgain = registry.create("dead", {}, true);
    const queueAgain = registry.create(
      "main",
      { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) },
      true,
    );
    assert.deepEqual(registry.restore(noLog), { queues: 0, messages: 1 });
    assert.deepEqual(queueAgain.receive(1, 0), []);
    assert.deepEqual(
      dlqAgain.receive(1, 0).map((message) => message.body),
      ["poison"],
    );
    store.close();
  });

  it("drops a kept queue the program no longer declares, and says so with its message count", async () => {
    let store = SqliteStore.open(directory);
    let registry = queues(store);
    const queue = registry.create("gone", {}, true);
    registry.sendMessage({ QueueUrl: queue.url, MessageBody: "orphan" });
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    registry = queues(store);
    const lines: string[] = [];
    assert.deepEqual(
      registry.restore((line) => lines.push(line)),
      { queues: 0, messages: 0 },
    );
    assert.deepEqual(lines, ["queue gone is no longer declared by the program: removed with its 1 kept messages"]);
    assert.equal(registry.byQueueName("gone"), undefined);
    store.close();
  });

  it("restores API topics and subscriptions with their ARNs and attributes, and the outbox in delivery order", async () => {
    let store = SqliteStore.open(directory);
    let topics = new TopicRegistry("us-east-1", ACCOUNT, new SnsPersistence(store));
    let outbox = new Outbox(store.collection("sns.outbox"));
    const topic = topics.create("alerts", { DisplayName: "Alerts" });
    const subscription = topics.subscribe(topic, "email", "ops@example.com", { FilterPolicy: '{"level":["high"]}' });
    const removed = topics.subscribe(topic, "email", "old@example.com");
    topics.unsubscribe(removed.arn);
    for (const message of ["first", "second"]) {
      outbox.add({ topicArn: topic.arn, protocol: "email", endpoint: "ops@example.com", subject: null, message, timestamp: "t" });
    }
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    topics = new TopicRegistry("us-east-1", ACCOUNT, new SnsPersistence(store));
    outbox = new Outbox(store.collection("sns.outbox"));
    assert.deepEqual(topics.restore(noLog), { topics: 1, subscriptions: 1 });
    const again = topics.get(topic.arn);
    assert.equal(again.attributes.get("DisplayName"), "Alerts");
    assert.deepEqual([...again.subscriptions.keys()], [subscription.arn]);
    assert.equal(topics.subscription(subscription.arn).attributes.get("FilterPolicy"), '{"level":["high"]}');
    assert.equal(outbox.restored, 2);
    outbox.add({ topicArn: topic.arn, protocol: "email", endpoint: "ops@example.com", subject: null, message: "third", timestamp: "t" });
    assert.deepEqual(
      outbox.list().map((entry) => entry.message),
      ["first", "second", "third"],
    );
    await store.committed();
    store.close();
    store = SqliteStore.open(directory);
    assert.deepEqual(
      new Outbox(store.collection("sns.outbox")).list().map((entry) => entry.message),
      ["first", "second", "third"],
    );
    store.close();
  });
});
