/**
 * The real program (index.ts) run by `npm start`'s command in a child process, driven only as a user would:
 * HTTP to the printed startUrl and the AWS SDK v3 Step Functions client pointed at the printed origin.
 */
import * as assert from "node:assert/strict";
import {
  DescribeExecutionCommand,
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { historyOf, start, startRuntime, waitForEnd, waitingTaskToken, type RuntimeProcess } from "./runtimeProcess";

const TIMEOUT_SECONDS = 3;

describe("local runtime end to end: the callback workflow through HTTP and the AWS SDK", function () {
  this.timeout(60_000);
  let runtime: RuntimeProcess;

  before(async function () {
    this.timeout(180_000);
    runtime = await startRuntime(["-c", `timeoutSeconds=${TIMEOUT_SECONDS}`, "-c", "heartbeatSeconds=0", "-c", "failureRate=0"]);
  });
  after(async () => {
    if (runtime) await runtime.stop();
  });

  it("prints the stack outputs with startUrl on the local origin, as `pulumi stack output` would", () => {
    assert.equal(runtime.outputs.startUrl, `${runtime.origin}/start`);
    assert.match(
      runtime.outputs.stateMachineArn,
      /^arn:aws:states:us-east-1:123456789012:stateMachine:callback-state-machine-[0-9a-f]{7}$/,
    );
    assert.match(runtime.output(), /^Current stack outputs \(\d+\):\n {4}OUTPUT +VALUE\n/m);
  });

  it("GET /start answers 200 with the executionArn and startDate, and the execution succeeds with the callback's output", async () => {
    const before = Date.now() / 1000;
    const { status, body } = await start(runtime, { outcome: "success", document: "one two three" });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ["executionArn", "startDate"]);
    assert.match(
      body.executionArn,
      new RegExp(`^${runtime.outputs.stateMachineArn.replace(":stateMachine:", ":execution:")}:[0-9a-f-]{36}$`),
    );
    assert.ok(body.startDate >= before - 1 && body.startDate <= Date.now() / 1000 + 1, `startDate ${body.startDate} is epoch seconds`);
    const ended = await waitForEnd(runtime, body.executionArn);
    assert.equal(ended.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(ended.output!), { status: "COMPLETED", decidedBy: "input", chunkCount: 1, wordCount: 3 });
  });

  it("records the callback task's history with AWS's event names, in AWS's order", async () => {
    const { body } = await start(runtime, { outcome: "success" });
    await waitForEnd(runtime, body.executionArn);
    const events = await historyOf(runtime, body.executionArn);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
      ],
    );
    assert.deepEqual(
      events.map((event) => event.id),
      events.map((_event, index) => index + 1),
    );
    const waitScheduled = events.filter((event) => event.type === "TaskScheduled")[1].taskScheduledEventDetails!;
    assert.equal(waitScheduled.resource, "invoke.waitForTaskToken");
    assert.equal(waitScheduled.resourceType, "lambda");
    assert.equal(typeof JSON.parse(waitScheduled.parameters!).Payload.taskToken, "string");
  });

  it("ends in ProcessingFailed when the handler calls SendTaskFailure with error ProcessingFailed", async () => {
    const { body } = await start(runtime, { outcome: "failure" });
    const ended = await waitForEnd(runtime, body.executionArn);
    assert.equal(ended.status, "FAILED");
    assert.equal(ended.error, "ProcessingFailed");
    assert.equal(ended.cause, 'Processing failed because the execution input asked for it (outcome: "failure")');
  });

  it("ends in UnexpectedFailure when the handler crashes, with the function's errorType in the cause", async () => {
    const { body } = await start(runtime, { outcome: "crash" });
    const ended = await waitForEnd(runtime, body.executionArn);
    assert.equal(ended.status, "FAILED");
    assert.equal(ended.error, "UnexpectedFailure");
    const cause = JSON.parse(ended.cause!);
    assert.equal(cause.errorType, "RequestedCrash");
    assert.match(cause.errorMessage, /asked this function to crash/);
  });

  it("times the wait out after timeoutSeconds with States.Timeout, ending in TimedOut, and a late callback gets TaskTimedOut", async () => {
    const started = Date.now();
    const { body } = await start(runtime, { outcome: "silence" });
    const taskToken = await waitingTaskToken(runtime, body.executionArn);
    const ended = await waitForEnd(runtime, body.executionArn, 15_000);
    const elapsed = (Date.now() - started) / 1000;
    assert.equal(ended.status, "FAILED");
    assert.equal(ended.error, "TimedOut");
    assert.ok(elapsed >= TIMEOUT_SECONDS - 0.1 && elapsed < TIMEOUT_SECONDS + 3, `ended after ${elapsed} s`);
    const events = await historyOf(runtime, body.executionArn);
    const timedOut = events.find((event) => event.type === "TaskTimedOut")!;
    assert.equal(timedOut.taskTimedOutEventDetails!.error, "States.Timeout");
    await assert.rejects(
      runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{}" })),
      (error: any) => error instanceof TaskTimedOut,
    );
    await assert.rejects(runtime.sfn.send(new SendTaskHeartbeatCommand({ taskToken })), (error: any) => error instanceof TaskTimedOut);
  });

  it("accepts the first callback for a token and answers TaskTimedOut to a duplicate", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    const taskToken = await waitingTaskToken(runtime, body.executionArn);
    await runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ from: "test" }) }));
    await assert.rejects(
      runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{}" })),
      (error: any) => error instanceof TaskTimedOut,
    );
    await assert.rejects(
      runtime.sfn.send(new SendTaskFailureCommand({ taskToken, error: "ProcessingFailed" })),
      (error: any) => error instanceof TaskTimedOut && error.message === "Provided task does not exist anymore",
    );
    const ended = await waitForEnd(runtime, body.executionArn);
    assert.equal(ended.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(ended.output!), { from: "test" });
  });

  it("answers InvalidToken for an unknown token and for a malformed one, and ValidationException for one over 2048 characters", async () => {
    const unknown = Buffer.from(JSON.stringify({ made: "up" })).toString("base64");
    for (const taskToken of [unknown, "not a token at all", "A".repeat(2048)]) {
      await assert.rejects(
        runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{}" })),
        (error: any) => error instanceof InvalidToken,
        taskToken.slice(0, 20),
      );
    }
    await assert.rejects(
      runtime.sfn.send(new SendTaskSuccessCommand({ taskToken: "A".repeat(2049), output: "{}" })),
      (error: any) => error.name === "ValidationException",
    );
  });

  it("refuses output over 262,144 bytes or not JSON with InvalidOutput, leaving the task waiting for a valid callback", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    const taskToken = await waitingTaskToken(runtime, body.executionArn);
    const oversized = JSON.stringify({ blob: "x".repeat(262_144) });
    await assert.rejects(
      runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: oversized })),
      (error: any) => error instanceof InvalidOutput,
    );
    await assert.rejects(
      runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{not json" })),
      (error: any) => error instanceof InvalidOutput,
    );
    assert.equal((await runtime.sfn.send(new DescribeExecutionCommand({ executionArn: body.executionArn }))).status, "RUNNING");
    await runtime.sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"ok":true}' }));
    assert.equal((await waitForEnd(runtime, body.executionArn)).status, "SUCCEEDED");
  });

  it("keeps serving other executions while bad requests arrive (malformed JSON, unknown operations, oversized bodies)", async () => {
    const { body } = await start(runtime, { outcome: "success" });
    const target = (operation: string) => ({
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `AWSStepFunctions.${operation}`,
    });
    const malformed = await fetch(runtime.origin, { method: "POST", headers: target("SendTaskSuccess"), body: "{" });
    assert.equal(malformed.status, 400);
    const unknown = await fetch(runtime.origin, { method: "POST", headers: target("Frobnicate"), body: "{}" });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as any).__type, "UnknownOperationException");
    const huge = await fetch(`${runtime.origin}/start`, { method: "POST", body: Buffer.alloc(11 * 1024 * 1024, 120) }).catch(
      (error) => error,
    );
    if (!(huge instanceof Error)) assert.equal(huge.status, 413);
    assert.equal((await waitForEnd(runtime, body.executionArn)).status, "SUCCEEDED");
  });

  it("answers 404 {message: Not Found} for a path the program declares no route for", async () => {
    const response = await fetch(`${runtime.origin}/no/such/route`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { message: "Not Found" });
  });
});

