/**
 * The demo stack's four workflows through the real `npm start` (one runtime for the whole file: the machine is
 * small), driven only as a user would: curl-like HTTP to the printed URLs, the AWS CLI (`/usr/bin/aws
 * --endpoint-url`) and the SDK v3 pointed at the printed origin. Short timeouts come from `-c` overrides.
 */
import * as assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { historyOf, start, startRuntime, waitForEnd, type RuntimeProcess } from "./runtimeProcess";

const AWS_CLI = "/usr/bin/aws";
const TIMEOUT_SECONDS = 4;
const APPROVAL_EMAIL = "approver@example.com";

interface OutboxEntry {
  topicArn: string;
  protocol: string;
  endpoint: string;
  subject?: string;
  message: string;
  timestamp: string;
}

function aws(runtime: RuntimeProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      ["--endpoint-url", runtime.origin, "--region", "us-east-1", "--output", "json", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: os.tmpdir(),
          AWS_ACCESS_KEY_ID: "AKIDCLI",
          AWS_SECRET_ACCESS_KEY: "cli",
          AWS_PAGER: "",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("local runtime end to end: the demo stack's four workflows and their channels", function () {
  this.timeout(60_000);
  let runtime: RuntimeProcess;
  let sqs: SQSClient;
  let sns: SNSClient;

  before(async function () {
    this.timeout(180_000);
    assert.ok(fs.existsSync(AWS_CLI), `${AWS_CLI} is missing: install Debian's awscli package`);
    runtime = await startRuntime([
      "-c",
      `timeoutSeconds=${TIMEOUT_SECONDS}`,
      "-c",
      "heartbeatSeconds=0",
      "-c",
      "failureRate=0",
      "-c",
      "sqsVisibilityTimeoutSeconds=1",
    ]);
    const client = { endpoint: runtime.origin, region: "us-east-1", credentials: { accessKeyId: "AKIDE2E", secretAccessKey: "e2e" } };
    sqs = new SQSClient(client);
    sns = new SNSClient(client);
  });
  after(async () => {
    if (process.env.E2E_DUMP) console.log(runtime?.output());
    sqs?.destroy();
    sns?.destroy();
    if (runtime) await runtime.stop();
  });

  async function startAt(url: string, input: unknown): Promise<string> {
    const response = await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`);
    const body = (await response.json()) as { executionArn: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.executionArn;
  }

  async function outbox(): Promise<OutboxEntry[]> {
    const response = await fetch(`${runtime.origin}/_local/sns/messages`);
    assert.equal(response.status, 200);
    return (await response.json()) as OutboxEntry[];
  }

  /** The approval email naming this execution, and its two links. */
  async function approvalEmailFor(executionArn: string): Promise<{ entry: OutboxEntry; approve: string; reject: string }> {
    const entry = await eventually("the approval email", async () =>
      (await outbox()).find((candidate) => candidate.message.includes(`Execution: ${executionArn}\n`)),
    );
    const approve = /^Approve: (\S+)$/m.exec(entry.message)?.[1];
    const reject = /^Reject: (\S+)$/m.exec(entry.message)?.[1];
    assert.ok(approve && reject, `links in:\n${entry.message}`);
    return { entry, approve, reject };
  }

  describe("the SQS workflow (sqsStartUrl): a worker on the queue answers the token", () => {
    it("input {} succeeds with the worker's output, the token having gone through sqs:sendMessage.waitForTaskToken", async () => {
      const executionArn = await startAt(runtime.outputs.sqsStartUrl, {});
      const ended = await waitForEnd(runtime, executionArn);
      assert.equal(ended.status, "SUCCEEDED", `${ended.error}: ${ended.cause}`);
      const output = JSON.parse(ended.output!);
      assert.equal(output.status, "DONE");
      assert.match(output.messageId, /^[0-9a-f-]{36}$/);
      const scheduled = (await historyOf(runtime, executionArn)).find((event) => event.type === "TaskScheduled")!;
      assert.equal(scheduled.taskScheduledEventDetails!.resourceType, "sqs");
      assert.equal(scheduled.taskScheduledEventDetails!.resource, "sendMessage.waitForTaskToken");
      assert.equal(JSON.parse(scheduled.taskScheduledEventDetails!.parameters!).QueueUrl, runtime.outputs.sqsQueueUrl);
    });

    it('input {"outcome":"failure"} ends FAILED with ProcessingFailed, reported by the worker', async () => {
      const ended = await waitForEnd(runtime, await startAt(runtime.outputs.sqsStartUrl, { outcome: "failure" }));
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "ProcessingFailed");
      assert.equal(ended.cause, 'The execution input asked for failure (outcome: "failure")');
    });

    it('a crashing worker ({"outcome":"crash"}): the message comes back after its visibility timeout and reaches the DLQ on its 4th receive; the execution times out', async () => {
      const input = { outcome: "crash", request: randomUUID() };
      const executionArn = await startAt(runtime.outputs.sqsStartUrl, input);
      const dead = await eventually("the crashed message in the dead-letter queue", async () => {
        const received = await aws(runtime, [
          "sqs",
          "receive-message",
          "--queue-url",
          runtime.outputs.sqsDeadLetterQueueUrl,
          "--visibility-timeout",
          "60",
        ]);
        assert.equal(received.code, 0, received.stderr);
        const messages = received.stdout.trim() ? (JSON.parse(received.stdout).Messages ?? []) : [];
        return messages.find((message: { Body: string }) => JSON.parse(message.Body).input?.request === input.request) as
          { Body: string; Attributes: Record<string, string> } | undefined;
      });
      assert.deepEqual(JSON.parse(dead.Body).input, input);
      const crashes = runtime
        .output()
        .split("\n")
        .filter((line) => line.includes("RequestedCrash") && line.includes("it will be delivered again"));
      // The only crashing message of this runtime: delivered maxReceiveCount (3) times, then moved on the 4th receive.
      assert.equal(crashes.length, 3, `the worker saw the message 3 times:\n${crashes.join("\n")}`);
      const ended = await waitForEnd(runtime, executionArn, (TIMEOUT_SECONDS + 10) * 1000);
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "TimedOut");
    });
  });

  describe("the approval workflow (approvalStartUrl): an email with approve and reject links", () => {
    it("the outbox answers 304 to the ETag it gave until a new mail arrives, then the longer list with a new ETag", async () => {
      const first = await fetch(`${runtime.origin}/_local/sns/messages`);
      const etag = first.headers.get("etag")!;
      const before = (await first.json()) as OutboxEntry[];
      assert.match(etag, new RegExp(`^"[0-9a-f]{12}-${before.length}"$`));
      const unchanged = await fetch(`${runtime.origin}/_local/sns/messages`, { headers: { "If-None-Match": etag } });
      assert.equal(unchanged.status, 304);
      assert.equal(await unchanged.text(), "");
      await approvalEmailFor(await startAt(runtime.outputs.approvalStartUrl, { order: 7 }));
      const changed = await fetch(`${runtime.origin}/_local/sns/messages`, { headers: { "If-None-Match": etag } });
      assert.equal(changed.status, 200);
      const after = (await changed.json()) as OutboxEntry[];
      assert.ok(after.length > before.length);
      assert.deepEqual(after.slice(0, before.length), before, "the outbox only grows");
      assert.equal(changed.headers.get("etag"), etag.replace(/-\d+"$/, `-${after.length}"`));
    });

    it("emails the configured approver through SNS: the outbox holds the message, naming the execution, with links on the local origin", async () => {
      const executionArn = await startAt(runtime.outputs.approvalStartUrl, { order: 42 });
      const { entry, approve, reject } = await approvalEmailFor(executionArn);
      assert.equal(entry.topicArn, runtime.outputs.approvalTopicArn);
      assert.equal(entry.protocol, "email");
      assert.equal(entry.endpoint, APPROVAL_EMAIL);
      assert.equal(entry.subject, `Approval requested: ${executionArn.split(":").pop()}`);
      assert.match(entry.message, /"order": 42/);
      for (const link of [approve, reject]) assert.ok(link.startsWith(`${runtime.origin}/`), link);
      assert.ok(approve.startsWith(`${runtime.outputs.approvalLinksUrl}/approve?token=`), approve);
      await fetch(reject);
    });

    it("following the approve link answers 200 and the execution succeeds; a second click answers 409 already decided", async () => {
      const executionArn = await startAt(runtime.outputs.approvalStartUrl, {});
      const { approve, reject } = await approvalEmailFor(executionArn);
      const first = await fetch(approve);
      assert.equal(first.status, 200, await first.text());
      assert.match(first.headers.get("content-type") ?? "", /^text\/html/);
      const ended = await waitForEnd(runtime, executionArn);
      assert.equal(ended.status, "SUCCEEDED", `${ended.error}: ${ended.cause}`);
      for (const again of [approve, reject]) {
        const second = await fetch(again);
        assert.equal(second.status, 409);
        assert.match(await second.text(), /already approved or rejected, or it expired/);
      }
      assert.equal((await waitForEnd(runtime, executionArn)).status, "SUCCEEDED");
    });

    it("following the reject link fails the task with Rejected, which the workflow catches into RequestRejected", async () => {
      const executionArn = await startAt(runtime.outputs.approvalStartUrl, {});
      const { reject } = await approvalEmailFor(executionArn);
      const clicked = await fetch(reject);
      assert.equal(clicked.status, 200, await clicked.text());
      const ended = await waitForEnd(runtime, executionArn);
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "Rejected");
      const events = await historyOf(runtime, executionArn);
      assert.equal(events.find((event) => event.type === "TaskFailed")!.taskFailedEventDetails!.error, "Rejected");
      assert.ok(events.some((event) => event.type === "FailStateEntered" && event.stateEnteredEventDetails!.name === "RequestRejected"));
    });

    it("an expired request: the execution times out into TimedOut, and its link then answers 409", async () => {
      const executionArn = await startAt(runtime.outputs.approvalStartUrl, {});
      const { approve } = await approvalEmailFor(executionArn);
      const ended = await waitForEnd(runtime, executionArn, (TIMEOUT_SECONDS + 10) * 1000);
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "TimedOut");
      const late = await fetch(approve);
      assert.equal(late.status, 409);
      assert.match(await late.text(), /expired/);
    });

    it("a link whose token was tampered with answers 400 and decides nothing", async () => {
      const executionArn = await startAt(runtime.outputs.approvalStartUrl, {});
      const { approve, reject } = await approvalEmailFor(executionArn);
      const forged = approve.replace(/token=([A-Za-z0-9_-]+)/, (_, token: string) => `token=${token.slice(0, -2)}x`);
      assert.equal((await fetch(forged)).status, 400);
      assert.equal((await runtime.sfn.send(new DescribeExecutionCommand({ executionArn }))).status, "RUNNING");
      await fetch(reject);
    });
  });

  it("SNS → SQS fan-out: one publish reaches every subscribed queue, enveloped unless raw delivery is set", async () => {
    const topicArn = runtime.outputs.approvalTopicArn;
    const [, , , region, account] = topicArn.split(":");
    // As on AWS, SNS delivers only to a queue whose policy lets the topic send (IAM is enforced here).
    const topicSends = (name: string) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: `arn:aws:sqs:${region}:${account}:${name}`,
            Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
          },
        ],
      });
    const queues = await Promise.all(
      ["fanout-enveloped", "fanout-raw"].map(async (name) => {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { Policy: topicSends(name) } }));
        const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
        return { url: QueueUrl!, arn: Attributes!.QueueArn! };
      }),
    );
    const subscriptions = await Promise.all(
      queues.map((queue, index) =>
        sns.send(
          new SubscribeCommand({
            TopicArn: topicArn,
            Protocol: "sqs",
            Endpoint: queue.arn,
            Attributes: index === 1 ? { RawMessageDelivery: "true" } : undefined,
          }),
        ),
      ),
    );
    try {
      const published = await aws(runtime, ["sns", "publish", "--topic-arn", topicArn, "--message", "fan-out check", "--subject", "Fan"]);
      assert.equal(published.code, 0, published.stderr);
      const { MessageId } = JSON.parse(published.stdout);
      const [enveloped, raw] = await Promise.all(
        queues.map(async (queue) => {
          const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }));
          assert.equal(Messages?.length, 1);
          return Messages![0].Body!;
        }),
      );
      const envelope = JSON.parse(enveloped);
      assert.equal(envelope.Type, "Notification");
      assert.equal(envelope.MessageId, MessageId);
      assert.equal(envelope.TopicArn, topicArn);
      assert.equal(envelope.Subject, "Fan");
      assert.equal(envelope.Message, "fan-out check");
      assert.equal(raw, "fan-out check");
      // The email subscriber got the same publish.
      assert.ok((await outbox()).some((entry) => entry.message === "fan-out check" && entry.endpoint === APPROVAL_EMAIL));
    } finally {
      await Promise.all(subscriptions.map(({ SubscriptionArn }) => sns.send(new UnsubscribeCommand({ SubscriptionArn }))));
      await Promise.all(queues.map((queue) => sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url }))));
    }
  });

  it("each of the four workflows reaches its end: the demo, the pipeline, the SQS callback and the approval", async () => {
    const demo = (await start(runtime, { outcome: "success", document: "one two" })).body.executionArn as string;
    const pipelineResponse = await fetch(runtime.outputs.pipelineStartUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ document: "three words here\n" }),
    });
    assert.equal(pipelineResponse.status, 200);
    const pipeline = ((await pipelineResponse.json()) as { executionArn: string }).executionArn;
    const sqsExecution = await startAt(runtime.outputs.sqsStartUrl, {});
    const approval = await startAt(runtime.outputs.approvalStartUrl, {});
    const approvedClick = await fetch((await approvalEmailFor(approval)).approve);
    assert.equal(approvedClick.status, 200);
    const ended = await Promise.all([demo, pipeline, sqsExecution, approval].map((arn) => waitForEnd(runtime, arn, 30_000)));
    assert.deepEqual(
      ended.map((described) => [described.stateMachineArn, described.status]),
      [
        [runtime.outputs.stateMachineArn, "SUCCEEDED"],
        [runtime.outputs.pipelineStateMachineArn, "SUCCEEDED"],
        [runtime.outputs.sqsStateMachineArn, "SUCCEEDED"],
        [runtime.outputs.approvalStateMachineArn, "SUCCEEDED"],
      ],
    );
    assert.equal(JSON.parse(ended[1].output!).totals.words, 3);
  });
});
