import assert from "node:assert/strict";
import { createHarness } from "./support/harness";

async function run(definition: object, input: unknown = {}) {
  const h = createHarness();
  const executionArn = await h.start(h.machine(definition), input);
  const result = await h.finish(executionArn);
  return { h, executionArn, result, output: result.output === undefined ? undefined : JSON.parse(result.output) };
}

describe("engine: workflow variables", () => {
  it("a JSONata state assigns variables that every later state reads as $name", async () => {
    const { output } = await run(
      {
        QueryLanguage: "JSONata",
        StartAt: "Remember",
        States: {
          Remember: { Type: "Pass", Assign: { customer: "{% $states.input.customer %}", count: 2 }, Output: {}, Next: "Later" },
          Later: { Type: "Pass", Next: "Use" },
          Use: { Type: "Pass", Output: { greeting: "{% 'Hello ' & $customer %}", twice: "{% $count * 2 %}" }, End: true },
        },
      },
      { customer: "María" },
    );
    assert.deepEqual(output, { greeting: "Hello María", twice: 4 });
  });

  it("Assign and Output both see the variables as they were when the state was entered", async () => {
    const { output } = await run({
      QueryLanguage: "JSONata",
      StartAt: "First",
      States: {
        First: { Type: "Pass", Assign: { x: 1 }, Next: "Second" },
        Second: {
          Type: "Pass",
          Assign: { x: "{% $x + 1 %}", seenByAssign: "{% $x %}" },
          Output: { seenByOutput: "{% $x %}" },
          Next: "Third",
        },
        Third: { Type: "Pass", Output: { x: "{% $x %}", seenByAssign: "{% $seenByAssign %}", previous: "{% $states.input %}" }, End: true },
      },
    });
    assert.deepEqual(output, { x: 2, seenByAssign: 1, previous: { seenByOutput: 1 } });
  });

  it("a Task's Assign reads $states.result", async () => {
    const h = createHarness();
    h.lambda.on("lookup", () => ({ price: 40 }));
    const arn = h.machine({
      QueryLanguage: "JSONata",
      StartAt: "Lookup",
      States: {
        Lookup: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Arguments: { FunctionName: "lookup" },
          Assign: { price: "{% $states.result.Payload.price %}" },
          Output: {},
          Next: "Use",
        },
        Use: { Type: "Pass", Output: "{% $price %}", End: true },
      },
    });
    assert.equal((await h.finish(await h.start(arn))).output, "40");
  });

  it("records assigned variables as JSON text in the state's Exited event, as AWS does", async () => {
    const { h, executionArn } = await run({
      QueryLanguage: "JSONata",
      StartAt: "Set",
      States: { Set: { Type: "Pass", Assign: { name: "{% 'a' %}", list: [1, { b: true }] }, End: true } },
    });
    const exited = (await h.history(executionArn)).find((event: any) => event.type === "PassStateExited");
    assert.deepEqual(exited.stateExitedEventDetails, {
      name: "Set",
      output: "{}",
      outputDetails: { truncated: false },
      assignedVariables: { name: '"a"', list: '[1,{"b":true}]' },
      assignedVariablesDetails: { truncated: false },
    });
    const { events } = await h.service.call("GetExecutionHistory", { executionArn, includeExecutionData: false });
    const withoutData = events.find((event: any) => event.type === "PassStateExited");
    assert.deepEqual(withoutData.stateExitedEventDetails, { name: "Set" });
  });

  it("a JSONPath state assigns literals and paths: $ is the state's result, $$ the context object", async () => {
    const { output } = await run(
      {
        StartAt: "Set",
        States: {
          Set: {
            Type: "Pass",
            Result: { total: 12 },
            ResultPath: "$.ignored",
            Assign: { fixed: "text", "total.$": "$.total", "stateName.$": "$$.State.Name" },
            Next: "Use",
          },
          Use: {
            Type: "Pass",
            QueryLanguage: "JSONata",
            Output: { fixed: "{% $fixed %}", total: "{% $total %}", state: "{% $stateName %}" },
            End: true,
          },
        },
      },
      {},
    );
    assert.deepEqual(output, { fixed: "text", total: 12, state: "Set" });
  });

  it("states in Parallel branches and Map iterations read outer variables, and their assignments stay inside", async () => {
    const { output } = await run({
      QueryLanguage: "JSONata",
      StartAt: "Init",
      States: {
        Init: { Type: "Pass", Assign: { level: "outer" }, Next: "Fork" },
        Fork: {
          Type: "Parallel",
          Branches: [
            {
              StartAt: "Inner",
              States: {
                Inner: { Type: "Pass", Assign: { level: "branch", onlyHere: 1 }, Next: "Read" },
                Read: { Type: "Pass", Output: { level: "{% $level %}" }, End: true },
              },
            },
            { StartAt: "Other", States: { Other: { Type: "Pass", Output: { level: "{% $level %}" }, End: true } } },
          ],
          Next: "Each",
        },
        Each: {
          Type: "Map",
          Items: [1, 2],
          ItemProcessor: {
            StartAt: "Item",
            States: {
              Item: { Type: "Pass", Assign: { level: "{% 'item' & $string($states.input) %}" }, Output: "{% $level %}", End: true },
            },
          },
          Assign: { branches: "{% $states.input %}", items: "{% $states.result %}" },
          Next: "After",
        },
        After: {
          Type: "Pass",
          Output: { level: "{% $level %}", branches: "{% $branches %}", items: "{% $items %}", onlyHere: "{% $exists($onlyHere) %}" },
          End: true,
        },
      },
    });
    assert.deepEqual(output, {
      level: "outer",
      branches: [{ level: "branch" }, { level: "outer" }],
      items: ["outer", "outer"],
      onlyHere: false,
    });
  });

  it("a Catch assigns variables from $states.errorOutput", async () => {
    const { output } = await run({
      QueryLanguage: "JSONata",
      StartAt: "Fork",
      States: {
        Fork: {
          Type: "Parallel",
          Branches: [{ StartAt: "Boom", States: { Boom: { Type: "Fail", Error: "Boom", Cause: "bad" } } }],
          Catch: [{ ErrorEquals: ["Boom"], Assign: { failure: "{% $states.errorOutput.Cause %}" }, Next: "Report" }],
          End: true,
        },
        Report: { Type: "Pass", Output: "{% $failure %}", End: true },
      },
    });
    assert.equal(output, "bad");
  });

  it("a Choice rule's Assign applies when the rule matches; the state's own with Default", async () => {
    const definition = {
      QueryLanguage: "JSONata",
      StartAt: "Route",
      States: {
        Route: {
          Type: "Choice",
          Choices: [{ Condition: "{% $states.input.n > 1 %}", Assign: { size: "big" }, Next: "Done" }],
          Default: "Done",
          Assign: { size: "small" },
        },
        Done: { Type: "Pass", Output: "{% $size %}", End: true },
      },
    };
    assert.equal((await run(definition, { n: 2 })).output, "big");
    assert.equal((await run(definition, { n: 0 })).output, "small");
  });

  it("a variable over 256 KiB fails the state with States.DataLimitExceeded", async () => {
    const { result } = await run({
      QueryLanguage: "JSONata",
      StartAt: "Big",
      States: { Big: { Type: "Pass", Assign: { blob: "{% $pad('', 262145, 'x') %}" }, End: true } },
    });
    assert.equal(result.error, "States.DataLimitExceeded");
    assert.match(
      result.cause,
      /The variable 'blob' has a size of 262147 bytes, which exceeds the maximum of 262144 bytes for one variable\.$/,
    );
  });

  it("the values one Assign sets together may not exceed 256 KiB", async () => {
    const { result } = await run({
      QueryLanguage: "JSONata",
      StartAt: "Big",
      States: { Big: { Type: "Pass", Assign: { a: "{% $pad('', 140000, 'x') %}", b: "{% $pad('', 140000, 'x') %}" }, End: true } },
    });
    assert.equal(result.error, "States.DataLimitExceeded");
    assert.match(
      result.cause,
      /The Assign field sets 280004 bytes of variables, which exceeds the maximum of 262144 bytes for one state\.$/,
    );
  });
});
