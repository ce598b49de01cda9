import assert from "node:assert/strict";
import { createHarness, functionArn, waitUntil } from "./support/harness";
import { namedError, SimulatedCrash } from "./support/fakeLambda";
import { ManualClock } from "./support/manualClock";

const INVOKE = "arn:aws:states:::lambda:invoke";

describe("engine: state types and data flow", () => {
  it("applies InputPath, Parameters (with the context object), ResultPath and OutputPath in order", async () => {
    const h = createHarness();
    const arn = h.machine(
      {
        StartAt: "Shape",
        States: {
          Shape: {
            Type: "Pass",
            InputPath: "$.order",
            Parameters: {
              "id.$": "$.id",
              "execution.$": "$$.Execution.Name",
              "state.$": "$$.State.Name",
              "machine.$": "$$.StateMachine.Name",
              fixed: 1,
            },
            ResultPath: "$.shaped",
            OutputPath: "$.shaped",
            End: true,
          },
        },
      },
      "shape-machine",
    );
    const executionArn = await h.start(arn, { order: { id: 7, extra: true }, other: 1 }, "run-1");
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(result.output), { id: 7, execution: "run-1", state: "Shape", machine: "shape-machine", fixed: 1 });
  });

  it("ResultPath places the result inside the raw state input; null discards it", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Add",
      States: {
        Add: { Type: "Pass", Result: { n: 1 }, ResultPath: "$.added", Next: "Discard" },
        Discard: { Type: "Pass", Result: "ignored", ResultPath: null, End: true },
      },
    });
    const result = await h.finish(await h.start(arn, { keep: "me" }));
    assert.deepEqual(JSON.parse(result.output), { keep: "me", added: { n: 1 } });
  });

  it("exposes $$.Execution fields (Id, Input, StartTime, RoleArn, RedriveCount) to Parameters", async () => {
    const h = createHarness();
    const arn = h.machine({ StartAt: "P", States: { P: { Type: "Pass", Parameters: { "context.$": "$$.Execution" }, End: true } } });
    const executionArn = await h.start(arn, { a: 1 }, "ctx");
    const result = await h.finish(executionArn);
    const { context } = JSON.parse(result.output);
    assert.equal(context.Id, executionArn);
    assert.deepEqual(context.Input, { a: 1 });
    assert.equal(context.Name, "ctx");
    assert.equal(context.RoleArn, "arn:aws:iam::123456789012:role/sfn-role");
    assert.equal(context.StartTime, new Date(result.startDate * 1000).toISOString());
    assert.equal(context.RedriveCount, 0);
  });

  it("Choice follows the first matching rule, else Default", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Route",
      States: {
        Route: { Type: "Choice", Choices: [{ Variable: "$.n", NumericGreaterThan: 10, Next: "Big" }], Default: "Small" },
        Big: { Type: "Pass", Result: "big", End: true },
        Small: { Type: "Pass", Result: "small", End: true },
      },
    });
    assert.equal((await h.finish(await h.start(arn, { n: 11 }))).output, '"big"');
    assert.equal((await h.finish(await h.start(arn, { n: 1 }))).output, '"small"');
  });

  it("Choice without a match or Default fails the execution with States.NoChoiceMatched", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Route",
      States: {
        Route: { Type: "Choice", Choices: [{ Variable: "$.n", NumericEquals: 1, Next: "One" }] },
        One: { Type: "Succeed" },
      },
    });
    const result = await h.finish(await h.start(arn, { n: 2 }));
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "States.NoChoiceMatched");
  });

  it("Wait waits Seconds on the clock, then continues", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const arn = h.machine({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 10, Next: "Done" }, Done: { Type: "Succeed" } } });
    const executionArn = await h.start(arn);
    await clock.advance(9_999);
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1);
    assert.equal((await h.describe(executionArn)).status, "SUCCEEDED");
    assert.deepEqual(await h.eventTypes(executionArn), [
      "ExecutionStarted",
      "WaitStateEntered",
      "WaitStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("Wait reads TimestampPath and SecondsPath from the input", async () => {
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const h = createHarness({ clock });
    const arn = h.machine({
      StartAt: "Until",
      States: {
        Until: { Type: "Wait", TimestampPath: "$.at", Next: "For" },
        For: { Type: "Wait", SecondsPath: "$.seconds", End: true },
      },
    });
    const executionArn = await h.start(arn, { at: "2026-01-01T00:01:00Z", seconds: 30 });
    await clock.advance(89_000);
    assert.equal((await h.describe(executionArn)).status, "RUNNING");
    await clock.advance(1_000);
    assert.equal((await h.describe(executionArn)).status, "SUCCEEDED");
  });

  it("Fail ends the execution with its Error and Cause and no Exited event", async () => {
    const h = createHarness();
    const arn = h.machine({ StartAt: "F", States: { F: { Type: "Fail", Error: "Custom.Error", Cause: "because" } } });
    const executionArn = await h.start(arn);
    const result = await h.finish(executionArn);
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "Custom.Error");
    assert.equal(result.cause, "because");
    assert.deepEqual(await h.eventTypes(executionArn), ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]);
  });

  it("a path that selects nothing fails the execution with States.Runtime naming the state", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "P",
      States: { P: { Type: "Pass", Parameters: { "x.$": "$.missing" }, End: true } },
    });
    const result = await h.finish(await h.start(arn, {}));
    assert.equal(result.error, "States.Runtime");
    assert.match(result.cause, /^An error occurred while executing the state 'P' \(entered at the event id #2\)\. /);
  });

  it("fails with States.DataLimitExceeded when a state's output exceeds 262,144 bytes, which States.ALL does not catch", async () => {
    const h = createHarness();
    h.lambda.on("big", () => ({ blob: "x".repeat(262_144) }));
    const arn = h.machine({
      StartAt: "Big",
      States: {
        Big: { Type: "Task", Resource: functionArn("big"), Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }], End: true },
        Caught: { Type: "Succeed" },
      },
    });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "States.DataLimitExceeded");
  });

  it("the machine's TimeoutSeconds ends a running execution as TIMED_OUT", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const arn = h.machine({ TimeoutSeconds: 5, StartAt: "W", States: { W: { Type: "Wait", Seconds: 60, End: true } } });
    const executionArn = await h.start(arn);
    await clock.advance(5_000);
    const result = await h.describe(executionArn);
    assert.equal(result.status, "TIMED_OUT");
    assert.equal(result.error, "States.Timeout");
    assert.deepEqual((await h.eventTypes(executionArn)).slice(-1), ["ExecutionTimedOut"]);
    assert.equal(clock.pendingTimers, 0, "the Wait's timer is cancelled");
  });
});

