import assert from "node:assert/strict";
import jsonata from "jsonata";
import { evaluateJsonata } from "../../../local/stepfunctions/asl/jsonata/evaluate";
import { directEvaluator, NOT_DIRECT } from "../../../local/stepfunctions/asl/jsonata/directPaths";

const bindings = {
  states: { input: { count: 3, label: "x", items: [{ price: 5 }, { price: 7 }], nested: { deep: { value: null } }, text: "b" } },
  limit: 2,
  order: { id: "o-1" },
};

describe("asl/jsonata", () => {
  it("answers simple paths and comparisons exactly as the jsonata library does", async () => {
    for (const text of [
      "$states.input.count",
      "$states.input.label",
      "$states.input.nested.deep.value",
      "$states.input.items.price",
      "$states.input.items",
      "$order.id",
      "$limit",
      "$states.input.count < 0",
      "$states.input.count >= $limit",
      "$states.input.text = 'b'",
      "$states.input.text != 'a'",
      "$states.input.label > 'a'",
      "$states.input.count = '3'",
    ]) {
      const expected = await jsonata(text).evaluate(undefined, bindings);
      assert.deepEqual(await evaluateJsonata(text, bindings, "Output"), expected, text);
    }
  });

  it("reads simple paths directly and steps aside where JSONata's semantics differ (arrays, nothing found, mixed types)", () => {
    const direct = (text: string) => directEvaluator(jsonata(text).ast())!(bindings);
    assert.equal(direct("$states.input.count"), 3);
    assert.equal(direct("$states.input.count < 0"), false);
    assert.equal(direct("$states.input.items.price"), NOT_DIRECT);
    assert.equal(direct("$states.input.missing"), NOT_DIRECT);
    assert.equal(direct("$states.input.count = '3'"), NOT_DIRECT);
    assert.equal(directEvaluator(jsonata("$sum($states.input.items.price)").ast()), undefined);
  });

  it("names the expression and the field when an expression gives nothing", async () => {
    await assert.rejects(evaluateJsonata("$states.input.missing", bindings, "Arguments/Payload/id"), {
      error: "States.QueryEvaluationError",
      cause: "The JSONata expression '$states.input.missing' specified for the field 'Arguments/Payload/id' returned nothing (undefined).",
    });
  });
});
