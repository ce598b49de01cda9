/**
 * Watch mode for SQS and SNS, on a small temporary program: a reload applies added, changed and removed
 * queues, topics, subscriptions and event source mappings as `pulumi up` would, and a queue that stays keeps
 * its messages. One runtime for every rule here (each reload evaluates the program again).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetTopicAttributesCommand, ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { startLocalRuntime, type LocalRuntime } from "../../../local/host/runtime";

const REPOSITORY = path.resolve(__dirname, "../../..");
const CLIENT = { region: "eu-west-1", credentials: { accessKeyId: "AKIDWATCH", secretAccessKey: "watch" } };

/** The program before any edit: two queues, a topic sending to one of them, and a worker with no mapping yet. */
const PROGRAM = `import * as aws from "@pulumi/aws";
const role = new aws.iam.Role("worker-role", {
  assumeRolePolicy: JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } }],
  }),
});
const worker = new aws.lambda.CallbackFunction("worker", { role, runtime: "nodejs20.x", timeout: 5, callback: async () => ({}) });
const inbox = new aws.sqs.Queue("inbox", { name: "inbox", visibilityTimeoutSeconds: 30 });
const scratch = new aws.sqs.Queue("scratch", { name: "scratch" });
const work = new aws.sqs.Queue("work", { name: "work" });
const news = new aws.sns.Topic("news", { name: "news", displayName: "News" });
new aws.sns.TopicSubscription("news-to-inbox", { topic: news.arn, protocol: "sqs", endpoint: inbox.arn });
// MAPPING
export const inboxUrl = inbox.url;
export const scratchUrl = scratch.url;
export const workUrl = work.url;
export const newsArn = news.arn;
`;
const MAPPING = `new aws.lambda.EventSourceMapping("work-to-worker", { eventSourceArn: work.arn, functionName: worker.name, batchSize: 1 });`;

describe("watch mode: a reload applies SQS and SNS changes, keeping the messages of a kept queue", function () {
  this.timeout(600_000);
  let project: string;
  let runtime: LocalRuntime;
  let sqs: SQSClient;
  let sns: SNSClient;
  const lines: string[] = [];
  let wakeReaders: Array<() => void> = [];

  async function reloadAfter(change: (program: string) => string): Promise<string> {
    const mark = lines.length;
    const file = path.join(project, "index.ts");
    const before = fs.readFileSync(file, "utf8");
    const after = change(before);
    assert.notEqual(after, before, "the edit changes the program");
    fs.writeFileSync(file, after);
    for (;;) {
      const line = lines.slice(mark).find((candidate) => /^\[reload\] (reloaded in|the program failed|reload applied)/.test(candidate));
      if (line) {
        assert.match(line, /^\[reload\] reloaded in \d+ ms: /);
        return line;
      }
      await new Promise<void>((resolve) => wakeReaders.push(resolve));
      wakeReaders = [];
    }
  }

  async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(Attributes!.ApproximateNumberOfMessages),
      inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible),
    };
  }

  const output = (name: string) => String(runtime.program.outputs[name]);

  before(async () => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "watch-messaging-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: watch-messaging\nruntime: nodejs\n");
    fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  aws:region: eu-west-1\n");
    fs.writeFileSync(path.join(project, "index.ts"), PROGRAM);
    for (const file of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(REPOSITORY, file), path.join(project, file));
    fs.symlinkSync(path.join(REPOSITORY, "node_modules"), path.join(project, "node_modules"), "dir");
    const log = (source: string, line: string) => {
      lines.push(`[${source}] ${line}`);
      for (const wake of wakeReaders) wake();
    };
    // IAM is not what this tests: the roles carry no policies.
    runtime = await startLocalRuntime({
      projectDirectory: project,
      port: 0,
      log,
      watch: true,
      nodePolicy: "machine",
      iamMode: "off",
      state: "memory",
    });
    sqs = new SQSClient({ ...CLIENT, endpoint: runtime.origin });
    sns = new SNSClient({ ...CLIENT, endpoint: runtime.origin });
  });

  after(async () => {
    if (process.env.DEBUG_WATCH) console.log(lines.join("\n"));
    await runtime?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it("updates a changed queue and topic in place, deletes a removed queue and remakes a changed subscription", async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: output("inboxUrl"), MessageBody: "sent before the edit" }));
    const scratchUrl = output("scratchUrl");

    const reloaded = await reloadAfter((program) =>
      program
        .replace(`visibilityTimeoutSeconds: 30`, `visibilityTimeoutSeconds: 45, delaySeconds: 0`)
        .replace(`const scratch = new aws.sqs.Queue("scratch", { name: "scratch" });\n`, "")
        .replace(`export const scratchUrl = scratch.url;\n`, "")
        .replace(`displayName: "News"`, `displayName: "Headlines"`)
        .replace(`endpoint: inbox.arn }`, `endpoint: inbox.arn, rawMessageDelivery: true }`),
    );
    assert.match(reloaded, /removed/);
    assert.ok(
      lines.some((line) => line === "[sqs] queue scratch removed: deleted"),
      "the log says the queue went",
    );

    const inbox = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: output("inboxUrl"), AttributeNames: ["VisibilityTimeout"] }));
    assert.equal(inbox.Attributes!.VisibilityTimeout, "45");
    await assert.rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: scratchUrl, AttributeNames: ["All"] })), (error: Error) => {
      assert.match(error.name, /QueueDoesNotExist|NonExistentQueue/);
      return true;
    });
    const topic = await sns.send(new GetTopicAttributesCommand({ TopicArn: output("newsArn") }));
    assert.equal(topic.Attributes!.DisplayName, "Headlines");
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: output("newsArn") }));
    assert.equal(Subscriptions!.length, 1, "the changed subscription replaced the old one");

    // The raw delivery the edit asked for: the queue receives the message itself, not SNS's JSON envelope.
    await sns.send(new PublishCommand({ TopicArn: output("newsArn"), Message: "published after the edit" }));
    const bodies: string[] = [];
    while (bodies.length < 2) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: output("inboxUrl"), MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
      );
      bodies.push(...(Messages ?? []).map((message) => message.Body!));
    }
    assert.deepEqual(bodies.sort(), ["published after the edit", "sent before the edit"]);
  });

  it("starts an added event source mapping, and stops a removed one", async () => {
    const workUrl = output("workUrl");
    await sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: "waiting for a worker" }));
    assert.deepEqual(await counts(workUrl), { visible: 1, inFlight: 0 });

    await reloadAfter((program) => program.replace("// MAPPING", MAPPING));
    // The worker succeeds, so the mapping deletes the message it got.
    for (let tries = 0; JSON.stringify(await counts(workUrl)) !== JSON.stringify({ visible: 0, inFlight: 0 }); tries++) {
      assert.ok(tries < 200, "the added mapping consumes the queue");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    await reloadAfter((program) => program.replace(MAPPING, "// MAPPING"));
    assert.ok(
      lines.some((line) => /^\[sqs\] event source mapping work-to-worker removed/.test(line)),
      "the log says the mapping went",
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: "nobody receives this" }));
    // A running mapping long-polls, so it would take the message at once; a stopped one leaves it visible.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(await counts(workUrl), { visible: 1, inFlight: 0 });
  });
});
