import assert from "node:assert/strict";
import { errorMatches, StatesError, toStatesError } from "../../../local/stepfunctions/errors";
import { findCatcher, findRetrier, retryDelayMs } from "../../../local/stepfunctions/retry";

const error = (name: string) => new StatesError(name, "cause");

describe("error matching (Retry and Catch)", () => {
  it("States.ALL matches custom and States.* errors that are catchable", () => {
    for (const name of ["ProcessingFailed", "States.Timeout", "States.TaskFailed", "Lambda.Unknown", "", "States.NoChoiceMatched"]) {
      assert.equal(errorMatches(["States.ALL"], error(name)), true, name);
    }
  });

  it("States.ALL does not match States.Runtime or States.DataLimitExceeded", () => {
    assert.equal(errorMatches(["States.ALL"], error("States.Runtime")), false);
    assert.equal(errorMatches(["States.ALL"], error("States.DataLimitExceeded")), false);
  });

  it("States.TaskFailed matches every catchable error except States.Timeout", () => {
    assert.equal(errorMatches(["States.TaskFailed"], error("ProcessingFailed")), true);
    assert.equal(errorMatches(["States.TaskFailed"], error("Lambda.Unknown")), true);
    assert.equal(errorMatches(["States.TaskFailed"], error("States.Timeout")), false);
    assert.equal(errorMatches(["States.TaskFailed"], error("States.Runtime")), false);
  });

  it("other names match only themselves, case-sensitively", () => {
    assert.equal(errorMatches(["ProcessingFailed"], error("ProcessingFailed")), true);
    assert.equal(errorMatches(["processingfailed"], error("ProcessingFailed")), false);
    assert.equal(errorMatches(["States.Timeout"], error("States.Timeout")), true);
    assert.equal(errorMatches(["Other", "ProcessingFailed"], error("ProcessingFailed")), true);
  });

  it("States.DataLimitExceeded is matched by its exact name; States.Runtime never", () => {
    assert.equal(errorMatches(["States.DataLimitExceeded"], error("States.DataLimitExceeded")), true);
    assert.equal(errorMatches(["States.Runtime"], error("States.Runtime")), false);
  });

  it("turns a stray exception into States.Runtime with its message", () => {
    const converted = toStatesError(new TypeError("boom"));
    assert.equal(converted.error, "States.Runtime");
    assert.equal(converted.cause, "boom");
  });
});

describe("retry policy", () => {
  it("uses AWS's defaults: 1 s interval doubled each attempt", () => {
    const retrier = { ErrorEquals: ["States.ALL"] };
    assert.deepEqual(
      [0, 1, 2].map((attempt) => retryDelayMs(retrier, attempt)),
      [1000, 2000, 4000],
    );
  });

  it("caps the delay at MaxDelaySeconds", () => {
    const retrier = { ErrorEquals: ["States.ALL"], IntervalSeconds: 3, BackoffRate: 3, MaxDelaySeconds: 20 };
    assert.deepEqual(
      [0, 1, 2, 3].map((attempt) => retryDelayMs(retrier, attempt)),
      [3000, 9000, 20000, 20000],
    );
  });

  it("FULL jitter scales the delay by a random fraction", () => {
    const retrier = { ErrorEquals: ["States.ALL"], IntervalSeconds: 2, JitterStrategy: "FULL" as const };
    assert.equal(
      retryDelayMs(retrier, 1, () => 0.25),
      1000,
    );
  });

  it("picks the first matching retrier and catcher only", () => {
    const retriers = [{ ErrorEquals: ["A"] }, { ErrorEquals: ["States.ALL"] }];
    assert.equal(findRetrier(retriers, error("A")), 0);
    assert.equal(findRetrier(retriers, error("B")), 1);
    assert.equal(findRetrier(undefined, error("B")), -1);
    const catchers = [
      { ErrorEquals: ["States.Timeout"], Next: "T" },
      { ErrorEquals: ["States.TaskFailed"], Next: "F" },
    ];
    assert.equal(findCatcher(catchers, error("States.Timeout"))?.Next, "T");
    assert.equal(findCatcher(catchers, error("X"))?.Next, "F");
  });
});
