import * as assert from "node:assert/strict";
import { allStateNames, buildDiagram, describeChoiceRule, type DefinitionBlock } from "../../../local/console/model/diagram";

const NESTED: DefinitionBlock = {
  StartAt: "Decide",
  States: {
    Decide: {
      Type: "Choice",
      Choices: [
        { Variable: "$.kind", StringEquals: "fan", Next: "FanOut" },
        {
          And: [
            { Variable: "$.n", NumericGreaterThan: 3 },
            { Variable: "$.ok", IsPresent: true },
          ],
          Next: "EachItem",
        },
      ],
      Default: "Nothing",
    },
    FanOut: {
      Type: "Parallel",
      Branches: [
        { StartAt: "Left", States: { Left: { Type: "Pass", End: true } } },
        { StartAt: "RightWait", States: { RightWait: { Type: "Wait", Next: "Right" }, Right: { Type: "Pass", End: true } } },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Oops" }],
      Next: "Done",
    },
    EachItem: {
      Type: "Map",
      ItemProcessor: {
        StartAt: "Call",
        States: {
          Call: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke",
            Retry: [{ ErrorEquals: ["States.ALL"], MaxAttempts: 2 }],
            End: true,
          },
        },
      },
      Next: "Done",
    },
    Nothing: { Type: "Succeed" },
    Oops: { Type: "Fail" },
    Done: { Type: "Pass", End: true },
  },
};

describe("console diagram (definition → dagre layout)", () => {
  const diagram = buildDiagram(NESTED);
  const node = (id: string) => diagram.nodes.find((candidate) => candidate.id === id)!;
  const edge = (from: string, to: string) => diagram.edges.find((candidate) => candidate.from === from && candidate.to === to);

  it("draws one box per state by name, nested states included, plus start and end", () => {
    const stateNodes = diagram.nodes.filter((candidate) => candidate.kind === "state").map((candidate) => candidate.stateName);
    assert.deepEqual(stateNodes.sort(), allStateNames(NESTED).sort());
    assert.deepEqual(allStateNames(NESTED).sort(), [
      "Call",
      "Decide",
      "Done",
      "EachItem",
      "FanOut",
      "Left",
      "Nothing",
      "Oops",
      "Right",
      "RightWait",
    ]);
    assert.ok(edge("__start", "Decide"));
    for (const terminal of ["Nothing", "Oops", "Done"]) assert.ok(edge(terminal, "__end"), `${terminal} → end`);
  });

  it("labels Choice edges with their conditions and the Default edge", () => {
    assert.equal(edge("Decide", "FanOut")!.label, '$.kind == "fan"');
    assert.equal(edge("Decide", "EachItem")!.label, "$.n > 3 and $.ok is present");
    assert.equal(edge("Decide", "Nothing")!.kind, "default");
  });

  it("draws Catch edges as their own kind, labelled with the errors, from a group's join", () => {
    const caught = edge("join:FanOut", "Oops")!;
    assert.equal(caught.kind, "catch");
    assert.equal(caught.label, "Catch States.ALL");
  });

  it("marks states that retry with their total attempts", () => {
    assert.equal(node("Call").retry, "↻ 2");
    assert.equal(node("Done").retry, undefined);
  });

  it("nests a Parallel's branches and a Map's item processor inside their group's box", () => {
    const inside = (id: string, groupId: string) => {
      const group = diagram.groups.find((candidate) => candidate.id === groupId)!;
      const placed = node(id);
      return Math.abs(placed.x - group.x) <= group.width / 2 && Math.abs(placed.y - group.y) <= group.height / 2;
    };
    for (const name of ["FanOut", "Left", "RightWait", "Right"]) assert.ok(inside(name, "group:FanOut"), `${name} inside FanOut`);
    for (const name of ["EachItem", "Call"]) assert.ok(inside(name, "group:EachItem"), `${name} inside EachItem`);
    assert.ok(!inside("Done", "group:FanOut"));
    assert.ok(edge("FanOut", "Left") && edge("FanOut", "RightWait") && edge("Right", "join:FanOut"));
  });

  it("lays edges out as point lists and the whole drawing within its size", () => {
    for (const laid of diagram.edges) assert.ok(laid.points.length >= 2, `${laid.from} → ${laid.to} has points`);
    for (const placed of diagram.nodes)
      assert.ok(placed.x + placed.width / 2 <= diagram.width && placed.y + placed.height / 2 <= diagram.height);
  });

  it("reads comparison rules by value and by path, and negations", () => {
    assert.equal(describeChoiceRule({ Variable: "$.a", NumericLessThanEqualsPath: "$.b", Next: "X" }), "$.a <= $.b");
    assert.equal(describeChoiceRule({ Not: { Variable: "$.s", StringMatches: "log-*" }, Next: "X" }), 'not $.s matches "log-*"');
    assert.equal(describeChoiceRule({ Variable: "$.t", IsNull: false, Next: "X" }), "$.t is not null");
  });
});
