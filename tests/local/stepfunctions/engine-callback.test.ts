import assert from "node:assert/strict";
import { sleep } from "../../../local/stepfunctions/clock";
import { StepFunctionsApiError } from "../../../local/stepfunctions/service";
import { createHarness, functionArn, waitUntil, type Harness } from "./support/harness";
import { namedError } from "./support/fakeLambda";
import { ManualClock, settle } from "./support/manualClock";

const WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken";

function callbackMachine(h: Harness, task: Record<string, unknown> = {}, extraStates: Record<string, unknown> = {}) {
  return h.machine({
    StartAt: "WaitForCompletion",
    States: {
      WaitForCompletion: {
        Type: "Task",
        Resource: WAIT,
        Parameters: { FunctionName: "worker", Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } },
        End: true,
        ...task,
      },
      ...extraStates,
    },
  });
}

/** Collects the tokens the worker receives; the worker itself returns at once. */
function collectTokens(h: Harness): string[] {
  const tokens: string[] = [];
  h.lambda.on("worker", (event) => {
    tokens.push(event.taskToken);
    return { accepted: true };
  });
  return tokens;
}

async function expectApiError(promise: Promise<unknown>, code: string, message?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StepFunctionsApiError, `expected StepFunctionsApiError, got ${error}`);
    assert.equal(error.code, code);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

