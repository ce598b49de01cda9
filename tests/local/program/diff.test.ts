import * as assert from "node:assert/strict";
import { describeDiff, diffPrograms } from "../../../local/program/diff";
import type { EvaluatedResource } from "../../../local/program/evaluator";

function resource(type: string, name: string, inputs: Record<string, any>, state: Record<string, any> = {}): EvaluatedResource {
  return { urn: `urn:pulumi:dev::p::${type}::${name}`, type, name, id: `${name}-1234567`, inputs, state, custom: true, remote: false };
}

describe("program diff: what a reload changes", () => {
  const fn = (code: string, timeout = 3) => resource("aws:lambda/function:Function", "split", { code, timeout }, { name: "split-1234567" });
  const machine = (definition: string) =>
    resource("aws:sfn/stateMachine:StateMachine", "machine", { definition }, { name: "machine-1234567" });
  const route = (routeKey: string) => resource("aws:apigatewayv2/route:Route", routeKey, { routeKey });

  it("matches resources by URN and reports added, removed and changed ones in declaration order", () => {
    const diff = diffPrograms([fn("a"), route("GET /old")], [fn("b"), route("GET /new")]);
    assert.deepEqual(
      diff.added.map((added) => added.name),
      ["GET /new"],
    );
    assert.deepEqual(
      diff.removed.map((removed) => removed.name),
      ["GET /old"],
    );
    assert.deepEqual(
      diff.changed.map(({ previous, next }) => [previous.inputs.code, next.inputs.code]),
      [["a", "b"]],
    );
  });

  it("says what changed in one line: code or configuration of a function, a definition, routes by their key", () => {
    const diff = diffPrograms([fn("a"), machine("{}"), route("GET /old")], [fn("b"), machine('{"StartAt":"A"}'), route("GET /foo")]);
    assert.equal(
      describeDiff(diff),
      "function split-1234567 code changed; state machine machine-1234567 definition changed; route GET /foo added; route GET /old removed",
    );
    assert.equal(describeDiff(diffPrograms([fn("a", 3)], [fn("a", 10)])), "function split-1234567 configuration changed");
  });

  it("reports no change when every declaration is the same", () => {
    assert.equal(describeDiff(diffPrograms([fn("a"), machine("{}")], [fn("a"), machine("{}")])), "no resource changed");
  });
});