describe("engine: Lambda tasks", () => {
  it("lambda:invoke returns the Invoke response and records the resolved Parameters as a JSON string", async () => {
    const h = createHarness();
    h.lambda.on("double", (event) => ({ doubled: event.n * 2 }));
    const arn = h.machine({
      StartAt: "Call",
      States: { Call: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: "double", "Payload.$": "$" }, End: true } },
    });
    const executionArn = await h.start(arn, { n: 21 });
    const result = await h.finish(executionArn);
    const output = JSON.parse(result.output);
    assert.deepEqual(Object.keys(output), ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]);
    assert.deepEqual(output.Payload, { doubled: 42 });
    assert.equal(output.StatusCode, 200);
    assert.equal(output.ExecutedVersion, "$LATEST");
    assert.equal(output.SdkHttpMetadata.HttpStatusCode, 200);
    assert.equal(output.SdkResponseMetadata.RequestId, output.SdkHttpMetadata.HttpHeaders["x-amzn-RequestId"]);
    const scheduled = (await h.history(executionArn)).find((event: any) => event.type === "TaskScheduled");
    assert.deepEqual(scheduled.taskScheduledEventDetails, {
      resourceType: "lambda",
      resource: "invoke",
      region: "us-east-1",
      parameters: JSON.stringify({ FunctionName: "double", Payload: { n: 21 } }),
    });
  });

  it("lambda:invoke with InvocationType Event answers StatusCode 202 and an empty Payload at once", async () => {
    const h = createHarness();
    h.lambda.on("async", () => new Promise(() => undefined));
    const arn = h.machine({
      StartAt: "Call",
      States: { Call: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: "async", InvocationType: "Event" }, End: true } },
    });
    const output = JSON.parse((await h.finish(await h.start(arn))).output);
    assert.equal(output.StatusCode, 202);
    assert.equal(output.Payload, "");
    assert.deepEqual(h.lambda.calls[0].event, {}, "no Payload parameter: the function receives {}");
  });

  it("ResultSelector picks from the task result before ResultPath", async () => {
    const h = createHarness();
    h.lambda.on("f", () => ({ value: 5 }));
    const arn = h.machine({
      StartAt: "Call",
      States: {
        Call: {
          Type: "Task",
          Resource: INVOKE,
          Parameters: { FunctionName: "f" },
          ResultSelector: { "value.$": "$.Payload.value" },
          ResultPath: "$.result",
          End: true,
        },
      },
    });
    const result = await h.finish(await h.start(arn, { input: 1 }));
    assert.deepEqual(JSON.parse(result.output), { input: 1, result: { value: 5 } });
  });

  it("a plain function ARN's result is the function's response, with LambdaFunction* history events", async () => {
    const h = createHarness();
    h.lambda.on("echo", (event) => ({ echoed: event }));
    const arn = h.machine({ StartAt: "Call", States: { Call: { Type: "Task", Resource: functionArn("echo"), End: true } } });
    const executionArn = await h.start(arn, { hello: "world" });
    const result = await h.finish(executionArn);
    assert.deepEqual(JSON.parse(result.output), { echoed: { hello: "world" } });
    assert.deepEqual(await h.eventTypes(executionArn), [
      "ExecutionStarted",
      "TaskStateEntered",
      "LambdaFunctionScheduled",
      "LambdaFunctionStarted",
      "LambdaFunctionSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("a function error fails the task with the function's errorType and AWS's cause JSON", async () => {
    const h = createHarness();
    h.lambda.on("thrower", () => {
      throw namedError("ValidationError", "bad chunk");
    });
    const arn = h.machine({
      StartAt: "Call",
      States: { Call: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: "thrower" }, End: true } },
    });
    const executionArn = await h.start(arn);
    const result = await h.finish(executionArn);
    assert.equal(result.error, "ValidationError");
    const cause = JSON.parse(result.cause);
    assert.deepEqual(Object.keys(cause), ["errorMessage", "errorType", "requestId", "stackTrace"]);
    assert.equal(cause.errorMessage, "bad chunk");
    assert.deepEqual(cause.stackTrace, ["at handler (index.js:1:1)"]);
    const failed = (await h.history(executionArn)).find((event: any) => event.type === "TaskFailed");
    assert.equal(failed.taskFailedEventDetails.error, "ValidationError");
    assert.equal(failed.taskFailedEventDetails.resource, "invoke");
  });

  it("a crashed function (Runtime.*) is Lambda.Unknown", async () => {
    const h = createHarness();
    h.lambda.on("crash", () => {
      throw new SimulatedCrash("exit status 1");
    });
    const arn = h.machine({ StartAt: "Call", States: { Call: { Type: "Task", Resource: functionArn("crash"), End: true } } });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.error, "Lambda.Unknown");
    assert.match(result.cause, /^The cause could not be determined because Lambda did not return an error type\. Returned payload: /);
  });

  it("a missing function is Lambda.ResourceNotFoundException", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Call",
      States: { Call: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: "nope" }, End: true } },
    });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.error, "Lambda.ResourceNotFoundException");
  });

  it("a Task's TimeoutSeconds fails it with States.Timeout and aborts the running invocation", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    let aborted = false;
    h.lambda.on(
      "slow",
      (_event, invocation) =>
        new Promise((_resolve, reject) => {
          invocation.signal!.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          });
        }),
    );
    const arn = h.machine({
      StartAt: "Call",
      States: { Call: { Type: "Task", Resource: functionArn("slow"), TimeoutSeconds: 3, End: true } },
    });
    const executionArn = await h.start(arn);
    await clock.advance(3_000);
    const result = await h.describe(executionArn);
    assert.equal(result.error, "States.Timeout");
    assert.equal(aborted, true);
    assert.deepEqual((await h.eventTypes(executionArn)).slice(-2), ["LambdaFunctionTimedOut", "ExecutionFailed"]);
  });
});

