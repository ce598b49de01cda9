import assert from "node:assert/strict";
import { fakeResource } from "../../../local/cloud/fakeState";
import type { DeclaredResource } from "../../../local/common/service";
import { FarTimers, setLongTimer } from "../../../local/stepfunctions/clock";
import { createHarness, ROLE_ARN } from "./support/harness";

const DEFINITION = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });

/** A state machine as the local runtime hands it over: declared inputs plus what the fake cloud answers. */
function declaredStateMachine(name: string, inputs: Record<string, unknown>): DeclaredResource {
  const type = "aws:sfn/stateMachine:StateMachine";
  const { id, state } = fakeResource({ type, name, inputs });
  return { urn: `urn:pulumi:dev::project::${type}::${name}`, type, name, id, inputs, state };
}

describe("StepFunctionsService provisioning and lifecycle", () => {
  it("declares the 'states' signing name and the aws:sfn StateMachine resource type", () => {
    const { service } = createHarness();
    assert.deepEqual([...service.signingNames], ["states"]);
    assert.deepEqual([...service.resourceTypes], ["aws:sfn/stateMachine:StateMachine"]);
  });

  it("provisions a declared state machine under the ARN and name the program's outputs report", async () => {
    const h = createHarness();
    const resource = declaredStateMachine("workflow-sfn", {
      definition: DEFINITION,
      roleArn: ROLE_ARN,
      type: "STANDARD",
      loggingConfiguration: {
        level: "ALL",
        includeExecutionData: true,
        logDestination: "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*",
      },
      tracingConfiguration: { enabled: true },
    });
    await h.service.provision(resource);
    const described = await h.service.call("DescribeStateMachine", { stateMachineArn: resource.state.arn });
    assert.equal(described.name, resource.state.name);
    assert.match(described.name, /^workflow-sfn-[0-9a-f]{7}$/);
    assert.equal(described.definition, DEFINITION);
    assert.equal(described.type, "STANDARD");
    assert.deepEqual(described.loggingConfiguration, {
      level: "ALL",
      includeExecutionData: true,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*" } }],
    });
    assert.deepEqual(described.tracingConfiguration, { enabled: true });
    const { executionArn } = await h.service.call("StartExecution", { stateMachineArn: resource.state.arn, input: '{"a":1}' });
    await h.service.execution(executionArn)!.done;
    assert.equal((await h.service.call("DescribeExecution", { executionArn })).status, "SUCCEEDED");
  });

  it("declares only, and says so, a machine using an integration the engine does not run yet, so the stack still starts", async () => {
    const h = createHarness();
    const resource = declaredStateMachine("queue-sfn", {
      definition: JSON.stringify({
        StartAt: "T",
        States: { T: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", End: true } },
      }),
      roleArn: ROLE_ARN,
    });
    await h.service.provision(resource);
    assert.equal(h.logs.length, 1);
    assert.match(h.logs[0], /^\[states\] state machine 'queue-sfn' is declared only, not run locally: Invalid State Machine Definition: /);
    assert.match(h.logs[0], /ecs:runTask\.sync/);
    await assert.rejects(h.service.call("DescribeStateMachine", { stateMachineArn: resource.state.arn }), {
      name: "StateMachineDoesNotExist",
    });
  });

  it("refuses to provision a definition that is wrong, naming the resource and the problem", async () => {
    const h = createHarness();
    const resource = declaredStateMachine("broken-sfn", {
      definition: JSON.stringify({ StartAt: "Missing", States: { T: { Type: "Pass", End: true } } }),
      roleArn: ROLE_ARN,
    });
    await assert.rejects(h.service.provision(resource), (error: Error) => {
      assert.match(
        error.message,
        /^State machine 'broken-sfn' \(arn:aws:states:us-east-1:123456789012:stateMachine:broken-sfn-[0-9a-f]{7}\) cannot run locally: Invalid State Machine Definition: /,
      );
      return true;
    });
  });

  it("declares without running a machine whose only problems are features the local runtime lacks, and refuses one that is also wrong", async () => {
    const h = createHarness();
    const ecs = { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", Parameters: { Cluster: "c", TaskDefinition: "t" } };
    const unsupported = declaredStateMachine("ecs-sfn", {
      definition: JSON.stringify({ StartAt: "Run", States: { Run: { ...ecs, End: true } } }),
      roleArn: ROLE_ARN,
    });
    await h.service.provision(unsupported);
    assert.ok(
      h.logs.some((line) => line.startsWith("[states] state machine 'ecs-sfn' is declared only, not run locally: ")),
      h.logs.join("\n"),
    );
    await assert.rejects(h.service.call("DescribeStateMachine", { stateMachineArn: unsupported.state.arn }), {
      code: "StateMachineDoesNotExist",
    });

    // The same unsupported task beside a transition to nowhere: AWS would refuse it too, so the start must.
    const wrong = declaredStateMachine("ecs-and-typo-sfn", {
      definition: JSON.stringify({ StartAt: "Run", States: { Run: { ...ecs, Next: "Nowhere" } } }),
      roleArn: ROLE_ARN,
    });
    await assert.rejects(
      h.service.provision(wrong),
      /^Error: State machine 'ecs-and-typo-sfn' .* cannot run locally: .*MISSING_TRANSITION_TARGET/,
    );
  });

  it("refuses an EXPRESS machine that waits for a task token", async () => {
    const h = createHarness();
    const resource = declaredStateMachine("express-sfn", {
      type: "EXPRESS",
      roleArn: ROLE_ARN,
      definition: JSON.stringify({
        StartAt: "W",
        States: {
          W: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
            End: true,
            Parameters: { FunctionName: "f", Payload: { "taskToken.$": "$$.Task.Token" } },
          },
        },
      }),
    });
    await assert.rejects(h.service.provision(resource), /EXPRESS/);
  });

  it("uses the injected `now` for dates on the wire", async () => {
    const { service } = createHarness({
      clock: { now: () => Date.parse("2030-05-06T07:08:09.500Z"), setTimer: (callback, delayMs) => setLongTimer(callback, delayMs) },
    });
    const arn = service.createStateMachine({ name: "dated", definition: DEFINITION, roleArn: ROLE_ARN }).arn;
    const { startDate } = await service.call("StartExecution", { stateMachineArn: arn });
    assert.equal(startDate, Date.parse("2030-05-06T07:08:09.500Z") / 1000);
  });
});

describe("system clock", () => {
  it("waits longer than one native timer can by re-arming in steps", async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => setLongTimer(resolve, 45, 10));
    assert.ok(Date.now() - started >= 44, `fired after ${Date.now() - started} ms`);
  });

  it("a cancelled long timer never fires", async () => {
    let fired = false;
    const timer = setLongTimer(() => (fired = true), 30, 10);
    await new Promise((resolve) => setTimeout(resolve, 15));
    timer.cancel();
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(fired, false);
  });

  it("fires a timer due later than a native timer reaches at its deadline, through the shared timer", async () => {
    const timers = new FarTimers(Date.now, 10);
    const started = Date.now();
    const firedAfter = await new Promise<number>((resolve) => timers.setTimer(() => resolve(Date.now() - started), 45));
    assert.ok(firedAfter >= 44, `fired after ${firedAfter} ms`);
  });

  it("a cancelled far timer never fires, whether cancelled before or after the shared timer reached it", async () => {
    const timers = new FarTimers(Date.now, 10);
    const fired: string[] = [];
    const early = timers.setTimer(() => fired.push("early"), 60);
    const late = timers.setTimer(() => fired.push("late"), 60);
    timers.setTimer(() => fired.push("kept"), 60);
    early.cancel();
    // By now the shared timer (every 10 ms) has given the timers due at 60 ms native ones.
    await new Promise((resolve) => setTimeout(resolve, 55));
    late.cancel();
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(fired, ["kept"]);
  });
});
