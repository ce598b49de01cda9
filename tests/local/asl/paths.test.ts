import assert from "node:assert/strict";
import { StatesError } from "../../../local/stepfunctions/errors";
import {
  PathNotFoundError,
  applyInputPath,
  applyOutputPath,
  applyResultPath,
  isDefinitePath,
  normalizedPath,
  readPath,
  readRequiredPath,
  resolveTemplate,
} from "../../../local/stepfunctions/asl/paths";
import { assertThrowsStatesError } from "./statesErrorAssertions";

const order = {
  id: "o-1",
  "customer name": "Ana",
  amount: 0,
  note: null,
  lines: [
    { sku: "A", price: 5 },
    { sku: "B", price: 25 },
    { sku: "C", price: 40 },
  ],
  meta: { region: "eu", tags: ["x", "y"] },
};

const context = {
  Execution: { Id: "arn:aws:states:us-east-1:123456789012:execution:sm:run-1", Name: "run-1" },
  State: { Name: "Wait for callback", RetryCount: 0 },
  Task: { Token: "token-123" },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe("asl/paths", () => {
  describe("readPath", () => {
    it("returns the whole input for $", () => {
      assert.deepEqual(readPath("$", order), order);
    });

    it("returns the value a definite path selects: dot, bracket and index notation", () => {
      assert.equal(readPath("$.meta.region", order), "eu");
      assert.equal(readPath("$['customer name']", order), "Ana");
      assert.deepEqual(readPath("$.lines[1]", order), { sku: "B", price: 25 });
      assert.equal(readPath("$.meta.tags[0]", order), "x");
    });

    it("reads quoted names holding commas, dots and brackets as one name, as AWS does", () => {
      const data = { "a, b": 1, "x.y": 2, "[z]": 3 };
      assert.equal(readPath("$['a, b']", data), 1);
      assert.equal(readPath("$['x.y']", data), 2);
      assert.equal(readPath(`$["[z]"]`, data), 3);
    });

    it("does not treat length as a field of arrays and strings", () => {
      assert.throws(() => readPath("$.lines.length", order), PathNotFoundError);
      assert.throws(() => readPath("$.id.length", order), PathNotFoundError);
    });

    it("returns falsy values (0, null) as selected values, not as missing", () => {
      assert.equal(readPath("$.amount", order), 0);
      assert.equal(readPath("$.note", order), null);
    });

    it("returns an array for indefinite paths: wildcards, filters, slices and deep scans", () => {
      assert.deepEqual(readPath("$.lines[*].sku", order), ["A", "B", "C"]);
      assert.deepEqual(readPath("$.lines[?(@.price > 10)].sku", order), ["B", "C"]);
      assert.deepEqual(readPath("$.lines[0:2].price", order), [5, 25]);
      assert.deepEqual(readPath("$..sku", order), ["A", "B", "C"]);
    });

    it("returns an array even when an indefinite path selects a single node", () => {
      assert.deepEqual(readPath("$.lines[?(@.sku == 'C')].price", order), [40]);
    });

    it("reads $$ paths from the context object, not from the input", () => {
      assert.equal(readPath("$$.Task.Token", order, context), "token-123");
      assert.equal(readPath("$$.Execution.Name", { Execution: { Name: "not this" } }, context), "run-1");
      assert.deepEqual(readPath("$$", order, context), context);
    });

    it("throws PathNotFoundError when a definite path selects nothing", () => {
      assert.throws(
        () => readPath("$.missing", order),
        (error: unknown) => error instanceof PathNotFoundError && error.path === "$.missing",
      );
      assert.throws(() => readPath("$.lines[7]", order), PathNotFoundError);
      assert.throws(() => readPath("$.meta.region.deeper", order), PathNotFoundError);
    });

    it("returns [] when an indefinite path matches nothing, as AWS does", () => {
      assert.deepEqual(readPath("$.lines[?(@.price > 1000)]", order), []);
      assert.deepEqual(readPath("$.missing[*]", order), []);
    });

    it("throws PathNotFoundError for a $$ path when there is no context object", () => {
      assert.throws(() => readPath("$$.Task.Token", order), PathNotFoundError);
    });

    it("never mutates the data it reads", () => {
      const frozen = deepFreeze(structuredClone(order));
      assert.deepEqual(readPath("$.lines[*].price", frozen), [5, 25, 40]);
    });
  });

  describe("readRequiredPath", () => {
    it("returns what the path selects, from the input or the context", () => {
      assert.deepEqual(readRequiredPath("$.meta.tags", order), ["x", "y"]);
      assert.equal(readRequiredPath("$$.State.Name", order, context), "Wait for callback");
    });

    it("fails with States.Runtime in AWS's 'No results' words when the path selects nothing", () => {
      assertThrowsStatesError(
        () => readRequiredPath("$.items", order),
        "States.Runtime",
        "Invalid path '$.items' : No results for path: $['items']",
      );
    });
  });

  describe("isDefinitePath", () => {
    it("treats plain names, quoted names and indices as definite", () => {
      for (const path of ["$", "$.a.b", "$['a b']", "$.a[0]", "$['a:b']", "$['a,b']", "$['x*y']", "$$.Task.Token"]) {
        assert.equal(isDefinitePath(path), true, path);
      }
    });

    it("treats wildcards, deep scans, filters, slices and unions as indefinite", () => {
      for (const path of ["$.a[*]", "$.*", "$..id", "$.a[?(@.x)]", "$.a[0:2]", "$.a[0,1]", "$.a[(@.length-1)]"]) {
        assert.equal(isDefinitePath(path), false, path);
      }
    });
  });

  describe("normalizedPath", () => {
    it("spells a path the way AWS's error messages do", () => {
      assert.equal(normalizedPath("$.Payload"), "$['Payload']");
      assert.equal(normalizedPath("$.a.b[0]"), "$['a']['b'][0]");
      assert.equal(normalizedPath("$['a b'].c"), "$['a b']['c']");
    });
  });

  describe("applyInputPath", () => {
    it("passes the whole input when InputPath is absent or $", () => {
      assert.equal(applyInputPath(undefined, order), order);
      assert.equal(applyInputPath("$", order), order);
    });

    it("hands the state {} when InputPath is null", () => {
      assert.deepEqual(applyInputPath(null, order), {});
    });

    it("selects part of the input (AWS's InputPath example)", () => {
      const input = {
        comment: "Example for InputPath.",
        dataset1: { val1: 1, val2: 2, val3: 3 },
        dataset2: { val1: "a", val2: "b", val3: "c" },
      };
      assert.deepEqual(applyInputPath("$.dataset2", input), { val1: "a", val2: "b", val3: "c" });
    });

    it("can select from the context object with $$", () => {
      assert.equal(applyInputPath("$$.Execution.Name", order, context), "run-1");
    });

    it("fails with an uncatchable States.Runtime in AWS's words when the path selects nothing", () => {
      const error = assertThrowsStatesError(
        () => applyInputPath("$.Payload", { StatusCode: 200 }),
        "States.Runtime",
        "Invalid path '$.Payload' : No results for path: $['Payload']",
      );
      assert.equal(error.catchable, false);
    });
  });

  describe("applyOutputPath", () => {
    it("passes the whole output when OutputPath is absent or $, and {} when null", () => {
      assert.equal(applyOutputPath(undefined, order), order);
      assert.equal(applyOutputPath("$", order), order);
      assert.deepEqual(applyOutputPath(null, order), {});
    });

    it("selects part of the output", () => {
      assert.deepEqual(applyOutputPath("$.meta.tags", order), ["x", "y"]);
    });

    it("fails with States.Runtime, as recorded on AWS, when the path selects nothing", () => {
      assertThrowsStatesError(
        () => applyOutputPath("$.Payload.status", { Payload: {} }),
        "States.Runtime",
        "Invalid path '$.Payload.status' : No results for path: $['Payload']['status']",
      );
    });
  });

  describe("resolveTemplate", () => {
    it("builds AWS's documented Parameters example exactly", () => {
      const input = {
        comment: "Example for Parameters.",
        product: {
          details: { color: "blue", size: "small", material: "cotton" },
          availability: "in stock",
          sku: "2317",
          cost: "$23",
        },
      };
      const parameters = {
        comment: "Selecting what I care about.",
        MyDetails: { "size.$": "$.product.details.size", "exists.$": "$.product.availability", StaticValue: "foo" },
      };
      assert.deepEqual(resolveTemplate(parameters, input, context), {
        comment: "Selecting what I care about.",
        MyDetails: { size: "small", exists: "in stock", StaticValue: "foo" },
      });
    });

    it("takes $$ paths from the context object (the task token of a callback task)", () => {
      const parameters = {
        FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:worker",
        Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$", "execution.$": "$$.Execution.Id" },
      };
      assert.deepEqual(resolveTemplate(parameters, { id: "o-1" }, context), {
        FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:worker",
        Payload: { taskToken: "token-123", input: { id: "o-1" }, execution: context.Execution.Id },
      });
    });

    it("processes objects inside arrays and copies other array items as they are", () => {
      const template = { items: [{ "sku.$": "$.lines[0].sku" }, "literal", 3, [{ "region.$": "$.meta.region" }]] };
      assert.deepEqual(resolveTemplate(template, order, context), { items: [{ sku: "A" }, "literal", 3, [{ region: "eu" }]] });
    });

    it("copies keys without .$ literally, even when their value looks like a path", () => {
      assert.deepEqual(resolveTemplate({ path: "$.id", nothing: null, flag: false }, order, context), {
        path: "$.id",
        nothing: null,
        flag: false,
      });
    });

    it("evaluates intrinsic functions in .$ fields", () => {
      assert.deepEqual(resolveTemplate({ "greeting.$": "States.Format('Hello, {}', $['customer name'])" }, order, context), {
        greeting: "Hello, Ana",
      });
    });

    it("returns an array for an indefinite path", () => {
      assert.deepEqual(resolveTemplate({ "prices.$": "$.lines[*].price" }, order, context), { prices: [5, 25, 40] });
    });

    it("fails with States.Runtime naming the field and the input when a path selects nothing", () => {
      assertThrowsStatesError(
        () => resolveTemplate({ Payload: { "JobName.$": "$.JobName" } }, {}, context),
        "States.Runtime",
        "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'",
      );
    });

    it("shows the context object in the message when a $$ path selects nothing", () => {
      assertThrowsStatesError(
        () => resolveTemplate({ "token.$": "$$.Task.Missing" }, {}, { Task: { Token: "t" } }),
        "States.Runtime",
        `The JSONPath '$$.Task.Missing' specified for the field 'token.$' could not be found in the input '{"Task":{"Token":"t"}}'`,
      );
    });

    it("fails with States.IntrinsicFailure when an intrinsic function fails", () => {
      assertThrowsStatesError(
        () => resolveTemplate({ "n.$": "States.ArrayLength($.id)" }, order, context),
        "States.IntrinsicFailure",
        /States\.ArrayLength/,
      );
    });

    it("rejects a .$ field whose value is neither a path nor an intrinsic function", () => {
      assertThrowsStatesError(
        () => resolveTemplate({ "x.$": 3 }, order, context),
        "States.Runtime",
        /'x\.\$' must be a JSONPath or an intrinsic function/,
      );
      assertThrowsStatesError(() => resolveTemplate({ "x.$": "plain text" }, order, context), "States.Runtime", /received 'plain text'/);
    });

    it("never mutates the template, the input or the context", () => {
      const template = deepFreeze({ a: { "b.$": "$.meta" }, list: [{ "c.$": "$$.State" }] });
      const input = deepFreeze(structuredClone(order));
      const frozenContext = deepFreeze(structuredClone(context));
      const result = resolveTemplate(template, input, frozenContext) as { a: { b: unknown } };
      assert.deepEqual(result.a.b, order.meta);
    });
  });

  describe("applyResultPath", () => {
    const input = {
      comment: "This is a test of the input and output of a Task state.",
      details: "Default example",
      who: "AWS Step Functions",
    };
    const result = "Hello, AWS Step Functions!";

    it("replaces the input with the result when ResultPath is absent or $", () => {
      assert.equal(applyResultPath(undefined, input, result), result);
      assert.equal(applyResultPath("$", input, result), result);
    });

    it("discards the result and keeps the input when ResultPath is null", () => {
      assert.equal(applyResultPath(null, input, result), input);
    });

    it("adds the result to the input at a field (AWS's ResultPath example)", () => {
      assert.deepEqual(applyResultPath("$.taskresult", input, result), { ...input, taskresult: result });
    });

    it("creates the missing objects along a nested path", () => {
      assert.deepEqual(applyResultPath("$.a.b.c", { keep: 1 }, { done: true }), { keep: 1, a: { b: { c: { done: true } } } });
    });

    it("overwrites an existing field and keeps its siblings", () => {
      assert.deepEqual(applyResultPath("$.meta.region", order, "us"), { ...order, meta: { region: "us", tags: ["x", "y"] } });
    });

    it("accepts bracket notation for field names and sets existing array elements", () => {
      assert.deepEqual(applyResultPath("$['error info']", {}, { Error: "E" }), { "error info": { Error: "E" } });
      assert.deepEqual(applyResultPath("$.meta.tags[1]", order, "z"), { ...order, meta: { region: "eu", tags: ["x", "z"] } });
    });

    it("never mutates the input", () => {
      const frozen = deepFreeze(structuredClone(order));
      const output = applyResultPath("$.meta.result", frozen, 1) as typeof order & { meta: { result: number } };
      assert.equal(output.meta.result, 1);
      assert.equal("result" in frozen.meta, false);
    });

    it("fails with States.ResultPathMatchFailure when the input is not an object", () => {
      const error = assertThrowsStatesError(
        () => applyResultPath("$.result", "a string input", 1),
        "States.ResultPathMatchFailure",
        "Unable to apply ResultPath '$.result' to the input: '$' is a string, not an object, so it cannot have the field 'result'",
      );
      assert.equal(error.catchable, true);
    });

    it("fails with States.ResultPathMatchFailure when a node along the path is not an object", () => {
      assertThrowsStatesError(
        () => applyResultPath("$.id.inner", order, 1),
        "States.ResultPathMatchFailure",
        /'\$\.id' is a string, not an object/,
      );
      assertThrowsStatesError(() => applyResultPath("$.lines.inner", order, 1), "States.ResultPathMatchFailure", /'\$\.lines' is an array/);
    });

    it("fails with States.ResultPathMatchFailure for an index outside the array", () => {
      assertThrowsStatesError(
        () => applyResultPath("$.meta.tags[5]", order, 1),
        "States.ResultPathMatchFailure",
        /index 5 is out of bounds for '\$\.meta\.tags' \(length 2\)/,
      );
    });

    it("fails with States.ResultPathMatchFailure for a path that is not a Reference Path", () => {
      assertThrowsStatesError(() => applyResultPath("$.lines[*].x", order, 1), "States.ResultPathMatchFailure", /not a Reference Path/);
      assertThrowsStatesError(() => applyResultPath("$$.Task", order, 1), "States.ResultPathMatchFailure", /not a Reference Path/);
    });
  });

  it("reports errors as StatesError instances the engine can match", () => {
    try {
      applyInputPath("$.nope", {});
      assert.fail("expected an error");
    } catch (error) {
      assert.ok(error instanceof StatesError);
    }
  });
});
