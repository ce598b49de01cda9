/**
 * The demo's state machine (built by components/definition.ts from the steps index.ts declares), run by the
 * local engine along every path the demo promises: success, ProcessingFailed, a crashing handler, silence past
 * the heartbeat.
 */
import assert from "node:assert/strict";
import { buildDefinition } from "../../../components/definition";
import { resolveSteps } from "../../../components/resolveSteps";
import { createHarness, functionArn, type Harness } from "./support/harness";
import { namedError, SimulatedCrash } from "./support/fakeLambda";
import { ManualClock, settle } from "./support/manualClock";

type Outcome = "success" | "failure" | "crash" | "silence";

function deploy(h: Harness): string {
  const problems: string[] = [];
  const steps = resolveSteps(
    [
      { type: "lambda", name: "SplitDoc", function: { arn: functionArn("split") } },
      {
        type: "callback",
        name: "WaitForCompletion",
        channel: { type: "lambda", tokenReceiver: { arn: functionArn("process") } },
        timeoutSeconds: 600,
        heartbeatSeconds: 5,
        catch: [
          { errors: ["ProcessingFailed"], next: "ProcessingFailed" },
          { errors: ["States.TaskFailed"], next: "UnexpectedFailure" },
          { errors: ["States.Timeout", "States.HeartbeatTimeout"], next: "TimedOut" },
        ],
      },
      { type: "pass", name: "ContinueProcess", end: true },
      { type: "fail", name: "ProcessingFailed", error: "ProcessingFailed", causePath: "$.Cause" },
      { type: "fail", name: "UnexpectedFailure", error: "UnexpectedFailure", causePath: "$.Cause" },
      { type: "fail", name: "TimedOut", error: "TimedOut", causePath: "$.Cause" },
    ],
    problems,
  );
  assert.deepEqual(problems, []);
  const definition = buildDefinition({
    steps,
    targets: { SplitDoc: { functionArn: functionArn("split") }, WaitForCompletion: { functionArn: functionArn("process") } },
    partition: "aws",
  });
  // The handler answers through the API, as ProcessAndCheckCompletion does through the SDK.
  h.lambda.on("split", (event) => ({ ...event, chunks: 3 }));
  h.lambda.on("process", async (event) => {
    const outcome: Outcome = event.input.outcome;
    if (outcome === "crash") throw new SimulatedCrash("exit status 1");
    if (outcome === "silence") return { waiting: true };
    if (outcome === "failure") {
      await h.service.call("SendTaskFailure", { taskToken: event.taskToken, error: "ProcessingFailed", cause: "chance 0.5 said no" });
    } else {
      await h.service.call("SendTaskSuccess", { taskToken: event.taskToken, output: JSON.stringify({ processed: event.input.chunks }) });
    }
    return { signalled: outcome };
  });
  return h.machine(definition, "callback-workflow");
}

describe("the project's callback state machine on the local engine", () => {
  it("success: ContinueProcess ends the execution with the callback's output", async () => {
    const h = createHarness();
    const result = await h.finish(await h.start(deploy(h), { outcome: "success" }));
    assert.equal(result.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(result.output), { processed: 3 });
  });

  it("ProcessingFailed: the Fail state keeps the signal's cause", async () => {
    const h = createHarness();
    const executionArn = await h.start(deploy(h), { outcome: "failure" });
    const result = await h.finish(executionArn);
    assert.deepEqual([result.status, result.error, result.cause], ["FAILED", "ProcessingFailed", "chance 0.5 said no"]);
    assert.ok((await h.eventTypes(executionArn)).includes("FailStateEntered"));
  });

  it("a crashing handler is Lambda.Unknown, caught by States.TaskFailed as UnexpectedFailure", async () => {
    const h = createHarness();
    const result = await h.finish(await h.start(deploy(h), { outcome: "crash" }));
    assert.equal(result.error, "UnexpectedFailure");
    assert.match(result.cause, /^The cause could not be determined because Lambda did not return an error type/);
  });

  it("silence past HeartbeatSeconds is States.Timeout, caught as TimedOut", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const executionArn = await h.start(deploy(h), { outcome: "silence" });
    await settle();
    await clock.advance(5_000);
    const result = await h.describe(executionArn);
    assert.deepEqual(
      [result.status, result.error, result.cause],
      ["FAILED", "TimedOut", "The task sent no heartbeat within HeartbeatSeconds (5 s)"],
    );
  });

  it("a transient Lambda error in SplitDoc is retried after IntervalSeconds", async () => {
    const clock = new ManualClock();
    const h = createHarness({ clock });
    const arn = deploy(h);
    let attempts = 0;
    h.lambda.on("split", (event) => {
      if (++attempts === 1) throw namedError("Lambda.TooManyRequestsException", "slow down");
      return event;
    });
    const executionArn = await h.start(arn, { outcome: "success" });
    await clock.advance(999);
    assert.equal(attempts, 1);
    await clock.advance(1);
    const result = await h.finish(executionArn);
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(attempts, 2);
  });
});