describe("engine: waitForTaskToken callbacks", () => {
  it("the task's result is exactly the SendTaskSuccess output, with AWS's event sequence", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const executionArn = await h.start(callbackMachine(h), { doc: "d1" });
    await waitUntil(() => tokens.length === 1);
    await h.service.call("SendTaskSuccess", { taskToken: tokens[0], output: '{"chunks":3}' });
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(result.output, '{"chunks":3}');
    assert.deepEqual(h.lambda.calls[0].event, { taskToken: tokens[0], input: { doc: "d1" } });
    const events = await h.history(executionArn);
    assert.deepEqual(
      events.map((event: any) => event.type),
      [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
      ],
    );
    const submitted = events.find((event: any) => event.type === "TaskSubmitted").taskSubmittedEventDetails;
    assert.deepEqual(JSON.parse(submitted.output).Payload, { accepted: true });
    assert.equal(events.find((event: any) => event.type === "TaskSucceeded").taskSucceededEventDetails.output, '{"chunks":3}');
  });

  it("accepts a callback sent before the invoked function has returned", async () => {
    const h = createHarness();
    h.lambda.on("worker", async (event) => {
      await h.service.call("SendTaskSuccess", { taskToken: event.taskToken, output: '"early"' });
      return null;
    });
    const result = await h.finish(await h.start(callbackMachine(h)));
    assert.equal(result.output, '"early"');
  });

  it("$$.Task.Token exists only inside a callback task", async () => {
    const h = createHarness();
    h.lambda.on("plain", (event) => event);
    const arn = h.machine({
      StartAt: "Plain",
      States: {
        Plain: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: "plain", Payload: { "token.$": "$$.Task.Token" } },
          End: true,
        },
      },
    });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "States.Runtime");
  });

  it("SendTaskFailure's error reaches Catch verbatim, with its cause", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const arn = callbackMachine(
      h,
      {
        Catch: [
          { ErrorEquals: ["ProcessingFailed"], Next: "ProcessingFailed" },
          { ErrorEquals: ["States.TaskFailed"], Next: "Unexpected" },
        ],
      },
      { ProcessingFailed: { Type: "Pass", End: true }, Unexpected: { Type: "Fail" } },
    );
    const executionArn = await h.start(arn);
    await waitUntil(() => tokens.length === 1);
    await h.service.call("SendTaskFailure", { taskToken: tokens[0], error: "ProcessingFailed", cause: "chunk 4 failed" });
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(result.output), { Error: "ProcessingFailed", Cause: "chunk 4 failed" });
    const failed = (await h.history(executionArn)).find((event: any) => event.type === "TaskFailed");
    assert.deepEqual(failed.taskFailedEventDetails, {
      resourceType: "lambda",
      resource: "invoke.waitForTaskToken",
      error: "ProcessingFailed",
      cause: "chunk 4 failed",
    });
  });

  it("States.ALL catches a SendTaskFailure with neither error nor cause", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const arn = callbackMachine(h, { Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }] }, { Caught: { Type: "Succeed" } });
    const executionArn = await h.start(arn);
    await waitUntil(() => tokens.length === 1);
    await h.service.call("SendTaskFailure", { taskToken: tokens[0] });
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(result.output, '{"Error":"","Cause":""}', "Error and Cause are always present for a following CausePath");
  });

  it("a retry mints a new token and the old one is dead", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const arn = callbackMachine(h, { Retry: [{ ErrorEquals: ["Again"], IntervalSeconds: 0 }] });
    const executionArn = await h.start(arn);
    await waitUntil(() => tokens.length === 1);
    await h.service.call("SendTaskFailure", { taskToken: tokens[0], error: "Again" });
    await waitUntil(() => tokens.length === 2);
    assert.notEqual(tokens[1], tokens[0]);
    await expectApiError(
      h.service.call("SendTaskSuccess", { taskToken: tokens[0], output: "{}" }),
      "TaskTimedOut",
      "Provided task does not exist anymore",
    );
    await h.service.call("SendTaskSuccess", { taskToken: tokens[1], output: '"second"' });
    assert.equal((await h.finish(executionArn)).output, '"second"');
  });

  it("a function error while handing out the token fails the task with its errorType and kills the token", async () => {
    const h = createHarness();
    let token = "";
    h.lambda.on("worker", (event) => {
      token = event.taskToken;
      throw namedError("SplitFailed", "cannot split");
    });
    const executionArn = await h.start(callbackMachine(h));
    const result = await h.finish(executionArn);
    assert.equal(result.error, "SplitFailed");
    assert.deepEqual((await h.eventTypes(executionArn)).slice(-3), ["TaskStarted", "TaskFailed", "ExecutionFailed"]);
    await expectApiError(h.service.call("SendTaskSuccess", { taskToken: token, output: "{}" }), "TaskTimedOut");
  });

  it("waits AWS's default 99,999,999 seconds when no TimeoutSeconds is given", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    collectTokens(h);
    const executionArn = await h.start(callbackMachine(h));
    await clock.advance(99_999_998_000);
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1_000);
    const result = await h.describe(executionArn);
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "States.Timeout");
  });

  it("TimeoutSeconds fails the task with States.Timeout (TaskTimedOut event); heartbeats do not extend it", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const tokens = collectTokens(h);
    const executionArn = await h.start(callbackMachine(h, { TimeoutSeconds: 10, HeartbeatSeconds: 4 }));
    await settle();
    for (let second = 3; second <= 9; second += 3) {
      await clock.advance(3_000);
      await h.service.call("SendTaskHeartbeat", { taskToken: tokens[0] });
    }
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1_000);
    const result = await h.describe(executionArn);
    assert.equal(result.error, "States.Timeout");
    const events = await h.history(executionArn);
    assert.deepEqual(
      events.slice(-2).map((event: any) => event.type),
      ["TaskTimedOut", "ExecutionFailed"],
    );
    assert.deepEqual(events.at(-2).taskTimedOutEventDetails, {
      resourceType: "lambda",
      resource: "invoke.waitForTaskToken",
      error: "States.Timeout",
      cause: "The task did not finish within TimeoutSeconds (10 s)",
    });
    const scheduled = events.find((event: any) => event.type === "TaskScheduled").taskScheduledEventDetails;
    assert.equal(scheduled.timeoutInSeconds, 10);
    assert.equal(scheduled.heartbeatInSeconds, 4);
    assert.equal(events.filter((event: any) => /Heartbeat/.test(event.type)).length, 0, "heartbeats add no events");
    await expectApiError(h.service.call("SendTaskSuccess", { taskToken: tokens[0], output: "{}" }), "TaskTimedOut");
  });

  it("reads TimeoutSecondsPath and HeartbeatSecondsPath from the effective input", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    collectTokens(h);
    const executionArn = await h.start(
      callbackMachine(h, { TimeoutSecondsPath: "$.limits.timeout", HeartbeatSecondsPath: "$.limits.heartbeat" }),
      { limits: { timeout: 30, heartbeat: 7 } },
    );
    await clock.advance(6_999);
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1);
    assert.equal((await h.describe(executionArn)).error, "States.Timeout");
    const scheduled = (await h.history(executionArn)).find((event: any) => event.type === "TaskScheduled").taskScheduledEventDetails;
    assert.equal(scheduled.timeoutInSeconds, 30);
    assert.equal(scheduled.heartbeatInSeconds, 7);
  });

  it("records ExecutionStarted with exactly AWS's fields: input, inputDetails and roleArn", async () => {
    const h = createHarness();
    const arn = h.machine({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const executionArn = await h.start(arn, { x: 1 });
    await h.finish(executionArn);
    const [started] = await h.history(executionArn);
    assert.deepEqual(started.executionStartedEventDetails, {
      input: '{"x":1}',
      inputDetails: { truncated: false },
      roleArn: "arn:aws:iam::123456789012:role/sfn-role",
    });
    assert.equal(started.id, 1);
    assert.equal(started.previousEventId, 0);
  });

  it("a missed heartbeat fails the task with States.Timeout, which States.TaskFailed does not catch", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const tokens = collectTokens(h);
    const arn = callbackMachine(
      h,
      {
        HeartbeatSeconds: 5,
        Catch: [
          { ErrorEquals: ["States.TaskFailed"], Next: "Unexpected" },
          { ErrorEquals: ["States.Timeout"], Next: "TimedOut" },
        ],
      },
      { Unexpected: { Type: "Fail", Error: "Unexpected" }, TimedOut: { Type: "Pass", End: true } },
    );
    const executionArn = await h.start(arn);
    await clock.advance(4_999);
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1);
    const result = await h.describe(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(result.output), {
      Error: "States.Timeout",
      Cause: "The task sent no heartbeat within HeartbeatSeconds (5 s)",
    });
    await expectApiError(
      h.service.call("SendTaskSuccess", { taskToken: tokens[0], output: "{}" }),
      "TaskTimedOut",
      "Provided task does not exist anymore",
    );
  });

  it("with RequestResponse the heartbeat clock starts when the function returns; with Event at once", async () => {
    for (const invocationType of ["RequestResponse", "Event"]) {
      const clock = new ManualClock();
      const h = createHarness({ clock });
      h.lambda.on("worker", async () => {
        await sleep(clock, 8_000);
        return null;
      });
      const executionArn = await h.start(
        h.machine({
          StartAt: "W",
          States: {
            W: {
              Type: "Task",
              Resource: WAIT,
              HeartbeatSeconds: 5,
              End: true,
              Parameters: { FunctionName: "worker", InvocationType: invocationType, Payload: { "taskToken.$": "$$.Task.Token" } },
            },
          },
        }),
      );
      await clock.advance(12_000);
      const status = (await h.describe(executionArn)).status;
      if (invocationType === "RequestResponse")
        assert.equal(status, "RUNNING", "8 s in the function + 4 s waiting < 5 s heartbeat after return");
      else assert.equal(status, "FAILED", "Event invocations start the heartbeat clock at once");
      await clock.advance(1_000);
      assert.equal((await h.describe(executionArn)).status, "FAILED");
    }
  });

  it("StopExecution aborts the pending invocation, kills its token and records ExecutionAborted", async () => {
    const h = createHarness();
    let token = "";
    let aborted = false;
    h.lambda.on("worker", (event, invocation) => {
      token = event.taskToken;
      return new Promise(() => invocation.signal!.addEventListener("abort", () => (aborted = true)));
    });
    const executionArn = await h.start(callbackMachine(h));
    await waitUntil(() => token !== "");
    const stop = await h.service.call("StopExecution", { executionArn, error: "Operator", cause: "no longer needed" });
    assert.equal(typeof stop.stopDate, "number");
    const result = await h.describe(executionArn);
    assert.equal(result.status, "ABORTED");
    assert.equal(result.error, "Operator");
    assert.equal(aborted, true);
    const events = await h.history(executionArn);
    assert.deepEqual(events.at(-1).executionAbortedEventDetails, { error: "Operator", cause: "no longer needed" });
    await expectApiError(h.service.call("SendTaskSuccess", { taskToken: token, output: "{}" }), "TaskTimedOut");
    assert.equal(h.service.tokens.waitingCount, 0);
  });

  it("stopping one execution leaves the others waiting", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const arn = callbackMachine(h);
    const first = await h.start(arn);
    const second = await h.start(arn);
    await waitUntil(() => tokens.length === 2);
    await h.service.call("StopExecution", { executionArn: first });
    const secondToken = h.lambda.calls.find((_call, index) => index === 1)!.event as any;
    await h.service.call("SendTaskSuccess", { taskToken: secondToken.taskToken, output: "1" });
    assert.equal((await h.finish(second)).status, "SUCCEEDED");
  });

  it("close() cancels waiting executions and reports them as still running", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const executionArn = await h.start(callbackMachine(h), {}, "left-open");
    await waitUntil(() => tokens.length === 1);
    await waitUntil(async () => (await h.eventTypes(executionArn)).includes("TaskSubmitted"));
    await h.service.close();
    const running = h.service.runningExecutions();
    assert.deepEqual(
      running.map((execution) => [execution.executionArn, execution.name, execution.lastEventType]),
      [[executionArn, "left-open", "TaskSubmitted"]],
    );
    assert.equal(h.service.tokens.waitingCount, 0);
  });

  it("a callback task inside a Map gets one token per item", async () => {
    const h = createHarness();
    const tokens = collectTokens(h);
    const arn = h.machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemProcessor: {
            StartAt: "W",
            States: {
              W: {
                Type: "Task",
                Resource: WAIT,
                Parameters: { FunctionName: functionArn("worker"), Payload: { "taskToken.$": "$$.Task.Token" } },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn, [1, 2, 3]);
    await waitUntil(() => tokens.length === 3);
    assert.equal(new Set(tokens).size, 3);
    for (const [index, token] of [...tokens].reverse().entries())
      await h.service.call("SendTaskSuccess", { taskToken: token, output: String(index) });
    assert.deepEqual(JSON.parse((await h.finish(executionArn)).output), [2, 1, 0]);
  });
});
