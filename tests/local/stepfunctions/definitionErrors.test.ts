/**
 * Definition problems as AWS reports them: `InvalidDefinition` with
 * `Invalid State Machine Definition: 'CODE: message at /pointer, CODE: message at /pointer'` from CreateStateMachine
 * and UpdateStateMachine, and ValidateStateMachineDefinition's diagnostics with the same code and location.
 */
import assert from "node:assert/strict";
import { createHarness, ROLE_ARN } from "./support/harness";

const BROKEN = {
  StartAt: "A",
  States: {
    A: { Type: "Pass", Next: "Nowhere" },
    B: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", End: true },
  },
};
const EXPECTED_MESSAGE =
  "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next, " +
  "INVALID_RESOURCE: The resource 'arn:aws:states:::ecs:runTask.sync' is not supported by the local runtime at /States/B/Resource'";

async function expectInvalidDefinition(promise: Promise<unknown>, message: string) {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, "InvalidDefinition");
    assert.equal(error.message, message);
    return true;
  });
}

describe("definition errors in AWS's format", () => {
  it("CreateStateMachine answers InvalidDefinition listing every problem as 'CODE: message at /location', joined as AWS joins them", async () => {
    const h = createHarness();
    await expectInvalidDefinition(
      h.service.call("CreateStateMachine", { name: "broken", definition: JSON.stringify(BROKEN), roleArn: ROLE_ARN }),
      EXPECTED_MESSAGE,
    );
  });

  it("UpdateStateMachine answers the same InvalidDefinition and keeps the definition it had", async () => {
    const h = createHarness();
    const valid = { StartAt: "A", States: { A: { Type: "Pass", End: true } } };
    const arn = h.machine(valid);
    await expectInvalidDefinition(
      h.service.call("UpdateStateMachine", { stateMachineArn: arn, definition: JSON.stringify(BROKEN) }),
      EXPECTED_MESSAGE,
    );
    const described = await h.service.call("DescribeStateMachine", { stateMachineArn: arn });
    assert.equal(described.definition, JSON.stringify(valid));
  });

  it("a schema problem names the field and ends with its location: SCHEMA_VALIDATION_FAILED ... at /States/X/Field", async () => {
    const h = createHarness();
    const definition = { StartAt: "Pause", States: { Pause: { Type: "Wait", Seconds: "ten", End: true } } };
    await assert.rejects(
      h.service.call("CreateStateMachine", { name: "schema", definition: JSON.stringify(definition), roleArn: ROLE_ARN }),
      (error: any) => {
        assert.equal(error.code, "InvalidDefinition");
        assert.match(
          error.message,
          /^Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Seconds' is invalid: .* at \/States\/Pause\/Seconds'$/,
        );
        return true;
      },
    );
  });

  it("ValidateStateMachineDefinition gives each problem's code, message and location (/States/X/Field) as diagnostics", async () => {
    const h = createHarness();
    const answer = await h.service.call("ValidateStateMachineDefinition", { definition: JSON.stringify(BROKEN) });
    assert.equal(answer.result, "FAIL");
    assert.deepEqual(answer.diagnostics, [
      { severity: "ERROR", code: "MISSING_TRANSITION_TARGET", message: "Missing 'Next' target: Nowhere", location: "/States/A/Next" },
      {
        severity: "ERROR",
        code: "INVALID_RESOURCE",
        message: "The resource 'arn:aws:states:::ecs:runTask.sync' is not supported by the local runtime",
        location: "/States/B/Resource",
      },
    ]);
  });
});
