/** Behaviours recorded on real AWS (execution histories) that the ASL specification leaves open or states differently. */
import assert from "node:assert/strict";
import { createHarness, functionArn } from "./support/harness";

async function run(definition: object, input: unknown = {}, setup?: (h: ReturnType<typeof createHarness>) => void) {
  const h = createHarness();
  setup?.(h);
  const executionArn = await h.start(h.machine(definition), input);
  const result = await h.finish(executionArn);
  return { h, executionArn, result, output: result.output === undefined ? undefined : JSON.parse(result.output) };
}

const pass = (fields: object) => ({ StartAt: "P", States: { P: { Type: "Pass", ...fields, End: true } } });

describe("engine: behaviours real AWS shows", () => {
  it("a wildcard or slice that matches nothing yields [], not States.Runtime", async () => {
    const { output } = await run(pass({ Parameters: { "all.$": "$.items[*]", "rest.$": "$.list[1:]" } }), { list: [] });
    assert.deepEqual(output, { all: [], rest: [] });
    const onObject = await run(pass({ Parameters: { "all.$": "$.items[*]", "rest.$": "$.items[1:]" } }), {});
    assert.deepEqual(onObject.output, { all: [], rest: [] });
  });

  it("a bracket path with an escaped quote resolves", async () => {
    const { output } = await run(pass({ Parameters: { "value.$": "$['Test\\\"Name']", "other.$": "$['it\\'s']" } }), {
      'Test"Name': 1,
      "it's": 2,
    });
    assert.deepEqual(output, { value: 1, other: 2 });
  });

  it("States.StringToJson of an empty or whitespace string returns null", async () => {
    const { output } = await run(
      pass({ Parameters: { "empty.$": "States.StringToJson($.empty)", "blank.$": "States.StringToJson($.blank)" } }),
      {
        empty: "",
        blank: " \n\t ",
      },
    );
    assert.deepEqual(output, { empty: null, blank: null });
  });

  it("a Fail state's ErrorPath and CausePath may be intrinsic functions", async () => {
    const { result } = await run(
      {
        StartAt: "F",
        States: { F: { Type: "Fail", ErrorPath: "States.Format('{}Error', $.kind)", CausePath: "States.Format('order {} failed', $.id)" } },
      },
      { kind: "Payment", id: 7 },
    );
    assert.equal(result.error, "PaymentError");
    assert.equal(result.cause, "order 7 failed");
  });

  it("a missing ErrorPath target fails with AWS's 'could not be found in the input' cause", async () => {
    const { result } = await run({ StartAt: "F", States: { F: { Type: "Fail", ErrorPath: "$.error", Cause: "c" } } }, { other: 1 });
    assert.equal(result.error, "States.Runtime");
    assert.equal(
      result.cause,
      "An error occurred while executing the state 'F' (entered at the event id #2). The JSONPath '$.error' specified for the field 'ErrorPath' could not be found in the input '{\"other\":1}'",
    );
  });

  it("only the states that can retry (Task, Parallel, Map) carry $$.State.RetryCount; a Pass state has EnteredTime and Name", async () => {
    const { output } = await run(
      {
        StartAt: "P",
        States: {
          P: { Type: "Pass", Parameters: { "state.$": "$$.State" }, ResultPath: "$.pass", Next: "Fork" },
          Fork: {
            Type: "Parallel",
            Parameters: { "retryCount.$": "$$.State.RetryCount" },
            Branches: [{ StartAt: "B", States: { B: { Type: "Pass", End: true } } }],
            ResultPath: "$.parallel",
            End: true,
          },
        },
      },
      {},
    );
    assert.deepEqual(Object.keys(output.pass.state).sort(), ["EnteredTime", "Name"]);
    assert.deepEqual(output.parallel, [{ retryCount: 0 }]);
  });

  it("a Map or Parallel state with a Retry records its Failed event once, after the last attempt", async () => {
    const retry = [{ ErrorEquals: ["Boom"], IntervalSeconds: 0, MaxAttempts: 1 }];
    const failing = { StartAt: "Boom", States: { Boom: { Type: "Fail", Error: "Boom" } } };
    const map = await run({ StartAt: "M", States: { M: { Type: "Map", ItemProcessor: failing, Retry: retry, End: true } } }, [1]);
    const mapTypes = await map.h.eventTypes(map.executionArn);
    assert.equal(mapTypes.filter((type) => type === "MapStateStarted").length, 2);
    assert.equal(mapTypes.filter((type) => type === "MapStateFailed").length, 1);
    assert.equal(mapTypes.at(-2), "MapStateFailed");
    const parallel = await run({ StartAt: "P", States: { P: { Type: "Parallel", Branches: [failing], Retry: retry, End: true } } });
    const parallelTypes = await parallel.h.eventTypes(parallel.executionArn);
    assert.equal(parallelTypes.filter((type) => type === "ParallelStateStarted").length, 2);
    assert.equal(parallelTypes.filter((type) => type === "ParallelStateFailed").length, 1);
    assert.equal(parallelTypes.at(-2), "ParallelStateFailed");
  });

  it("a Wait TimestampPath must be ISO-8601 with T and a zone, else States.Runtime in AWS's words", async () => {
    for (const timestamp of ["2024-01-01", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00"]) {
      const { result } = await run({ StartAt: "W", States: { W: { Type: "Wait", TimestampPath: "$.at", End: true } } }, { at: timestamp });
      assert.equal(result.error, "States.Runtime");
      assert.equal(
        result.cause,
        `An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.at == ${timestamp}`,
      );
    }
    const withOffset = await run(
      { StartAt: "W", States: { W: { Type: "Wait", TimestampPath: "$.at", End: true } } },
      { at: "2001-01-01T01:00:00+01:00" },
    );
    assert.equal(withOffset.result.status, "SUCCEEDED");
  });

  it("a Wait timestamp too far ahead fails at once with 'Wait state delay is too long.'", async () => {
    const { result } = await run({ StartAt: "W", States: { W: { Type: "Wait", Timestamp: "2999-01-01T00:00:00Z", End: true } } });
    assert.equal(result.error, "States.Runtime");
    assert.match(result.cause, /\. Wait state delay is too long\.$/);
  });

  it("a negative SecondsPath value fails with AWS's cause", async () => {
    const { result } = await run(
      { StartAt: "W", States: { W: { Type: "Wait", SecondsPath: "$.input.waitSeconds", End: true } } },
      { input: { waitSeconds: -1 } },
    );
    assert.equal(result.error, "States.Runtime");
    assert.match(result.cause, /\. The SecondsPath parameter references a negative value: \$\.input\.waitSeconds == -1$/);
  });

  it("a MaxConcurrencyPath that is not an integer fails with AWS's cause", async () => {
    const { result } = await run(
      {
        StartAt: "M",
        States: {
          M: {
            Type: "Map",
            ItemsPath: "$.items",
            MaxConcurrencyPath: "$.MaxConcurrencyValue",
            ItemProcessor: { StartAt: "I", States: { I: { Type: "Succeed" } } },
            End: true,
          },
        },
      },
      { items: [1], MaxConcurrencyValue: "NoNumber" },
    );
    assert.equal(result.error, "States.Runtime");
    assert.match(
      result.cause,
      /\. The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: \$\.MaxConcurrencyValue$/,
    );
  });

  it("an oversized task result fails with AWS's States.DataLimitExceeded cause naming the state", async () => {
    const { result } = await run(
      { StartAt: "State_1", States: { State_1: { Type: "Task", Resource: functionArn("big"), End: true } } },
      {},
      (h) => h.lambda.on("big", () => "x".repeat(262_145)),
    );
    assert.equal(result.error, "States.DataLimitExceeded");
    assert.match(
      result.cause,
      /The state\/task 'State_1' returned a result with a size exceeding the maximum number of bytes service limit\.$/,
    );
  });

  it("JSONPath states read workflow variables as $name in templates, intrinsic arguments and Choice rules", async () => {
    const { output } = await run(
      {
        StartAt: "Set",
        States: {
          Set: { Type: "Pass", Assign: { "order.$": "$.order", limit: 2 }, Next: "Route" },
          Route: {
            Type: "Choice",
            Choices: [{ Variable: "$order.count", NumericGreaterThanPath: "$limit", Next: "Use" }],
            Default: "Fail",
          },
          Use: {
            Type: "Pass",
            Parameters: { "id.$": "$order.id", "text.$": "States.Format('{} items', $order.count)", "whole.$": "$limit" },
            End: true,
          },
          Fail: { Type: "Fail", Error: "NotRouted" },
        },
      },
      { order: { id: "o-1", count: 3 } },
    );
    assert.deepEqual(output, { id: "o-1", text: "3 items", whole: 2 });
  });
});