describe("local runtime end to end: heartbeats and shutdown", function () {
  this.timeout(60_000);

  it("fails the wait with States.Timeout when no heartbeat arrives within heartbeatSeconds (-c heartbeatSeconds=1)", async function () {
    this.timeout(180_000);
    const runtime = await startRuntime(["-c", "heartbeatSeconds=1", "-c", "timeoutSeconds=60"]);
    try {
      const started = Date.now();
      const { body } = await start(runtime, { outcome: "silence" });
      const ended = await waitForEnd(runtime, body.executionArn, 20_000);
      const elapsed = (Date.now() - started) / 1000;
      assert.equal(ended.status, "FAILED");
      assert.equal(ended.error, "TimedOut");
      assert.ok(elapsed >= 0.9 && elapsed < 10, `a missed 1 s heartbeat ended it after ${elapsed} s, long before the 60 s timeout`);
      const timedOut = (await historyOf(runtime, body.executionArn)).find((event) => event.type === "TaskTimedOut")!;
      assert.equal(timedOut.taskTimedOutEventDetails!.error, "States.Timeout");
    } finally {
      await runtime.stop();
    }
  });

  it("stops on SIGTERM with exit code 0, listing the executions still open", async function () {
    this.timeout(180_000);
    const runtime = await startRuntime(["-c", "timeoutSeconds=600"]);
    const { body } = await start(runtime, { outcome: "silence" });
    await waitingTaskToken(runtime, body.executionArn);
    const { code, output } = await runtime.stop();
    assert.equal(code, 0);
    assert.match(output, /SIGTERM: stopping/);
    assert.match(output, /Executions still open when stopped \(1\)/);
    assert.ok(output.includes(body.executionArn), "the open execution is named");
  });

  it("refuses a -c value that does not match its declared type, with a message naming the key and the type", async function () {
    this.timeout(120_000);
    await assert.rejects(
      startRuntime(["-c", "heartbeatSeconds=soon"]),
      /"heartbeatSeconds": must be of type integer \(declared in Pulumi.yaml\), got "soon"/,
    );
  });
});
