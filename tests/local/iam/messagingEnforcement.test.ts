/**
 * IAM enforced on SQS and SNS, on a temporary copy of the messaging fixture with three statements changed: the
 * state machine's role may no longer send to the callbacks queue, the jobs worker's role may no longer delete from
 * the jobs queue, and the enveloped fan-out queue's policy lets in another topic than the one subscribed. Exactly
 * those calls fail, as on AWS; everything the fixture still grants keeps working under enforcement.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PublishCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { startLocalRuntime, type LocalRuntime } from "../../../local/host/runtime";
import { aws } from "../messaging/support";

const REPOSITORY = path.resolve(__dirname, "../../..");
const FIXTURE = path.join(REPOSITORY, "tests/local/messaging/fixture");
const TERMINAL = { accessKeyId: "AKIDTERMINAL", secretAccessKey: "terminal" };

/** The fixture as is, but for the three statements changed (each patch must apply exactly once). */
function copyFixtureWithThreeStatementsChanged(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "iam-messaging-"));
  for (const entry of fs.readdirSync(FIXTURE)) fs.cpSync(path.join(FIXTURE, entry), path.join(directory, entry), { recursive: true });
  fs.symlinkSync(path.join(REPOSITORY, "node_modules"), path.join(directory, "node_modules"));
  // The program is evaluated in a child process started in the copy: ts-node there needs the project's settings,
  // and Pulumi's closure serialization a package.json.
  for (const file of ["tsconfig.json", "package.json"]) fs.copyFileSync(path.join(REPOSITORY, file), path.join(directory, file));
  const program = path.join(directory, "index.ts");
  patch(program, `{ Sid: "SendCallbacks", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: callbacks.arn },`, "");
  patch(
    program,
    `{ Sid: "ConsumeJobs", Effect: "Allow", Action: consume, Resource: jobs.arn },`,
    `{ Sid: "ConsumeJobs", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"], Resource: jobs.arn },`,
  );
  patch(
    program,
    `topicSends("fanout-envelope-policy", envelopeQueue, events.arn);`,
    `topicSends("fanout-envelope-policy", envelopeQueue, approvals.arn);`,
  );
  return directory;
}

