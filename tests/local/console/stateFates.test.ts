import * as assert from "node:assert/strict";
import { stateRecords } from "../../../local/console/model/stateFates";
import { createHarness, functionArn, waitUntil } from "../stepfunctions/support/harness";

const CALLBACK_MACHINE = {
  StartAt: "Prepare",
  States: {
    Prepare: { Type: "Pass", Next: "Wait" },
    Wait: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: functionArn("receiver"), Payload: { "taskToken.$": "$$.Task.Token" } },
      Catch: [{ ErrorEquals: ["ProcessingFailed"], Next: "Failed" }],
      Next: "Continue",
    },
    Continue: { Type: "Pass", End: true },
    Failed: { Type: "Fail", Error: "ProcessingFailed", CausePath: "$.Cause" },
  },
};

describe("console state fates (read from real engine histories)", () => {
  it("a task waiting on its token is 'waiting'; states after it are not reached", async () => {
    const h = createHarness();
    h.lambda.on("receiver", () => ({}));
    const executionArn = await h.start(h.machine(CALLBACK_MACHINE));
    await waitUntil(
      () =>
        h.service.waitingTasks(executionArn).length === 1 &&
        h.service.execution(executionArn)!.history.events.some((event) => event.type === "TaskSubmitted"),
    );
    const records = stateRecords(await h.history(executionArn), "RUNNING");
    assert.equal(records.get("Prepare")!.fate, "succeeded");
    assert.equal(records.get("Wait")!.fate, "waiting");
    assert.equal(records.has("Continue"), false);
    assert.deepEqual(
      records.get("Wait")!.events.map((event) => event.type),
      ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted"],
    );
    assert.equal(h.service.waitingTasks(executionArn)[0].stateName, "Wait");
    await h.service.call("SendTaskSuccess", { taskToken: h.service.waitingTasks(executionArn)[0].token, output: "{}" });
    await h.finish(executionArn);
  });

  it("a failure caught by Catch is 'caught' with its error; the Fail state it leads to is 'failed' with error and cause", async () => {
    const h = createHarness();
    h.lambda.on("receiver", () => ({}));
    const executionArn = await h.start(h.machine(CALLBACK_MACHINE));
    await waitUntil(() => h.service.waitingTasks(executionArn).length === 1);
    const [task] = h.service.waitingTasks(executionArn);
    await h.service.call("SendTaskFailure", { taskToken: task.token, error: "ProcessingFailed", cause: "chunk 4 failed" });
    const described = await h.finish(executionArn);
    const records = stateRecords(await h.history(executionArn), described.status);
    assert.equal(records.get("Wait")!.fate, "caught");
    assert.equal(records.get("Wait")!.error, "ProcessingFailed");
    assert.deepEqual(JSON.parse(records.get("Wait")!.output!), { Error: "ProcessingFailed", Cause: "chunk 4 failed" });
    assert.equal(records.get("Failed")!.fate, "failed");
    assert.equal(records.get("Failed")!.error, "ProcessingFailed");
    assert.equal(records.get("Failed")!.cause, "chunk 4 failed");
    assert.equal(records.has("Continue"), false);
  });

  it("a task that failed once and succeeded on Retry is 'succeeded'; an uncaught failure is 'failed'", async () => {
    const h = createHarness();
    let calls = 0;
    h.lambda.on("flaky", () => {
      if (++calls === 1) throw Object.assign(new Error("try again"), { name: "Transient" });
      return { ok: true };
    });
    h.lambda.on("broken", () => {
      throw Object.assign(new Error("no"), { name: "Broken" });
    });
    const definition = {
      StartAt: "Flaky",
      States: {
        Flaky: {
          Type: "Task",
          Resource: functionArn("flaky"),
          Retry: [{ ErrorEquals: ["Transient"], IntervalSeconds: 0.01 }],
          Next: "Broken",
        },
        Broken: { Type: "Task", Resource: functionArn("broken"), End: true },
      },
    };
    const executionArn = await h.start(h.machine(definition));
    const described = await h.finish(executionArn);
    const records = stateRecords(await h.history(executionArn), described.status);
    assert.equal(records.get("Flaky")!.fate, "succeeded");
    assert.equal(records.get("Broken")!.fate, "failed");
    assert.equal(records.get("Broken")!.error, "Broken");
  });

  it("states inside Parallel branches get their own fates and events; Parallel bookkeeping belongs to the Parallel", async () => {
    const h = createHarness();
    const definition = {
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "A", States: { A: { Type: "Pass", End: true } } },
            { StartAt: "B", States: { B: { Type: "Pass", Result: 2, End: true } } },
          ],
          End: true,
        },
      },
    };
    const executionArn = await h.start(h.machine(definition), { x: 1 });
    const described = await h.finish(executionArn);
    const records = stateRecords(await h.history(executionArn), described.status);
    for (const name of ["Both", "A", "B"]) assert.equal(records.get(name)!.fate, "succeeded", name);
    assert.equal(records.get("B")!.output, "2");
    assert.deepEqual(
      records.get("Both")!.events.map((event) => event.type),
      ["ParallelStateEntered", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateExited"],
    );
  });
});
