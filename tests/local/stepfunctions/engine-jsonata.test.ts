import assert from "node:assert/strict";
import { createHarness, functionArn, waitUntil } from "./support/harness";
import { namedError } from "./support/fakeLambda";

const INVOKE = "arn:aws:states:::lambda:invoke";
const WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** Runs a JSONata machine to its end and describes it. */
async function run(definition: object, input: unknown = {}) {
  const h = createHarness();
  const executionArn = await h.start(h.machine({ QueryLanguage: "JSONata", ...definition }), input);
  const result = await h.finish(executionArn);
  return { h, executionArn, result, output: result.output === undefined ? undefined : JSON.parse(result.output) };
}

describe("engine: JSONata", () => {
  it("Output shapes a state's output from $states.input; without Output a Pass state passes its input on", async () => {
    const { output } = await run(
      {
        StartAt: "Shape",
        States: {
          Shape: {
            Type: "Pass",
            Output: { total: "{% $sum($states.input.lines.price) %}", fixed: "text", list: ["{% $states.input.id %}", 2] },
            Next: "Keep",
          },
          Keep: { Type: "Pass", End: true },
        },
      },
      { id: "o-1", lines: [{ price: 5 }, { price: 7 }] },
    );
    assert.deepEqual(output, { total: 12, fixed: "text", list: ["o-1", 2] });
  });

  it("a Task sends Arguments and its Output reads $states.result; without Output the result is the output", async () => {
    const h = createHarness();
    h.lambda.on("double", (event) => ({ doubled: event.n * 2 }));
    const arn = h.machine({
      QueryLanguage: "JSONata",
      StartAt: "Call",
      States: {
        Call: {
          Type: "Task",
          Resource: INVOKE,
          Arguments: { FunctionName: functionArn("double"), Payload: { n: "{% $states.input.value %}" } },
          Output: { doubled: "{% $states.result.Payload.doubled %}", was: "{% $states.input.value %}" },
          Next: "Raw",
        },
        Raw: { Type: "Task", Resource: functionArn("double"), Arguments: { n: "{% $states.input.doubled %}" }, End: true },
      },
    });
    const result = await h.finish(await h.start(arn, { value: 4 }));
    assert.equal(result.status, "SUCCEEDED", result.cause);
    assert.deepEqual(JSON.parse(result.output), { doubled: 16 });
    assert.deepEqual(h.lambda.calls[0].event, { n: 4 });
  });

  it("a callback task reads its token as $states.context.Task.Token in Arguments", async () => {
    const h = createHarness();
    h.lambda.on("worker", () => null);
    const arn = h.machine({
      QueryLanguage: "JSONata",
      StartAt: "Wait",
      States: {
        Wait: {
          Type: "Task",
          Resource: WAIT_FOR_TOKEN,
          Arguments: { FunctionName: functionArn("worker"), Payload: { token: "{% $states.context.Task.Token %}" } },
          End: true,
        },
      },
    });
    const executionArn = await h.start(arn);
    await waitUntil(() => h.lambda.calls.length === 1);
    const { token } = h.lambda.calls[0].event as { token: string };
    await h.service.call("SendTaskSuccess", { taskToken: token, output: '{"approved":true}' });
    assert.deepEqual(JSON.parse((await h.finish(executionArn)).output), { approved: true });
  });

  it("Choice follows the first rule whose Condition is true, else Default", async () => {
    const definition = {
      StartAt: "Route",
      States: {
        Route: {
          Type: "Choice",
          Choices: [
            { Condition: "{% $states.input.n > 10 %}", Next: "Big" },
            { Condition: "{% true %}", Next: "Small" },
          ],
        },
        Big: { Type: "Pass", Output: "{% 'big' %}", End: true },
        Small: { Type: "Pass", Output: "{% 'small' %}", End: true },
      },
    };
    assert.equal((await run(definition, { n: 11 })).output, "big");
    assert.equal((await run(definition, { n: 1 })).output, "small");
  });

  it("a Condition that is not a boolean fails with States.QueryEvaluationError naming the expression and the type", async () => {
    const { result } = await run(
      {
        StartAt: "Route",
        States: { Route: { Type: "Choice", Choices: [{ Condition: "{% $states.input.n %}", Next: "Done" }] }, Done: { Type: "Succeed" } },
      },
      { n: 3 },
    );
    assert.equal(result.error, "States.QueryEvaluationError");
    assert.equal(
      result.cause,
      "An error occurred while executing the state 'Route' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 3",
    );
  });

  it("an expression that returns nothing fails with States.QueryEvaluationError, naming the field path as AWS does", async () => {
    const { result } = await run({
      StartAt: "Shape",
      States: { Shape: { Type: "Pass", Output: { a: { b: "{% $states.input.missing %}" } }, End: true } },
    });
    assert.equal(result.error, "States.QueryEvaluationError");
    assert.equal(
      result.cause,
      "An error occurred while executing the state 'Shape' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output/a/b' returned nothing (undefined).",
    );
  });

  it("an expression that throws is States.QueryEvaluationError, which Catch handles with $states.errorOutput", async () => {
    const { output } = await run(
      {
        StartAt: "Call",
        States: {
          Call: {
            Type: "Task",
            Resource: INVOKE,
            Arguments: { FunctionName: "x", Payload: "{% 'a' + 1 %}" },
            Catch: [
              {
                ErrorEquals: ["States.QueryEvaluationError"],
                Output: { error: "{% $states.errorOutput.Error %}", input: "{% $states.input %}" },
                Next: "Handled",
              },
            ],
            End: true,
          },
          Handled: { Type: "Pass", End: true },
        },
      },
      { k: 1 },
    );
    assert.deepEqual(output, { error: "States.QueryEvaluationError", input: { k: 1 } });
  });

  it("a Catch without Output hands on the error output", async () => {
    const h = createHarness();
    h.lambda.on("fails", () => {
      throw namedError("BadThing", "went wrong");
    });
    const arn = h.machine({
      QueryLanguage: "JSONata",
      StartAt: "Call",
      States: {
        Call: { Type: "Task", Resource: functionArn("fails"), Catch: [{ ErrorEquals: ["BadThing"], Next: "Handled" }], End: true },
        Handled: { Type: "Pass", End: true },
      },
    });
    const output = JSON.parse((await h.finish(await h.start(arn))).output);
    assert.equal(output.Error, "BadThing");
    assert.match(output.Cause, /went wrong/);
  });

  it("Map iterates Items, builds each item with ItemSelector from $states.context.Map.Item, and honours MaxConcurrency", async () => {
    const { output } = await run(
      {
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            Items: "{% $states.input.values %}",
            MaxConcurrency: "{% 1 %}",
            ItemSelector: {
              index: "{% $states.context.Map.Item.Index %}",
              value: "{% $states.context.Map.Item.Value %}",
              tag: "{% $states.input.tag %}",
            },
            ItemProcessor: {
              StartAt: "Item",
              States: { Item: { Type: "Pass", Output: "{% $states.input.value * 10 + $states.input.index %}", End: true } },
            },
            Output: { results: "{% $states.result %}" },
            End: true,
          },
        },
      },
      { values: [1, 2, 3], tag: "t" },
    );
    assert.deepEqual(output, { results: [10, 21, 32] });
  });

  it("Items that is not an array fails with States.QueryEvaluationError", async () => {
    const { result } = await run(
      {
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            Items: "{% $states.input.values %}",
            ItemProcessor: { StartAt: "I", States: { I: { Type: "Succeed" } } },
            End: true,
          },
        },
      },
      { values: "nope" },
    );
    assert.equal(result.error, "States.QueryEvaluationError");
    assert.match(result.cause, /specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string'/);
  });

  it("Parallel gives every branch its Arguments", async () => {
    const { output } = await run(
      {
        StartAt: "Fork",
        States: {
          Fork: {
            Type: "Parallel",
            Arguments: { n: "{% $states.input.n + 1 %}" },
            Branches: [
              { StartAt: "A", States: { A: { Type: "Pass", Output: "{% $states.input.n %}", End: true } } },
              { StartAt: "B", States: { B: { Type: "Pass", Output: "{% $states.input.n * 2 %}", End: true } } },
            ],
            End: true,
          },
        },
      },
      { n: 1 },
    );
    assert.deepEqual(output, [2, 4]);
  });

  it("Fail takes Error and Cause from expressions", async () => {
    const { result } = await run(
      {
        StartAt: "Stop",
        States: { Stop: { Type: "Fail", Error: "{% $states.input.code %}", Cause: "{% 'order ' & $states.input.id & ' refused' %}" } },
      },
      { code: "Refused", id: "o-9" },
    );
    assert.equal(result.error, "Refused");
    assert.equal(result.cause, "order o-9 refused");
  });

  it("Wait takes Seconds from an expression, which must be a non-negative integer", async () => {
    const { h, result } = await run(
      { StartAt: "W", States: { W: { Type: "Wait", Seconds: "{% $states.input.s %}", End: true } } },
      { s: 0 },
    );
    assert.equal(result.status, "SUCCEEDED");
    void h;
    const failed = await run({ StartAt: "W", States: { W: { Type: "Wait", Seconds: "{% $states.input.s %}", End: true } } }, { s: "1" });
    assert.equal(failed.result.error, "States.QueryEvaluationError");
    assert.match(
      failed.result.cause,
      /for the field 'Seconds' returned an unexpected result type. Expected 'non-negative integer', but was 'string'/,
    );
  });

  it("Wait takes Timestamp from an expression", async () => {
    const { result } = await run(
      { StartAt: "W", States: { W: { Type: "Wait", Timestamp: "{% $states.input.at %}", End: true } } },
      { at: "2001-01-01T00:00:00Z" },
    );
    assert.equal(result.status, "SUCCEEDED");
  });

  it("Task TimeoutSeconds may be an expression and is recorded as evaluated", async () => {
    const h = createHarness();
    h.lambda.on("worker", () => ({ ok: true }));
    const arn = h.machine({
      QueryLanguage: "JSONata",
      StartAt: "Call",
      States: {
        Call: { Type: "Task", Resource: INVOKE, Arguments: { FunctionName: "worker" }, TimeoutSeconds: "{% 30 + 5 %}", End: true },
      },
    });
    const executionArn = await h.start(arn);
    await h.finish(executionArn);
    const scheduled = (await h.history(executionArn)).find((event: any) => event.type === "TaskScheduled");
    assert.equal(scheduled.taskScheduledEventDetails.timeoutInSeconds, 35);
  });

  it("offers AWS's added functions ($partition, $range, $hash, $random, $uuid, $parse) and refuses $eval", async () => {
    const { output } = await run({
      StartAt: "F",
      States: {
        F: {
          Type: "Pass",
          Output: {
            partition: "{% $partition([1,2,3,4,5], 2) %}",
            range: "{% $range(0, 10, 5) %}",
            hash: "{% $hash('abc', 'SHA-256') %}",
            randomInRange: "{% $random() >= 0 and $random() < 1 %}",
            seeded: "{% $random(7) = $random(7) %}",
            uuid: "{% $uuid() %}",
            parsed: "{% $parse('{\"a\":[1]}') %}",
          },
          End: true,
        },
      },
    });
    assert.deepEqual(output.partition, [[1, 2], [3, 4], [5]]);
    assert.deepEqual(output.range, [0, 5, 10]);
    assert.equal(output.hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(output.randomInRange, true);
    assert.equal(output.seeded, true);
    assert.match(output.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(output.parsed, { a: [1] });
    const refused = await run({ StartAt: "E", States: { E: { Type: "Pass", Output: "{% $eval('1') %}", End: true } } });
    assert.equal(refused.result.error, "States.QueryEvaluationError");
    assert.match(refused.result.cause, /\$eval is not available in Step Functions: use \$parse/);
  });

  it("one state may use JSONata inside a JSONPath machine, and the next one JSONPath again", async () => {
    const h = createHarness();
    const arn = h.machine({
      StartAt: "Modern",
      States: {
        Modern: { Type: "Pass", QueryLanguage: "JSONata", Output: { n: "{% $states.input.n + 1 %}" }, Next: "Classic" },
        Classic: { Type: "Pass", Parameters: { "m.$": "$.n" }, End: true },
      },
    });
    assert.deepEqual(JSON.parse((await h.finish(await h.start(arn, { n: 1 }))).output), { m: 2 });
  });
});