function patch(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, "utf8");
  assert.equal(text.split(from).length, 2, `${file} must contain ${from} exactly once`);
  fs.writeFileSync(file, text.replace(from, to));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("local IAM enforcement on SQS and SNS (a copy of the messaging fixture with three statements changed)", function () {
  this.timeout(120_000);
  let directory: string;
  let runtime: LocalRuntime;
  const logLines: string[] = [];
  let out: Record<string, string>;
  let sqs: SQSClient;
  let sns: SNSClient;
  let sfn: SFNClient;

  before(async () => {
    directory = copyFixtureWithThreeStatementsChanged();
    runtime = await startLocalRuntime({
      projectDirectory: directory,
      configOverrides: ["local:iamTerminalAccessKeys=AKIDTERMINAL"],
      port: 0,
      state: "memory",
      nodePolicy: "machine",
      log: (source, line) => logLines.push(`[${source}] ${line}`),
    });
    out = runtime.program.outputs as Record<string, string>;
    sqs = client(SQSClient);
    sns = client(SNSClient);
    sfn = client(SFNClient);
  });

  after(async () => {
    for (const each of [sqs, sns, sfn]) each?.destroy();
    await runtime?.close();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  const client = <T>(Client: new (config: any) => T, credentials: object = TERMINAL): T =>
    new Client({ endpoint: runtime.origin, region: "us-east-1", credentials, maxAttempts: 1 });
  const queueArn = (url: string) => `arn:aws:sqs:us-east-1:123456789012:${url.split("/").pop()}`;
  /** The declared function whose name starts with `prefix` (the fake cloud adds a suffix, as Pulumi does). */
  const functionNamed = (prefix: string) => [...runtime.lambda.declaredFunctions.keys()].find((name) => name.startsWith(prefix))!;
  const credentialsOf = (functionName: string) => {
    const environment = runtime.lambda.declaredFunctions.get(functionName)!.config.environment;
    return {
      accessKeyId: environment.AWS_ACCESS_KEY_ID,
      secretAccessKey: environment.AWS_SECRET_ACCESS_KEY,
      sessionToken: environment.AWS_SESSION_TOKEN,
    };
  };

  async function runToEnd(stateMachineArn: string, input: object) {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== "RUNNING") return execution;
      await sleep(100);
    }
  }

  /** Receives (and deletes) from a queue until `count` messages match, or the time is up. */
  async function receive(queueUrl: string, count: number, accept: (body: string) => boolean, timeoutMs: number): Promise<string[]> {
    const bodies: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (bodies.length < count && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        if (accept(message.Body!)) bodies.push(message.Body!);
      }
    }
    return bodies;
  }

  it("fails the SQS callback task with SQS.AmazonSQSException (403 AccessDenied) when the state machine's role may not sqs:SendMessage", async () => {
    const execution = await runToEnd(out.sqsCallbackArn, { order: 1 });
    assert.equal(execution.status, "FAILED");
    assert.equal(execution.error, "SQS.AmazonSQSException");
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn }));
    const failed = events!.find((event) => event.type === "TaskFailed")!.taskFailedEventDetails!;
    assert.equal(failed.resourceType, "sqs");
    assert.equal(failed.resource, "sendMessage.waitForTaskToken");
    const callbacks = queueArn(out.callbacksUrl);
    const roleName = "states-role";
    assert.match(
      failed.cause!,
      new RegExp(
        `^User: arn:aws:sts::123456789012:assumed-role/${roleName}[^/]*/[^ ]+ is not authorized to perform: sqs:sendmessage on resource: ${callbacks} ` +
          `because no identity-based policy allows the sqs:sendmessage action \\(Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied; Request ID: [0-9a-f-]{36}; Proxy: null\\)$`,
      ),
    );
    const denied = runtime.iam.deniedCalls(execution.executionArn);
    assert.deepEqual(
      denied.map((call) => [call.action, call.resource]),
      [["sqs:SendMessage", callbacks]],
    );
    assert.ok(
      logLines.some(
        (line) => line.startsWith(`[iam] DENIED role ${roleName}`) && line.includes(`"Action":"sqs:SendMessage","Resource":"${callbacks}"`),
      ),
      "one log line names the role, the action, the queue and the statement that would allow it",
    );
  });

  it("still runs what the state machine's role grants: sqs:sendMessage to the jobs queue and sns:publish to the topic", async () => {
    const execution = await runToEnd(out.plainTasksArn, { body: "ok-plain" });
    assert.equal(execution.status, "SUCCEEDED");
    const output = JSON.parse(execution.output!);
    assert.match(output.sent.MessageId, /^[0-9a-f-]{36}$/);
    assert.match(output.published.MessageId, /^[0-9a-f-]{36}$/);
    assert.equal(output.missingError.Error, "SQS.QueueDoesNotExistException");
  });

  it("leaves a handled message in the queue when the worker's role may not sqs:DeleteMessage: it is delivered again", async () => {
    const worker = functionNamed("jobs-worker");
    const jobs = queueArn(out.jobsUrl);
    assert.ok(
      logLines.some(
        (line) =>
          line.startsWith("[sqs] event source mapping") &&
          line.includes(jobs) &&
          line.includes("The provided execution role does not have permissions to call DeleteMessage on SQS"),
      ),
      "the start says AWS would refuse to create the mapping",
    );
    const body = `ok-${Date.now()}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: out.jobsUrl, MessageBody: body }));
    // The visibility timeout is 5 s: the same message comes back once, with a higher receive count.
    const attempts = await receive(out.attemptsUrl, 2, (text) => JSON.parse(text).body === body, 20_000);
    assert.deepEqual(
      attempts.map((text) => JSON.parse(text).receiveCount),
      [1, 2],
    );
    const denied = runtime.iam.deniedCalls().filter((call) => call.action === "sqs:DeleteMessage");
    assert.ok(denied.length >= 2, JSON.stringify(denied));
    for (const call of denied) {
      assert.equal(call.resource, jobs);
      assert.match(call.principal, new RegExp(`^arn:aws:sts::123456789012:assumed-role/worker-role[^/]*/${worker}$`));
    }
  });

  it("delivers SNS to a queue only when the queue's policy names the topic, and to Lambda by the function's permission", async () => {
    const before = runtime.iam.deniedCalls().length;
    const message = `fan-${Date.now()}`;
    await sns.send(new PublishCommand({ TopicArn: out.eventsTopicArn, Message: message }));
    assert.deepEqual(await receive(out.rawQueueUrl, 1, (text) => text === message, 10_000), [message]);
    const seen = await receive(out.lambdaSeenUrl, 1, (text) => text.includes(message), 10_000);
    assert.equal(JSON.parse(seen[0]).Records[0].Sns.Message, message);
    // The enveloped queue's policy lets in the approvals topic, not this one: SNS is refused, and does not retry.
    await sleep(500);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: out.envelopeQueueUrl, WaitTimeSeconds: 1 }))).Messages, undefined);
    // SNS's own denials only: the jobs worker's refused deletes of the previous test's message go on meanwhile.
    const denied = runtime.iam
      .deniedCalls()
      .slice(before)
      .filter((call) => call.principal === "sns.amazonaws.com");
    assert.deepEqual(
      denied.map((call) => [call.principal, call.action, call.resource]),
      [["sns.amazonaws.com", "sqs:SendMessage", queueArn(out.envelopeQueueUrl)]],
    );
    assert.ok(
      logLines.some(
        (line) => line.startsWith("[sns] delivery of") && line.includes("FAILED: AccessDenied") && line.includes("does not retry"),
      ),
    );
  });

  it("reads a queue's policy as set through SQS's API: SNS is refused until SetQueueAttributes gives the queue one naming the topic", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "api-made" }));
    const arn = queueArn(QueueUrl!);
    await sns.send(
      new SubscribeCommand({ TopicArn: out.eventsTopicArn, Protocol: "sqs", Endpoint: arn, Attributes: { RawMessageDelivery: "true" } }),
    );
    await sns.send(new PublishCommand({ TopicArn: out.eventsTopicArn, Message: "before the policy" }));
    await sleep(500);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))).Messages, undefined);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: arn,
          Condition: { ArnEquals: { "aws:SourceArn": out.eventsTopicArn } },
        },
      ],
    };
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
    await sns.send(new PublishCommand({ TopicArn: out.eventsTopicArn, Message: "after the policy" }));
    assert.deepEqual(await receive(QueueUrl!, 1, () => true, 10_000), ["after the policy"]);
  });

  it("refuses a function's SQS and SNS calls its role does not name: SQS AccessDenied (JSON protocol), SNS AuthorizationError (query protocol)", async () => {
    const worker = credentialsOf(functionNamed("jobs-worker"));
    await assert.rejects(
      client(SQSClient, worker).send(new SendMessageCommand({ QueueUrl: out.jobsUrl, MessageBody: "x" })),
      (error: any) => {
        assert.equal(error.name, "AccessDenied");
        assert.equal(error.$metadata.httpStatusCode, 403);
        assert.match(error.message, new RegExp(`not authorized to perform: sqs:sendmessage on resource: ${queueArn(out.jobsUrl)} because`));
        return true;
      },
    );
    await assert.rejects(
      client(SNSClient, worker).send(new PublishCommand({ TopicArn: out.eventsTopicArn, Message: "x" })),
      (error: any) => {
        assert.equal(error.name, "AuthorizationErrorException");
        assert.equal(error.$metadata.httpStatusCode, 403);
        assert.match(error.message, new RegExp(`not authorized to perform: SNS:Publish on resource: ${out.eventsTopicArn} because`));
        return true;
      },
    );
    // The AWS CLI 2.9 speaks SQS's query protocol: the same refusal as XML.
    const cli = await aws(runtime, ["sqs", "send-message", "--queue-url", out.jobsUrl, "--message-body", "x"], worker);
    assert.notEqual(cli.code, 0);
    assert.match(
      cli.stderr,
      /An error occurred \(AccessDenied\) when calling the SendMessage operation: User: arn:aws:sts::123456789012:assumed-role\/.+ is not authorized to perform: sqs:sendmessage on resource/,
    );
    // What the role does name is allowed.
    const sent = await client(SQSClient, worker).send(
      new SendMessageCommand({ QueueUrl: out.attemptsUrl, MessageBody: JSON.stringify({ body: "mine" }) }),
    );
    assert.match(sent.MessageId!, /^[0-9a-f-]{36}$/);
  });
});
