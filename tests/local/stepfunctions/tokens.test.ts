import assert from "node:assert/strict";
import { TaskTokenRegistry, TaskTokenError } from "../../../local/stepfunctions/tokens";
import { ManualClock } from "./support/manualClock";

const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:m:e";

function expectTokenError(action: () => void, code: string, message: string) {
  assert.throws(action, (error: unknown) => error instanceof TaskTokenError && error.code === code && error.message === message);
}

describe("task token registry", () => {
  it("mints a different opaque token for every task attempt", () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    const tokens = new Set(Array.from({ length: 1000 }, () => registry.open(EXECUTION).token));
    assert.equal(tokens.size, 1000);
    assert.equal(registry.waitingCount, 1000);
  });

  it("starts every token with a letter, so a command line never reads one as an option", () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    for (let i = 0; i < 2000; i++) assert.match(registry.open(EXECUTION).token, /^AQ[A-Za-z0-9_-]+$/);
  });

  it("settles a waiting task once with the callback output and closes the token", async () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    const opened = registry.open(EXECUTION);
    assert.equal(registry.stateOf(opened.token), "waiting");
    registry.succeed(opened.token, '{"done":true}');
    assert.deepEqual(await opened.outcome, { kind: "success", output: '{"done":true}' });
    assert.equal(registry.stateOf(opened.token), "succeeded");
    assert.equal(registry.waitingCount, 0);
  });

  it("answers TaskTimedOut for a token whose task already closed", () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    const opened = registry.open(EXECUTION);
    registry.fail(opened.token, "ProcessingFailed", "chunk 3");
    expectTokenError(() => registry.succeed(opened.token, "{}"), "TaskTimedOut", "Provided task does not exist anymore");
    expectTokenError(() => registry.heartbeat(opened.token), "TaskTimedOut", "Provided task does not exist anymore");
  });

  it("answers InvalidToken for tokens it never minted, malformed or forged", () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    const other = new TaskTokenRegistry(new ManualClock()).open(EXECUTION).token;
    for (const token of ["not-a-token", "AAAA", other, "x".repeat(2048), "é"]) {
      expectTokenError(() => registry.succeed(token, "{}"), "InvalidToken", "Invalid Token: 'Invalid token'");
    }
  });

  it("times a task out when no heartbeat arrives within HeartbeatSeconds, and a heartbeat resets the clock", async () => {
    const clock = new ManualClock();
    const registry = new TaskTokenRegistry(clock);
    const opened = registry.open(EXECUTION, { heartbeatSeconds: 5 });
    registry.startHeartbeatClock(opened.token);
    await clock.advance(4000);
    registry.heartbeat(opened.token);
    await clock.advance(4000);
    assert.equal(registry.stateOf(opened.token), "waiting");
    await clock.advance(1000);
    assert.deepEqual(await opened.outcome, { kind: "heartbeatTimeout" });
    assert.equal(registry.stateOf(opened.token), "timedOut");
    expectTokenError(() => registry.succeed(opened.token, "{}"), "TaskTimedOut", "Provided task does not exist anymore");
  });

  it("does not start the heartbeat clock before startHeartbeatClock", async () => {
    const clock = new ManualClock();
    const registry = new TaskTokenRegistry(clock);
    const opened = registry.open(EXECUTION, { heartbeatSeconds: 1 });
    await clock.advance(10_000);
    assert.equal(registry.stateOf(opened.token), "waiting");
  });

  it("closing a token from the engine side makes later callbacks TaskTimedOut and cancels its heartbeat timer", async () => {
    const clock = new ManualClock();
    const registry = new TaskTokenRegistry(clock);
    const opened = registry.open(EXECUTION, { heartbeatSeconds: 5 });
    registry.startHeartbeatClock(opened.token);
    registry.close(opened.token, "cancelled");
    assert.equal(clock.pendingTimers, 0);
    assert.equal(registry.stateOf(opened.token), "cancelled");
    expectTokenError(() => registry.fail(opened.token), "TaskTimedOut", "Provided task does not exist anymore");
  });

  it("keeps no more than 10,000 closed-token records yet still recognises older closed tokens", () => {
    const registry = new TaskTokenRegistry(new ManualClock());
    const first = registry.open(EXECUTION).token;
    registry.succeed(first, "{}");
    for (let index = 0; index < 10_001; index++) registry.succeed(registry.open(EXECUTION).token, "{}");
    assert.equal(registry.stateOf(first), "unknown");
    expectTokenError(() => registry.succeed(first, "{}"), "TaskTimedOut", "Provided task does not exist anymore");
  });
});
