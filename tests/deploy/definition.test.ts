import { strict as assert } from "node:assert";
import aslValidator from "asl-validator";
import {
  buildDefinition,
  DEFAULT_WAIT_PAYLOAD,
  LAMBDA_INVOKE,
  LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN,
  LAMBDA_TRANSIENT_ERRORS,
  referencesTaskToken,
  type TaskState,
} from "../../components/definition";

const SPLIT = "arn:aws:lambda:us-east-1:123456789012:function:split-1234567";
const HANDLER = "arn:aws:lambda:us-east-1:123456789012:function:handler-1234567";
const CONTINUE = "arn:aws:lambda:us-east-1:123456789012:function:continue-1234567";

/** asl-validator annotates the object it checks (QueryLanguage), so it gets a copy. */
function validate(definition: unknown): void {
  const { isValid, errorsText } = aslValidator(structuredClone(definition) as any);
  assert.ok(isValid, errorsText());
}

describe("deploy: the ASL definition (buildDefinition)", () => {
  const full = buildDefinition({
    splitFunctionArn: SPLIT,
    handlerFunctionArn: HANDLER,
    continueFunctionArn: CONTINUE,
    timeoutSeconds: 600,
    heartbeatSeconds: 60,
  });
  const wait = full.States.WaitForCompletion as TaskState<string>;

  it("passes asl-validator in every shape (with and without split, continueWith, heartbeat)", () => {
    validate(full);
    validate(buildDefinition({ handlerFunctionArn: HANDLER, timeoutSeconds: 3600 }));
    validate(buildDefinition({ splitFunctionArn: SPLIT, handlerFunctionArn: HANDLER, timeoutSeconds: 1 }));
  });

  it("has exactly the seed's states, starting at SplitDoc when a split step is given", () => {
    assert.equal(full.StartAt, "SplitDoc");
    assert.deepEqual(Object.keys(full.States), [
      "SplitDoc",
      "WaitForCompletion",
      "ContinueProcess",
      "ProcessingFailed",
      "UnexpectedFailure",
      "TimedOut",
    ]);
    assert.equal((full.States.SplitDoc as TaskState<string>).Next, "WaitForCompletion");
  });

  it("starts at WaitForCompletion and ends in a Pass ContinueProcess when neither split nor continueWith is given", () => {
    const minimal = buildDefinition({ handlerFunctionArn: HANDLER, timeoutSeconds: 3600 });
    assert.equal(minimal.StartAt, "WaitForCompletion");
    assert.equal(minimal.States.SplitDoc, undefined);
    assert.deepEqual(minimal.States.ContinueProcess, {
      Type: "Pass",
      Comment: "The callback succeeded; its output is the execution's output.",
      End: true,
    });
  });

  it("runs SplitDoc as a plain lambda:invoke whose Lambda response is unwrapped to its Payload", () => {
    const split = full.States.SplitDoc as TaskState<string>;
    assert.equal(split.Resource, LAMBDA_INVOKE);
    assert.deepEqual(split.Parameters, { FunctionName: SPLIT, "Payload.$": "$" });
    assert.equal(split.OutputPath, "$.Payload");
  });

  it("waits with lambda:invoke.waitForTaskToken and passes $$.Task.Token as taskToken plus the state input", () => {
    assert.equal(wait.Resource, LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN);
    assert.deepEqual(wait.Parameters, { FunctionName: HANDLER, Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } });
    assert.equal(wait.Next, "ContinueProcess");
  });

  it("sets TimeoutSeconds always and HeartbeatSeconds only when given", () => {
    assert.equal(wait.TimeoutSeconds, 600);
    assert.equal(wait.HeartbeatSeconds, 60);
    const noHeartbeat = buildDefinition({ handlerFunctionArn: HANDLER, timeoutSeconds: 90 }).States.WaitForCompletion as TaskState<string>;
    assert.equal(noHeartbeat.TimeoutSeconds, 90);
    assert.ok(!("HeartbeatSeconds" in noHeartbeat));
  });

  it("catches ProcessingFailed before States.TaskFailed (which would also match it), and States.Timeout on its own", () => {
    assert.deepEqual(wait.Catch, [
      { ErrorEquals: ["ProcessingFailed"], Next: "ProcessingFailed" },
      { ErrorEquals: ["States.TaskFailed"], Next: "UnexpectedFailure" },
      { ErrorEquals: ["States.Timeout"], Next: "TimedOut" },
    ]);
  });

  it("ends each failure path in a Fail state that keeps the caught cause", () => {
    for (const [state, error] of [
      ["ProcessingFailed", "ProcessingFailed"],
      ["UnexpectedFailure", "UnexpectedFailure"],
      ["TimedOut", "TimedOut"],
    ]) {
      assert.deepEqual(
        { ...full.States[state], Comment: undefined },
        { Type: "Fail", Error: error, CausePath: "$.Cause", Comment: undefined },
      );
    }
  });

  it("runs ContinueProcess as a lambda:invoke on the callback's output when continueWith is given", () => {
    const next = full.States.ContinueProcess as TaskState<string>;
    assert.equal(next.Resource, LAMBDA_INVOKE);
    assert.deepEqual(next.Parameters, { FunctionName: CONTINUE, "Payload.$": "$" });
    assert.equal(next.OutputPath, "$.Payload");
    assert.equal(next.End, true);
  });

  it("retries only transient Lambda service errors on the plain invokes, never on the wait (a retry mints a new token)", () => {
    const retrier = { ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };
    assert.deepEqual((full.States.SplitDoc as TaskState<string>).Retry, [retrier]);
    assert.deepEqual((full.States.ContinueProcess as TaskState<string>).Retry, [retrier]);
    assert.equal(wait.Retry, undefined);
  });

  it("uses a custom wait payload as given, without sharing the default object", () => {
    const payload = { "token.$": "$$.Task.Token", "document.$": "$.document" };
    const custom = buildDefinition({ handlerFunctionArn: HANDLER, timeoutSeconds: 60, waitPayload: payload }).States
      .WaitForCompletion as TaskState<string>;
    assert.deepEqual(custom.Parameters.Payload, payload);
    (wait.Parameters.Payload as Record<string, unknown>).extra = 1;
    assert.deepEqual(DEFAULT_WAIT_PAYLOAD, { "taskToken.$": "$$.Task.Token", "input.$": "$" });
  });
});

describe("deploy: referencesTaskToken", () => {
  it("finds $$.Task.Token in a .$ field at any depth", () => {
    assert.equal(referencesTaskToken({ "taskToken.$": "$$.Task.Token" }), true);
    assert.equal(referencesTaskToken({ meta: { "token.$": "States.Format('{}', $$.Task.Token)" } }), true);
    assert.equal(referencesTaskToken({ list: [{ "t.$": "$$.Task.Token" }] }), true);
  });

  it("fails when the token is only a literal string (no .$ suffix, so Step Functions would not resolve it)", () => {
    assert.equal(referencesTaskToken({ taskToken: "$$.Task.Token" }), false);
    assert.equal(referencesTaskToken({ "input.$": "$" }), false);
    assert.equal(referencesTaskToken(null), false);
  });
});