describe("engine: Retry and Catch", () => {
  it("retries with IntervalSeconds 1, BackoffRate 2 by default and counts $$.State.RetryCount", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const seen: Array<{ retryCount: number; at: number }> = [];
    h.lambda.on("flaky", (event) => {
      seen.push({ retryCount: event.retryCount, at: clock.now() });
      if (seen.length < 3) throw namedError("Transient", "try again");
      return "ok";
    });
    const arn = h.machine({
      StartAt: "Call",
      States: {
        Call: {
          Type: "Task",
          Resource: functionArn("flaky"),
          Parameters: { "retryCount.$": "$$.State.RetryCount" },
          Retry: [{ ErrorEquals: ["Transient"] }],
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn);
    await clock.advance(10_000);
    const result = await h.describe(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    const start = seen[0].at;
    assert.deepEqual(
      seen.map((s) => ({ retryCount: s.retryCount, after: s.at - start })),
      [
        { retryCount: 0, after: 0 },
        { retryCount: 1, after: 1000 },
        { retryCount: 2, after: 3000 },
      ],
    );
  });

  it("gives up after MaxAttempts and hands the error to the matching Catch with its ResultPath", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    h.lambda.on("broken", () => {
      throw namedError("Broken", "always");
    });
    const arn = h.machine({
      StartAt: "Call",
      States: {
        Call: {
          Type: "Task",
          Resource: functionArn("broken"),
          Retry: [{ ErrorEquals: ["Broken"], MaxAttempts: 2, IntervalSeconds: 2, BackoffRate: 3, MaxDelaySeconds: 5 }],
          Catch: [
            { ErrorEquals: ["Other"], Next: "Wrong" },
            { ErrorEquals: ["States.TaskFailed"], ResultPath: "$.failure", Next: "Handled" },
          ],
          End: true,
        },
        Wrong: { Type: "Fail" },
        Handled: { Type: "Pass", End: true },
      },
    });
    const executionArn = await h.start(arn, { doc: "a" });
    await clock.advance(60_000);
    const result = await h.describe(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(h.lambda.calls.length, 3);
    assert.deepEqual(
      clock.requestedDelays.filter((delay) => delay < 99_999_999_000),
      [2000, 5000],
    );
    const output = JSON.parse(result.output);
    assert.equal(output.doc, "a");
    assert.equal(output.failure.Error, "Broken");
    assert.equal(JSON.parse(output.failure.Cause).errorMessage, "always");
  });

  it("MaxAttempts 0 never retries", async () => {
    const h = createHarness();
    h.lambda.on("broken", () => {
      throw namedError("Broken", "x");
    });
    const arn = h.machine({
      StartAt: "Call",
      States: {
        Call: { Type: "Task", Resource: functionArn("broken"), Retry: [{ ErrorEquals: ["States.ALL"], MaxAttempts: 0 }], End: true },
      },
    });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.error, "Broken");
    assert.equal(h.lambda.calls.length, 1);
  });

  it("States.Runtime is neither retried nor caught", async () => {
    const h = createHarness();
    h.lambda.on("f", () => ({}));
    const arn = h.machine({
      StartAt: "Call",
      States: {
        Call: {
          Type: "Task",
          Resource: functionArn("f"),
          OutputPath: "$.missing",
          Retry: [{ ErrorEquals: ["States.ALL"] }],
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
          End: true,
        },
        Caught: { Type: "Succeed" },
      },
    });
    const result = await h.finish(await h.start(arn));
    assert.equal(result.error, "States.Runtime");
    assert.equal(h.lambda.calls.length, 1);
  });
});

describe("engine: Map and Parallel", () => {
  it("Map runs ItemProcessor per item with ItemSelector and $$.Map.Item, results in item order", async () => {
    const h = createHarness();
    h.lambda.on("square", async (event) => {
      await new Promise((resolve) => setTimeout(resolve, (3 - event.index) * 5));
      return event.value * event.value;
    });
    const arn = h.machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemsPath: "$.numbers",
          ItemSelector: { "index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag" },
          ItemProcessor: { StartAt: "Square", States: { Square: { Type: "Task", Resource: functionArn("square"), End: true } } },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn, { numbers: [1, 2, 3, 4], tag: "t" });
    const result = await h.finish(executionArn);
    assert.deepEqual(JSON.parse(result.output), [1, 4, 9, 16]);
    assert.deepEqual(
      h.lambda.calls.map((call) => (call.event as any).tag),
      ["t", "t", "t", "t"],
    );
    const types = await h.eventTypes(executionArn);
    assert.equal(types.filter((type) => type === "MapIterationSucceeded").length, 4);
    assert.deepEqual(types.slice(0, 3), ["ExecutionStarted", "MapStateEntered", "MapStateStarted"]);
    assert.deepEqual(types.slice(-3), ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]);
  });

  it("Map never runs more than MaxConcurrency items at once", async () => {
    const h = createHarness();
    let running = 0;
    let peak = 0;
    h.lambda.on("work", async () => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return null;
    });
    const arn = h.machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          MaxConcurrency: 2,
          Iterator: { StartAt: "Work", States: { Work: { Type: "Task", Resource: functionArn("work"), End: true } } },
          End: true,
        },
      },
    });
    const result = await h.finish(await h.start(arn, [1, 2, 3, 4, 5, 6, 7]));
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(h.lambda.calls.length, 7);
    assert.equal(peak, 2);
  });

  it("a failing Map item fails the Map with its error, which the Map's Catch can handle", async () => {
    const h = createHarness();
    h.lambda.on("check", (event) => {
      if (event === 3) throw namedError("BadItem", "item 3");
      return event;
    });
    const arn = h.machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemProcessor: { StartAt: "Check", States: { Check: { Type: "Task", Resource: functionArn("check"), End: true } } },
          Catch: [{ ErrorEquals: ["BadItem"], Next: "Recovered" }],
          End: true,
        },
        Recovered: { Type: "Pass", End: true },
      },
    });
    const executionArn = await h.start(arn, [1, 2, 3]);
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(JSON.parse(result.output).Error, "BadItem");
    const types = await h.eventTypes(executionArn);
    assert.ok(types.includes("MapIterationFailed"));
    assert.ok(types.includes("MapStateFailed"));
  });

  it("Parallel returns every branch's output in branch order", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "A", States: { A: { Type: "Pass", Parameters: { "a.$": "$.x" }, End: true } } },
            { StartAt: "B", States: { B: { Type: "Wait", Seconds: 0, Next: "B2" }, B2: { Type: "Pass", Result: "b", End: true } } },
          ],
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn, { x: 1 });
    const result = await h.finish(executionArn);
    assert.deepEqual(JSON.parse(result.output), [{ a: 1 }, "b"]);
    const types = await h.eventTypes(executionArn);
    assert.deepEqual(types.slice(0, 3), ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]);
    assert.deepEqual(types.slice(-3), ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]);
  });

  it("one failing branch fails the Parallel state and cancels the other branches", async () => {
    const h = createHarness();
    let siblingAborted = false;
    h.lambda.on(
      "hang",
      (_event, invocation) =>
        new Promise(() => {
          invocation.signal!.addEventListener("abort", () => (siblingAborted = true));
        }),
    );
    const arn = h.machine({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "Hang", States: { Hang: { Type: "Task", Resource: functionArn("hang"), End: true } } },
            { StartAt: "Boom", States: { Boom: { Type: "Fail", Error: "BranchBoom", Cause: "no" } } },
          ],
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn);
    const result = await h.finish(executionArn);
    assert.equal(result.status, "FAILED");
    assert.equal(result.error, "BranchBoom");
    await waitUntil(() => siblingAborted);
    assert.ok((await h.eventTypes(executionArn)).includes("ParallelStateFailed"));
  });
});

describe("engine: live progress", () => {
  it("logs one 'states' line per state transition with execution name, state and event", async () => {
    const h = createHarness();
    const arn = h.machine({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    await h.finish(await h.start(arn, {}, "live"));
    assert.deepEqual(h.logs, [
      "[states] live - ExecutionStarted",
      "[states] live P PassStateEntered",
      "[states] live P PassStateExited",
      "[states] live - ExecutionSucceeded",
    ]);
  });
});
