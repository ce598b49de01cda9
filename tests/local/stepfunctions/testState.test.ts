/**
 * TestState: one state run alone through the engine, with its data flow at DEBUG, mocks, variables and context.
 * https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html
 */
import assert from "node:assert/strict";
import { createHarness, ROLE_ARN, type Harness } from "./support/harness";

const INVOKE = "arn:aws:states:::lambda:invoke";

async function expectApiError(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe("TestState", () => {
  let h: Harness;
  const test = (request: Record<string, unknown>) => h.service.call("TestState", request);

  beforeEach(() => {
    h = createHarness();
  });

  it("reports each data-flow step at DEBUG: afterInputPath, afterParameters, result, afterResultSelector, afterResultPath, variables", async () => {
    const definition = {
      Type: "Task",
      Resource: INVOKE,
      InputPath: "$.order",
      Parameters: { FunctionName: "price", Payload: { "id.$": "$.id" } },
      ResultSelector: { "total.$": "$.Payload.total" },
      ResultPath: "$.price",
      OutputPath: "$.price",
      Assign: { "lastTotal.$": "$.total" },
      Next: "Ship",
    };
    const response = await test({
      definition: JSON.stringify(definition),
      input: JSON.stringify({ order: { id: "o-1" }, other: true }),
      inspectionLevel: "DEBUG",
      mock: { result: JSON.stringify({ StatusCode: 200, Payload: { total: 42 } }) },
    });
    assert.equal(response.status, "SUCCEEDED");
    assert.equal(response.nextState, "Ship");
    assert.deepEqual(JSON.parse(response.output), { total: 42 });
    const data = response.inspectionData;
    assert.deepEqual(JSON.parse(data.input), { order: { id: "o-1" }, other: true });
    assert.deepEqual(JSON.parse(data.afterInputPath), { id: "o-1" });
    assert.deepEqual(JSON.parse(data.afterParameters), { FunctionName: "price", Payload: { id: "o-1" } });
    assert.deepEqual(JSON.parse(data.result), { StatusCode: 200, Payload: { total: 42 } });
    assert.deepEqual(JSON.parse(data.afterResultSelector), { total: 42 });
    assert.deepEqual(JSON.parse(data.afterResultPath), { order: { id: "o-1" }, other: true, price: { total: 42 } });
    assert.deepEqual(JSON.parse(data.variables), { lastTotal: 42 });
  });

  it("INFO answers the outcome without the data flow", async () => {
    const response = await test({ definition: JSON.stringify({ Type: "Pass", Result: 1, End: true }), roleArn: ROLE_ARN });
    assert.deepEqual(response, { status: "SUCCEEDED", output: "1" });
  });

  it("a Task without a mock really invokes its function, as the given role", async () => {
    h.lambda.on("double", (event) => ({ doubled: event.n * 2 }));
    const response = await test({
      definition: JSON.stringify({
        Type: "Task",
        Resource: INVOKE,
        Parameters: { FunctionName: "double", "Payload.$": "$" },
        OutputPath: "$.Payload",
        End: true,
      }),
      roleArn: ROLE_ARN,
      input: JSON.stringify({ n: 21 }),
    });
    assert.equal(response.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(response.output), { doubled: 42 });
    assert.deepEqual(h.lambda.calls[0].event, { n: 21 });
  });

  it("a mocked error matching a Retrier answers RETRIABLE with the retrier's index and backoff, without retrying", async () => {
    const definition = {
      Type: "Task",
      Resource: INVOKE,
      Parameters: { FunctionName: "any" },
      Retry: [
        { ErrorEquals: ["Other"], MaxAttempts: 1 },
        { ErrorEquals: ["Busy"], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 2 },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "Recover" }],
      End: true,
    };
    const mock = { errorOutput: { error: "Busy", cause: "try later" } };
    const first = await test({ definition: JSON.stringify(definition), mock });
    assert.equal(first.status, "RETRIABLE");
    assert.equal(first.error, "Busy");
    assert.equal(first.cause, "try later");
    assert.deepEqual(first.inspectionData.errorDetails, { retryIndex: 1, retryBackoffIntervalSeconds: 3 });
    const second = await test({ definition: JSON.stringify(definition), mock, stateConfiguration: { retrierRetryCount: 1 } });
    assert.deepEqual(second.inspectionData.errorDetails, { retryIndex: 1, retryBackoffIntervalSeconds: 6 });

    // Retries used up: the Catcher handles it.
    const caught = await test({
      definition: JSON.stringify(definition),
      mock,
      input: JSON.stringify({ a: 1 }),
      stateConfiguration: { retrierRetryCount: 2 },
    });
    assert.equal(caught.status, "CAUGHT_ERROR");
    assert.equal(caught.nextState, "Recover");
    assert.equal(caught.error, "Busy");
    assert.deepEqual(JSON.parse(caught.output), { a: 1, failure: { Error: "Busy", Cause: "try later" } });
    assert.deepEqual(caught.inspectionData.errorDetails, { catchIndex: 0 });
  });

  it("an error no Catcher handles answers FAILED with its error and cause", async () => {
    const response = await test({
      definition: JSON.stringify({ Type: "Fail", Error: "Rejected", Cause: "not today" }),
      roleArn: ROLE_ARN,
    });
    assert.deepEqual(response, { status: "FAILED", error: "Rejected", cause: "not today" });
  });

  it("with stateName, tests that state of a whole state machine (a Choice answers its next state)", async () => {
    const definition = {
      StartAt: "Start",
      States: {
        Start: { Type: "Pass", Next: "Route" },
        Route: { Type: "Choice", Choices: [{ Variable: "$.size", NumericGreaterThan: 10, Next: "Big" }], Default: "Small" },
        Big: { Type: "Succeed" },
        Small: { Type: "Succeed" },
      },
    };
    const big = await test({ definition: JSON.stringify(definition), stateName: "Route", roleArn: ROLE_ARN, input: '{"size": 11}' });
    assert.equal(big.status, "SUCCEEDED");
    assert.equal(big.nextState, "Big");
    const small = await test({ definition: JSON.stringify(definition), stateName: "Route", roleArn: ROLE_ARN, input: '{"size": 1}' });
    assert.equal(small.nextState, "Small");
    await expectApiError(
      test({ definition: JSON.stringify(definition), stateName: "Nowhere", roleArn: ROLE_ARN }),
      "ValidationException",
      /Nowhere/,
    );
  });

  it("JSONata: reports afterArguments, reads the given variables and context, and returns the variables it assigned", async () => {
    const definition = {
      QueryLanguage: "JSONata",
      Type: "Task",
      Resource: INVOKE,
      Arguments: { FunctionName: "f", Payload: { who: "{% $customer %}", execution: "{% $states.context.Execution.Name %}" } },
      Assign: { seen: "{% $states.result.Payload %}" },
      Output: "{% $states.result.Payload & '!' %}",
      End: true,
    };
    const response = await test({
      definition: JSON.stringify(definition),
      inspectionLevel: "DEBUG",
      variables: JSON.stringify({ customer: "ada" }),
      context: JSON.stringify({ Execution: { Name: "exec-7" } }),
      mock: { result: JSON.stringify({ Payload: "hello" }) },
    });
    assert.equal(response.status, "SUCCEEDED");
    assert.equal(response.output, '"hello!"');
    assert.deepEqual(JSON.parse(response.inspectionData.afterArguments), {
      FunctionName: "f",
      Payload: { who: "ada", execution: "exec-7" },
    });
    assert.equal(response.inspectionData.afterInputPath, undefined);
    assert.deepEqual(JSON.parse(response.inspectionData.variables), { customer: "ada", seen: "hello" });
  });

  it("checks a mocked result against the integration's response shape unless fieldValidationMode is NONE", async () => {
    const definition = JSON.stringify({ Type: "Task", Resource: INVOKE, Parameters: { FunctionName: "f" }, End: true });
    await expectApiError(test({ definition, mock: { result: '{"StatusCode": "200"}' } }), "ValidationException", /StatusCode.*integer/);
    await expectApiError(
      test({ definition, mock: { result: '{"Unknown": 1}', fieldValidationMode: "PRESENT" } }),
      "ValidationException",
      /Unknown/,
    );
    const none = await test({ definition, mock: { result: '{"Unknown": 1}', fieldValidationMode: "NONE" } });
    assert.equal(none.output, '{"Unknown":1}');
    const map = JSON.stringify({ Type: "Map", ItemProcessor: { StartAt: "P", States: { P: { Type: "Pass", End: true } } }, End: true });
    await expectApiError(test({ definition: map, mock: { result: "{}" } }), "ValidationException", /array/);
    assert.equal((await test({ definition: map, mock: { result: "[1,2]" } })).output, "[1,2]");
  });

  it("refuses what AWS refuses: a mock on a Pass state, Map/Parallel/callback tasks without a mock, no role without a mock, an invalid definition", async () => {
    await expectApiError(
      test({ definition: '{"Type":"Pass","End":true}', mock: { result: "1" } }),
      "ValidationException",
      /Task, Map, or Parallel/,
    );
    const map = JSON.stringify({ Type: "Map", ItemProcessor: { StartAt: "P", States: { P: { Type: "Pass", End: true } } }, End: true });
    await expectApiError(test({ definition: map, roleArn: ROLE_ARN }), "ValidationException", /Map state can only be tested with a mock/);
    const callback = JSON.stringify({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: "f", Payload: { "t.$": "$$.Task.Token" } },
      End: true,
    });
    await expectApiError(test({ definition: callback, roleArn: ROLE_ARN }), "ValidationException", /waitForTaskToken/);
    const mockedCallback = await test({ definition: callback, mock: { result: '{"approved": true}' } });
    assert.equal(mockedCallback.output, '{"approved":true}');
    await expectApiError(test({ definition: '{"Type":"Pass","End":true}' }), "ValidationException", /roleArn/);
    await expectApiError(
      test({ definition: '{"Type":"Wait","End":true}', roleArn: ROLE_ARN }),
      "InvalidDefinition",
      /^Invalid State Machine Definition: /,
    );
    await expectApiError(test({ definition: "{", roleArn: ROLE_ARN }), "InvalidDefinition", /INVALID_JSON_DESCRIPTION/);
    await expectApiError(
      test({ definition: '{"Type":"Pass","End":true}', roleArn: ROLE_ARN, inspectionLevel: "ALL" }),
      "ValidationException",
    );
  });
});
