/**
 * Executions that only wait on a callback are restored parked: not replayed at restore (their token, timers and
 * status are brought back from the kept rows), and replayed when something first touches them. Each test stops a
 * StepFunctionsService on a SQLite store and opens a new one on the same folder, on virtual clocks, and checks that
 * a parked execution answers every API call and fires every timer exactly as a replayed one would.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StepFunctionsApiError } from "../../../local/stepfunctions/service";
import { functionArn, ROLE_ARN } from "../stepfunctions/support/harness";
import { ManualClock, settle } from "../stepfunctions/support/manualClock";
import { openOnStore, stopOnStore, type Running as RunningOnStore } from "./stepFunctionsOnStore";

type Running = RunningOnStore<ManualClock>;
const open = (directory: string, clock: ManualClock): Running => openOnStore(directory, clock);
const stop = stopOnStore;

/** A callback task (`Wait`) handing its token to `receiver`, then `Done`; `task` adds fields to the task. */
function callbackDefinition(task: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return JSON.stringify({
    ...top,
    StartAt: "Wait",
    States: {
      Wait: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: { FunctionName: functionArn("receiver"), Payload: { "token.$": "$$.Task.Token" } },
        Next: "Done",
        ...task,
      },
      Done: { Type: "Pass", End: true },
      Handled: { Type: "Pass", Result: "handled", End: true },
    },
  });
}

/** Starts one execution on a first runtime, waits until its token is handed out, and stops that runtime. */
async function startWaiting(
  directory: string,
  definition: string,
  start: number,
): Promise<{ executionArn: string; token: string; history: Array<{ type: string }> }> {
  const first = open(directory, new ManualClock(start));
  let token: string | undefined;
  first.lambda.on("receiver", (event) => void (token = event.token));
  const stateMachineArn = first.service.createStateMachine({ name: "parked", definition, roleArn: ROLE_ARN }).arn;
  const { executionArn } = await first.service.call("StartExecution", { stateMachineArn, name: "waiting", input: '{"order":7}' });
  await settle();
  assert.ok(token, "the receiver got the token");
  const { events: history } = await first.service.call("GetExecutionHistory", { executionArn });
  await stop(first);
  return { executionArn, token, history };
}

/** Opens the state folder again at `now` and restores, with the program's state machine declared first. */
async function restart(directory: string, definition: string, now: number): Promise<Running> {
  const second = open(directory, new ManualClock(now));
  second.lambda.on("receiver", () => assert.fail("a parked execution's function is never invoked again"));
  second.service.createStateMachine({ name: "parked", definition, roleArn: ROLE_ARN });
  await second.service.restore();
  return second;
}

async function historyTypes(running: Running, executionArn: string): Promise<string[]> {
  const { events } = await running.service.call("GetExecutionHistory", { executionArn, maxResults: 1000 });
  return events.map((event: { type: string }) => event.type);
}

async function expectApiError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof StepFunctionsApiError && error.code === code);
}

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const WAITING_HISTORY = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted"];

