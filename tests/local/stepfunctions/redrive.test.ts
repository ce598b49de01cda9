/**
 * RedriveExecution: the same execution continues from the state it left unfinished; states that succeeded
 * are not run again, and in a Map or Parallel only the failed iterations and branches run again.
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 */
import assert from "node:assert/strict";
import { createHarness, waitUntil } from "./support/harness";
import { namedError } from "./support/fakeLambda";
import { ManualClock } from "./support/manualClock";

const INVOKE = "arn:aws:states:::lambda:invoke";
const WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken";

async function expectApiError(promise: Promise<unknown>, code: string, message?: string) {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

/** A function that fails its first `failures` calls for the given key, then answers `{key}`. */
function flaky(failures: Record<string, number>) {
  const calls: string[] = [];
  const handler = (event: { key: string }) => {
    calls.push(event.key);
    if ((failures[event.key] ?? 0) > 0) {
      failures[event.key]--;
      throw namedError("Flaky", `${event.key} failed`);
    }
    return { key: event.key };
  };
  return { calls, handler };
}

describe("RedriveExecution", () => {
  it("continues a failed execution from the failed state, with its input and the variables assigned before, under the same ARN", async () => {
    const h = createHarness();
    const { calls, handler } = flaky({ second: 1 });
    h.lambda.on("work", handler);
    const arn = h.machine({
      StartAt: "First",
      States: {
        First: {
          Type: "Task",
          Resource: INVOKE,
          Parameters: { FunctionName: "work", Payload: { key: "first" } },
          ResultSelector: { "key.$": "$.Payload.key" },
          ResultPath: "$.first",
          Assign: { "seen.$": "$.key" },
          Next: "Second",
        },
        Second: {
          Type: "Task",
          Resource: INVOKE,
          Parameters: { FunctionName: "work", Payload: { key: "second", "redrives.$": "$$.Execution.RedriveCount" } },
          ResultSelector: { "key.$": "$.Payload.key" },
          ResultPath: "$.second",
          Next: "Done",
        },
        Done: {
          Type: "Pass",
          Parameters: {
            "first.$": "$.first.key",
            "second.$": "$.second.key",
            "seen.$": "$seen",
            "redriveCount.$": "$$.Execution.RedriveCount",
          },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn, { order: 7 });
    const failed = await h.finish(executionArn);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.redriveStatus, "REDRIVABLE");
    assert.equal(failed.redriveStatusReason, undefined);

    const { redriveDate } = await h.service.call("RedriveExecution", { executionArn });
    assert.equal(typeof redriveDate, "number");
    const described = await h.finish(executionArn);
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output), { first: "first", second: "second", seen: "first", redriveCount: 1 });
    assert.equal(described.redriveCount, 1);
    assert.equal(described.redriveDate, redriveDate);
    assert.equal(described.error, undefined);
    assert.deepEqual(calls, ["first", "second", "second"], "First ran once; only Second ran again");

    const history = await h.history(executionArn);
    const redriven = history.find((event: any) => event.type === "ExecutionRedriven");
    assert.deepEqual(redriven.executionRedrivenEventDetails, { redriveCount: 1 });
    const types = history.map((event: any) => event.type);
    const failedAt = types.indexOf("ExecutionFailed");
    assert.equal(redriven.id, failedAt + 2, "the redrive event follows the failure");
    assert.equal(redriven.previousEventId, failedAt + 1);
    assert.deepEqual(types.slice(failedAt + 1, failedAt + 3), ["ExecutionRedriven", "TaskStateEntered"]);
    const reentered = history[failedAt + 2];
    assert.equal(reentered.previousEventId, redriven.id);
    assert.equal(reentered.stateEnteredEventDetails.name, "Second");
    assert.deepEqual(JSON.parse(reentered.stateEnteredEventDetails.input), { order: 7, first: { key: "first" } });
    assert.equal(types.filter((type: string) => type === "ExecutionSucceeded").length, 1);
  });

  it("runs again only the Map iterations that failed or were cut off; the others keep their output", async () => {
    const h = createHarness();
    const { calls, handler } = flaky({ b: 1 });
    h.lambda.on("work", handler);
    const arn = h.machine({
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemsPath: "$.keys",
          MaxConcurrency: 1,
          ItemSelector: { "key.$": "$$.Map.Item.Value" },
          ItemProcessor: {
            StartAt: "Call",
            States: {
              Call: {
                Type: "Task",
                Resource: INVOKE,
                Parameters: { FunctionName: "work", "Payload.$": "$" },
                OutputPath: "$.Payload",
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn, { keys: ["a", "b", "c"] });
    assert.equal((await h.finish(executionArn)).status, "FAILED");
    assert.deepEqual(calls, ["a", "b"], "c never started: the failure of b stopped the Map");

    await h.service.call("RedriveExecution", { executionArn });
    const described = await h.finish(executionArn);
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output), [{ key: "a" }, { key: "b" }, { key: "c" }]);
    assert.deepEqual(calls, ["a", "b", "b", "c"], "a is not run again");
    const history = await h.history(executionArn);
    const afterRedrive = history.slice(history.findIndex((event: any) => event.type === "ExecutionRedriven"));
    const iterations = afterRedrive
      .filter((event: any) => event.type === "MapIterationStarted")
      .map((event: any) => event.mapIterationStartedEventDetails.index);
    assert.deepEqual(iterations, [1, 2]);
  });

  it("runs again only the Parallel branches that failed; a branch that succeeded keeps its output", async () => {
    const h = createHarness();
    const { calls, handler } = flaky({ right: 1 });
    h.lambda.on("work", handler);
    const branch = (key: string) => ({
      StartAt: `Call-${key}`,
      States: {
        [`Call-${key}`]: {
          Type: "Task",
          Resource: INVOKE,
          Parameters: { FunctionName: "work", Payload: { key } },
          OutputPath: "$.Payload.key",
          End: true,
        },
      },
    });
    const arn = h.machine({
      StartAt: "Both",
      States: { Both: { Type: "Parallel", Branches: [branch("left"), branch("right")], End: true } },
    });
    const executionArn = await h.start(arn);
    assert.equal((await h.finish(executionArn)).status, "FAILED");
    await h.service.call("RedriveExecution", { executionArn });
    const described = await h.finish(executionArn);
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output), ["left", "right"]);
    assert.deepEqual(calls.sort(), ["left", "right", "right"]);
  });

  it("redrives an aborted execution: the task it was waiting in runs again with a new token", async () => {
    const h = createHarness();
    const tokens: string[] = [];
    h.lambda.on("receiver", (event) => void tokens.push(event.token));
    const arn = h.machine({
      StartAt: "Wait",
      States: {
        Wait: {
          Type: "Task",
          Resource: WAIT,
          Parameters: { FunctionName: "receiver", Payload: { "token.$": "$$.Task.Token" } },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn);
    await waitUntil(() => tokens.length === 1);
    await h.service.call("StopExecution", { executionArn, error: "Operator" });
    assert.equal((await h.describe(executionArn)).redriveStatus, "REDRIVABLE");
    await h.service.call("RedriveExecution", { executionArn });
    await waitUntil(() => tokens.length === 2);
    assert.notEqual(tokens[1], tokens[0]);
    await expectApiError(h.service.call("SendTaskSuccess", { taskToken: tokens[0], output: "1" }), "TaskTimedOut");
    await h.service.call("SendTaskSuccess", { taskToken: tokens[1], output: '"done"' });
    const described = await h.finish(executionArn);
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '"done"');
  });

  it("refuses executions that cannot be redriven with ExecutionNotRedrivable and AWS's reason", async () => {
    const h = createHarness();
    h.lambda.on("receiver", () => undefined);
    const passing = h.machine({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const succeeded = await h.start(passing);
    await h.finish(succeeded);
    await expectApiError(
      h.service.call("RedriveExecution", { executionArn: succeeded }),
      "ExecutionNotRedrivable",
      "Execution is SUCCEEDED and cannot be redriven.",
    );
    const described = await h.describe(succeeded);
    assert.equal(described.redriveStatus, "NOT_REDRIVABLE");
    assert.equal(described.redriveStatusReason, "Execution is SUCCEEDED and cannot be redriven.");

    const waiting = h.machine({
      StartAt: "Wait",
      States: {
        Wait: { Type: "Task", Resource: WAIT, Parameters: { FunctionName: "receiver", Payload: { "t.$": "$$.Task.Token" } }, End: true },
      },
    });
    const running = await h.start(waiting);
    await expectApiError(
      h.service.call("RedriveExecution", { executionArn: running }),
      "ExecutionNotRedrivable",
      "Execution is RUNNING and cannot be redriven.",
    );
    await h.service.call("StopExecution", { executionArn: running });
    const missing = running.replace(/:[^:]+$/, ":no-such-execution");
    await expectApiError(h.service.call("RedriveExecution", { executionArn: missing }), "ExecutionDoesNotExist");
    await expectApiError(h.service.call("RedriveExecution", { executionArn: "arn:aws:states:us-east-1:1:nope" }), "InvalidArn");
  });

  it("an execution that closed more than 14 days ago is no longer redrivable", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const arn = h.machine({ StartAt: "F", States: { F: { Type: "Fail", Error: "Broken" } } });
    const executionArn = await h.start(arn);
    await h.finish(executionArn);
    await clock.advance(14 * 24 * 3600 * 1000);
    assert.equal((await h.describe(executionArn)).redriveStatus, "REDRIVABLE");
    await clock.advance(1000);
    const described = await h.describe(executionArn);
    assert.equal(described.redriveStatus, "NOT_REDRIVABLE");
    assert.equal(described.redriveStatusReason, "Execution redrivable period exceeded.");
    await expectApiError(
      h.service.call("RedriveExecution", { executionArn }),
      "ExecutionNotRedrivable",
      "Execution redrivable period exceeded.",
    );
  });

  it("counts redrives and lists them with redriveFilter", async () => {
    const h = createHarness();
    const arn = h.machine({ StartAt: "F", States: { F: { Type: "Fail", Error: "Broken" } } });
    const redriven = await h.start(arn, {}, "redriven");
    const untouched = await h.start(arn, {}, "untouched");
    await Promise.all([h.finish(redriven), h.finish(untouched)]);
    await h.service.call("RedriveExecution", { executionArn: redriven, clientToken: "once" });
    await h.finish(redriven);
    await h.service.call("RedriveExecution", { executionArn: redriven });
    const described = await h.finish(redriven);
    assert.equal(described.status, "FAILED", "a Fail state fails again");
    assert.equal(described.redriveCount, 2);
    const types = await h.eventTypes(redriven);
    assert.equal(types.filter((type) => type === "ExecutionRedriven").length, 2);
    assert.equal(types.filter((type) => type === "FailStateEntered").length, 3);

    const list = async (redriveFilter?: string) =>
      (await h.service.call("ListExecutions", { stateMachineArn: arn, redriveFilter })).executions.map((item: any) => [
        item.name,
        item.redriveCount,
      ]);
    assert.deepEqual(await list("REDRIVEN"), [["redriven", 2]]);
    assert.deepEqual(await list("NOT_REDRIVEN"), [["untouched", 0]]);
    assert.equal((await list()).length, 2);
    await expectApiError(h.service.call("ListExecutions", { stateMachineArn: arn, redriveFilter: "SOMETIMES" }), "ValidationException");
  });
});