describe("Executions waiting on a callback are restored parked and replayed when first touched", function () {
  this.timeout(30_000);
  let directory: string;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-parked-"))));
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("a parked execution is RUNNING, lists its waiting token with its state, and answers GetExecutionHistory from the store without waking", async () => {
    const definition = callbackDefinition();
    const { executionArn, token, history } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 60_000);
    const execution = second.service.execution(executionArn)!;
    assert.equal(execution.parked, true);
    assert.equal(second.service.tokens.waitingCount, 1);
    assert.equal(second.service.tokens.stateOf(token), "waiting");
    assert.deepEqual(
      second.service.waitingTasks(executionArn).map(({ token: listed, stateName, openedAt }) => ({ listed, stateName, openedAt })),
      [{ listed: token, stateName: "Wait", openedAt: T0 }],
    );
    assert.deepEqual(second.service.runningExecutions(), [
      {
        executionArn,
        stateMachineArn: execution.machine.arn,
        name: "waiting",
        startDate: new Date(T0),
        lastEventType: "TaskSubmitted",
      },
    ]);
    assert.equal((await second.service.call("DescribeExecution", { executionArn })).status, "RUNNING");
    assert.equal(execution.history.loaded, false, "describing a parked execution leaves its history in the store");
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    assert.deepEqual(events, history);
    assert.deepEqual(
      events.map((event: { type: string }) => event.type),
      WAITING_HISTORY,
    );
    assert.equal(execution.parked, true, "reading the history does not replay the execution");
    await stop(second);
  });

  it("SendTaskSuccess wakes a parked execution and completes it; a second SendTaskSuccess gets TaskTimedOut", async () => {
    const definition = callbackDefinition();
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 1000);
    await Promise.all([
      second.service.call("SendTaskSuccess", { taskToken: token, output: '{"answer":1}' }),
      expectApiError(second.service.call("SendTaskSuccess", { taskToken: token, output: '{"answer":2}' }), "TaskTimedOut"),
    ]);
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '{"answer":1}');
    assert.deepEqual(await historyTypes(second, executionArn), [
      ...WAITING_HISTORY,
      "TaskSucceeded",
      "TaskStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
    assert.equal(second.service.tokens.waitingCount, 0);
    await stop(second);
  });

  it("SendTaskFailure on a parked execution's token fails its task, and its Catch routes the error as before the restart", async () => {
    const definition = callbackDefinition({ Catch: [{ ErrorEquals: ["ProcessingFailed"], Next: "Handled" }] });
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 1000);
    await second.service.call("SendTaskFailure", { taskToken: token, error: "ProcessingFailed", cause: "chunk 3" });
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '"handled"');
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    const failed = events.find((event: { type: string }) => event.type === "TaskFailed");
    assert.deepEqual(
      { error: failed.taskFailedEventDetails.error, cause: failed.taskFailedEventDetails.cause },
      { error: "ProcessingFailed", cause: "chunk 3" },
    );
    await stop(second);
  });

  it("SendTaskHeartbeat on a parked task restarts its heartbeat clock; a heartbeat then missed times the task out with States.Timeout", async () => {
    const definition = callbackDefinition({ HeartbeatSeconds: 10, TimeoutSeconds: 100 });
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    // The heartbeat clock started at T0 (the function returned at once): it would run out at T0 + 10 s.
    const second = await restart(directory, definition, T0 + 5000);
    assert.equal(second.service.execution(executionArn)!.parked, true);
    await second.service.call("SendTaskHeartbeat", { taskToken: token });
    await second.clock.advance(9000); // T0 + 14 s: past the old deadline, before the new one (T0 + 15 s)
    assert.equal((await second.service.call("DescribeExecution", { executionArn })).status, "RUNNING");
    await second.clock.advance(2000);
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "FAILED");
    assert.equal(described.error, "States.Timeout");
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    const timedOut = events.find((event: { type: string }) => event.type === "TaskTimedOut");
    assert.equal(timedOut.timestamp, (T0 + 15_000) / 1000);
    await expectApiError(second.service.call("SendTaskSuccess", { taskToken: token, output: "{}" }), "TaskTimedOut");
    await stop(second);
  });

  it("a parked task that gets no heartbeat times out at the heartbeat deadline it had before the stop", async () => {
    const definition = callbackDefinition({ HeartbeatSeconds: 10, TimeoutSeconds: 100 });
    const { executionArn } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 4000);
    await second.clock.advance(5000);
    assert.equal(second.service.execution(executionArn)!.parked, true, "nothing is due before T0 + 10 s");
    await second.clock.advance(2000);
    await second.service.execution(executionArn)!.done;
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    const timedOut = events.find((event: { type: string }) => event.type === "TaskTimedOut");
    assert.equal(timedOut.timestamp, (T0 + 10_000) / 1000);
    assert.match(timedOut.taskTimedOutEventDetails.cause, /HeartbeatSeconds \(10 s\)/);
    await stop(second);
  });

  it("a parked task times out at its absolute TimeoutSeconds deadline, counting the time the runtime was down", async () => {
    const definition = callbackDefinition({ TimeoutSeconds: 30 });
    const { executionArn } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 20_000);
    await second.clock.advance(9000);
    assert.equal((await second.service.call("DescribeExecution", { executionArn })).status, "RUNNING");
    await second.clock.advance(2000);
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "FAILED");
    assert.equal(described.error, "States.Timeout");
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    assert.equal(events.find((event: { type: string }) => event.type === "TaskTimedOut").timestamp, (T0 + 30_000) / 1000);
    await stop(second);
  });

  it("a parked execution's own TimeoutSeconds ends it TIMED_OUT at its absolute deadline", async () => {
    const definition = callbackDefinition({}, { TimeoutSeconds: 60 });
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 30_000);
    assert.equal(second.service.execution(executionArn)!.parked, true);
    await second.clock.advance(31_000);
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "TIMED_OUT");
    assert.equal(described.stopDate, (T0 + 60_000) / 1000);
    assert.deepEqual(await historyTypes(second, executionArn), [...WAITING_HISTORY, "ExecutionTimedOut"]);
    await expectApiError(second.service.call("SendTaskSuccess", { taskToken: token, output: "{}" }), "TaskTimedOut");
    await stop(second);
  });

  it("StopExecution aborts a parked execution after its recorded history, and its token then answers TaskTimedOut", async () => {
    const definition = callbackDefinition();
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 1000);
    await second.service.call("StopExecution", { executionArn, error: "Operator", cause: "no longer needed" });
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "ABORTED");
    assert.equal(described.error, "Operator");
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    assert.deepEqual(
      events.map((event: { type: string; id: number; previousEventId: number }) => [event.type, event.id]),
      [...WAITING_HISTORY, "ExecutionAborted"].map((type, index) => [type, index + 1]),
    );
    await expectApiError(second.service.call("SendTaskSuccess", { taskToken: token, output: "{}" }), "TaskTimedOut");
    assert.equal(second.service.tokens.waitingCount, 0);
    await stop(second);

    const third = await restart(directory, definition, T0 + 2000);
    assert.equal((await third.service.call("DescribeExecution", { executionArn })).status, "ABORTED");
    assert.deepEqual(third.service.runningExecutions(), []);
    await stop(third);
  });

  it("a parked execution nothing touched is parked again by the next restart, and its old token still completes it", async () => {
    const definition = callbackDefinition();
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    await stop(await restart(directory, definition, T0 + 1000));
    const third = await restart(directory, definition, T0 + 2000);
    assert.equal(third.service.execution(executionArn)!.parked, true);
    await third.service.call("SendTaskSuccess", { taskToken: token, output: '"late"' });
    await third.service.execution(executionArn)!.done;
    assert.equal((await third.service.call("DescribeExecution", { executionArn })).output, '"late"');
    await stop(third);
  });

  it("an execution whose task deadline passed while the runtime was down is replayed at restore (not parked) and times out at once", async () => {
    const definition = callbackDefinition({ TimeoutSeconds: 30 });
    const { executionArn } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 45_000);
    assert.equal(second.service.execution(executionArn)!.parked, false);
    await second.clock.advance(0);
    await second.service.execution(executionArn)!.done;
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    assert.equal(events.find((event: { type: string }) => event.type === "TaskTimedOut").timestamp, (T0 + 45_000) / 1000);
    await stop(second);
  });

  it("a callback for a parked execution whose replay sleeps through a Wait first is taken once the task is live again", async () => {
    // The replayed Wait state's timer is due at once, but it is a timer: the replay needs more than one turn.
    const callback = JSON.parse(callbackDefinition());
    const definition = JSON.stringify({
      StartAt: "Pause",
      States: { Pause: { Type: "Wait", Seconds: 1, Next: "Wait" }, ...callback.States },
    });
    const first = open(directory, new ManualClock(T0));
    let token: string | undefined;
    first.lambda.on("receiver", (event) => void (token = event.token));
    const stateMachineArn = first.service.createStateMachine({ name: "parked", definition, roleArn: ROLE_ARN }).arn;
    const { executionArn } = await first.service.call("StartExecution", { stateMachineArn, name: "waiting", input: '{"order":7}' });
    await first.clock.advance(1000);
    assert.ok(token, "the receiver got the token after the Wait");
    await stop(first);

    const second = await restart(directory, definition, T0 + 5000);
    assert.equal(second.service.execution(executionArn)!.parked, true);
    // Taken in the order they came: the heartbeat while the task waits, then the answer.
    const heartbeat = second.service.call("SendTaskHeartbeat", { taskToken: token });
    const answered = second.service.call("SendTaskSuccess", { taskToken: token, output: '{"answer":1}' });
    await settle();
    await second.clock.advance(0);
    await Promise.all([heartbeat, answered]);
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '{"answer":1}');
    await stop(second);
  });

  it("a callback task inside a Parallel branch is replayed at restore, not parked, and its token completes it", async () => {
    const definition = JSON.stringify({
      StartAt: "Both",
      States: {
        Both: {
          Type: "Parallel",
          Branches: [JSON.parse(callbackDefinition()), { StartAt: "Quick", States: { Quick: { Type: "Pass", End: true } } }],
          End: true,
        },
      },
    });
    const { executionArn, token } = await startWaiting(directory, definition, T0);
    const second = await restart(directory, definition, T0 + 1000);
    assert.equal(second.service.execution(executionArn)!.parked, false);
    await second.service.call("SendTaskSuccess", { taskToken: token, output: '"branch"' });
    await second.service.execution(executionArn)!.done;
    assert.equal((await second.service.call("DescribeExecution", { executionArn })).output, '["branch",{"order":7}]');
    await stop(second);
  });
});
