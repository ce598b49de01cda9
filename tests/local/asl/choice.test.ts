import assert from "node:assert/strict";
import {
  chooseNext,
  evaluateRule,
  isTimestamp,
  parseTimestamp,
  stringMatches,
  type ChoiceRule,
  type ChoiceState,
} from "../../../local/stepfunctions/asl/choice";
import { COMPARISON_OPERATORS } from "../../../local/stepfunctions/asl/types";
import { assertThrowsStatesError } from "./statesErrorAssertions";

const input = {
  name: "beta",
  other: "alpha",
  count: 10,
  limit: 20,
  ratio: 0.5,
  approved: true,
  nothing: null,
  when: "2024-03-01T12:00:00Z",
  later: "2024-03-01T12:00:00.5Z",
  file: "log-2024.txt",
  list: [1, 2],
};

function matches(rule: ChoiceRule, data: unknown = input, context?: unknown): boolean {
  return evaluateRule(rule, data, context);
}

describe("asl/choice", () => {
  describe("string comparisons", () => {
    it("StringEquals matches equal strings only, case-sensitively", () => {
      assert.equal(matches({ Variable: "$.name", StringEquals: "beta" }), true);
      assert.equal(matches({ Variable: "$.name", StringEquals: "Beta" }), false);
    });

    it("StringLessThan, StringGreaterThan and their Equals forms compare lexicographically", () => {
      assert.equal(matches({ Variable: "$.other", StringLessThan: "beta" }), true);
      assert.equal(matches({ Variable: "$.name", StringLessThan: "beta" }), false);
      assert.equal(matches({ Variable: "$.name", StringGreaterThan: "alpha" }), true);
      assert.equal(matches({ Variable: "$.name", StringGreaterThan: "gamma" }), false);
      assert.equal(matches({ Variable: "$.name", StringLessThanEquals: "beta" }), true);
      assert.equal(matches({ Variable: "$.name", StringLessThanEquals: "alpha" }), false);
      assert.equal(matches({ Variable: "$.name", StringGreaterThanEquals: "beta" }), true);
      assert.equal(matches({ Variable: "$.name", StringGreaterThanEquals: "gamma" }), false);
      assert.equal(matches({ Variable: "$.name", StringLessThan: "betaa" }), true, "a prefix sorts first");
    });

    it("the Path forms compare with a value read from the input", () => {
      assert.equal(matches({ Variable: "$.name", StringEqualsPath: "$.name" }), true);
      assert.equal(matches({ Variable: "$.name", StringEqualsPath: "$.other" }), false);
      assert.equal(matches({ Variable: "$.other", StringLessThanPath: "$.name" }), true);
      assert.equal(matches({ Variable: "$.name", StringGreaterThanPath: "$.other" }), true);
      assert.equal(matches({ Variable: "$.name", StringLessThanEqualsPath: "$.name" }), true);
      assert.equal(matches({ Variable: "$.other", StringGreaterThanEqualsPath: "$.name" }), false);
    });

    it("string comparisons are false for a value of another type", () => {
      assert.equal(matches({ Variable: "$.count", StringEquals: "10" }), false);
      assert.equal(matches({ Variable: "$.nothing", StringLessThan: "z" }), false);
      assert.equal(matches({ Variable: "$.name", StringEqualsPath: "$.count" }), false);
    });
  });

  describe("StringMatches", () => {
    it("matches * against any run of characters, including none", () => {
      assert.equal(matches({ Variable: "$.file", StringMatches: "log-*.txt" }), true);
      assert.equal(matches({ Variable: "$.file", StringMatches: "*" }), true);
      assert.equal(matches({ Variable: "$.file", StringMatches: "log-2024.txt*" }), true);
      assert.equal(matches({ Variable: "$.file", StringMatches: "*.csv" }), false);
      assert.equal(stringMatches("a\nb", "a*b"), true, "* spans line breaks");
    });

    it("treats \\* as a literal asterisk and \\\\ as a literal backslash", () => {
      assert.equal(stringMatches("file*.txt", "file\\*.txt"), true);
      assert.equal(stringMatches("file1.txt", "file\\*.txt"), false);
      assert.equal(stringMatches("C:\\temp", "C:\\\\*"), true);
    });

    it("treats regular expression characters literally", () => {
      assert.equal(stringMatches("a.c", "a.c"), true);
      assert.equal(stringMatches("abc", "a.c"), false);
      assert.equal(stringMatches("(x)+[y]", "(x)+[y]"), true);
    });

    it("is false for a non-string value", () => {
      assert.equal(matches({ Variable: "$.count", StringMatches: "*" }), false);
    });
  });

  describe("numeric comparisons", () => {
    it("each operator compares numbers, integer or not", () => {
      assert.equal(matches({ Variable: "$.count", NumericEquals: 10 }), true);
      assert.equal(matches({ Variable: "$.ratio", NumericEquals: 0.5 }), true);
      assert.equal(matches({ Variable: "$.count", NumericEquals: 11 }), false);
      assert.equal(matches({ Variable: "$.count", NumericLessThan: 11 }), true);
      assert.equal(matches({ Variable: "$.count", NumericLessThan: 10 }), false);
      assert.equal(matches({ Variable: "$.count", NumericGreaterThan: 9.5 }), true);
      assert.equal(matches({ Variable: "$.count", NumericGreaterThan: 10 }), false);
      assert.equal(matches({ Variable: "$.count", NumericLessThanEquals: 10 }), true);
      assert.equal(matches({ Variable: "$.count", NumericLessThanEquals: 9 }), false);
      assert.equal(matches({ Variable: "$.count", NumericGreaterThanEquals: 10 }), true);
      assert.equal(matches({ Variable: "$.count", NumericGreaterThanEquals: 11 }), false);
    });

    it("the Path forms compare with a number read from the input", () => {
      assert.equal(matches({ Variable: "$.count", NumericEqualsPath: "$.count" }), true);
      assert.equal(matches({ Variable: "$.count", NumericLessThanPath: "$.limit" }), true);
      assert.equal(matches({ Variable: "$.count", NumericGreaterThanPath: "$.limit" }), false);
      assert.equal(matches({ Variable: "$.limit", NumericLessThanEqualsPath: "$.count" }), false);
      assert.equal(matches({ Variable: "$.limit", NumericGreaterThanEqualsPath: "$.count" }), true);
    });

    it("numeric comparisons are false for a numeric string", () => {
      assert.equal(matches({ Variable: "$.n", NumericEquals: 10 }, { n: "10" }), false);
      assert.equal(matches({ Variable: "$.count", NumericEqualsPath: "$.name" }), false);
    });
  });

  describe("boolean comparisons", () => {
    it("BooleanEquals and BooleanEqualsPath compare booleans only", () => {
      assert.equal(matches({ Variable: "$.approved", BooleanEquals: true }), true);
      assert.equal(matches({ Variable: "$.approved", BooleanEquals: false }), false);
      assert.equal(matches({ Variable: "$.flag", BooleanEquals: true }, { flag: "true" }), false);
      assert.equal(matches({ Variable: "$.approved", BooleanEqualsPath: "$.approved" }), true);
      assert.equal(matches({ Variable: "$.a", BooleanEqualsPath: "$.b" }, { a: true, b: false }), false);
    });
  });

  describe("timestamp comparisons", () => {
    it("each operator compares instants, not strings", () => {
      assert.equal(matches({ Variable: "$.when", TimestampEquals: "2024-03-01T13:00:00+01:00" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampEquals: "2024-03-01T12:00:01Z" }), false);
      assert.equal(matches({ Variable: "$.when", TimestampLessThan: "2024-03-01T12:00:00.001Z" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampLessThan: "2024-03-01T12:00:00Z" }), false);
      assert.equal(matches({ Variable: "$.when", TimestampGreaterThan: "2024-03-01T11:59:59.999999999Z" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampGreaterThan: "2024-03-01T12:00:00Z" }), false);
      assert.equal(matches({ Variable: "$.when", TimestampLessThanEquals: "2024-03-01T12:00:00Z" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampLessThanEquals: "2024-03-01T11:00:00Z" }), false);
      assert.equal(matches({ Variable: "$.when", TimestampGreaterThanEquals: "2024-03-01T12:00:00Z" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampGreaterThanEquals: "2025-01-01T00:00:00Z" }), false);
    });

    it("compares fractional seconds down to the nanosecond", () => {
      assert.equal(
        matches({ Variable: "$.t", TimestampLessThan: "2024-03-01T12:00:00.000000002Z" }, { t: "2024-03-01T12:00:00.000000001Z" }),
        true,
      );
      assert.equal(matches({ Variable: "$.t", TimestampEquals: "2024-03-01T12:00:00.5Z" }, { t: "2024-03-01T12:00:00.500Z" }), true);
    });

    it("the Path forms compare with a timestamp read from the input", () => {
      assert.equal(matches({ Variable: "$.when", TimestampLessThanPath: "$.later" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampEqualsPath: "$.when" }), true);
      assert.equal(matches({ Variable: "$.when", TimestampGreaterThanPath: "$.later" }), false);
      assert.equal(matches({ Variable: "$.later", TimestampGreaterThanEqualsPath: "$.when" }), true);
      assert.equal(matches({ Variable: "$.later", TimestampLessThanEqualsPath: "$.when" }), false);
    });

    it("timestamp comparisons are false when either side is not an AWS timestamp", () => {
      assert.equal(matches({ Variable: "$.name", TimestampEquals: "2024-03-01T12:00:00Z" }), false);
      assert.equal(matches({ Variable: "$.t", TimestampEquals: "2024-03-01t12:00:00z" }, { t: "2024-03-01t12:00:00z" }), false);
      assert.equal(matches({ Variable: "$.count", TimestampLessThanPath: "$.when" }), false);
    });

    it("parseTimestamp accepts RFC 3339 with uppercase T and Z or an offset, and rejects impossible dates", () => {
      assert.deepEqual(parseTimestamp("2016-08-18T17:33:00Z"), { epochSeconds: Date.UTC(2016, 7, 18, 17, 33) / 1000, nanoseconds: 0 });
      assert.equal(parseTimestamp("2016-08-18T19:33:00+02:00")?.epochSeconds, Date.UTC(2016, 7, 18, 17, 33) / 1000);
      assert.equal(parseTimestamp("2024-02-29T00:00:00Z") !== null, true, "leap day");
      for (const invalid of [
        "2023-02-29T00:00:00Z",
        "2016-13-01T00:00:00Z",
        "2016-08-18 17:33:00Z",
        "2016-08-18T17:33:00",
        "2016-08-18T24:00:00Z",
        "2016-08-18T17:33:00+2:00",
      ]) {
        assert.equal(parseTimestamp(invalid), null, invalid);
      }
    });
  });

  describe("type tests", () => {
    it("IsNull, IsNumeric, IsString, IsBoolean and IsTimestamp test the value's type, true or false", () => {
      assert.equal(matches({ Variable: "$.nothing", IsNull: true }), true);
      assert.equal(matches({ Variable: "$.name", IsNull: true }), false);
      assert.equal(matches({ Variable: "$.name", IsNull: false }), true);
      assert.equal(matches({ Variable: "$.ratio", IsNumeric: true }), true);
      assert.equal(matches({ Variable: "$.name", IsNumeric: true }), false);
      assert.equal(matches({ Variable: "$.name", IsString: true }), true);
      assert.equal(matches({ Variable: "$.count", IsString: false }), true);
      assert.equal(matches({ Variable: "$.approved", IsBoolean: true }), true);
      assert.equal(matches({ Variable: "$.nothing", IsBoolean: true }), false);
      assert.equal(matches({ Variable: "$.when", IsTimestamp: true }), true);
      assert.equal(matches({ Variable: "$.name", IsTimestamp: true }), false);
      assert.equal(isTimestamp(12), false);
    });

    it("IsPresent tells whether a path selects anything, without failing", () => {
      assert.equal(matches({ Variable: "$.name", IsPresent: true }), true);
      assert.equal(matches({ Variable: "$.missing", IsPresent: true }), false);
      assert.equal(matches({ Variable: "$.missing", IsPresent: false }), true);
      assert.equal(matches({ Variable: "$.nothing", IsPresent: true }), true, "a null field is present");
    });
  });

  describe("And, Or, Not", () => {
    const inRange: ChoiceRule = {
      And: [
        { Variable: "$.count", NumericGreaterThanEquals: 0 },
        { Variable: "$.count", NumericLessThan: 100 },
      ],
    };

    it("And needs every rule, Or any rule, Not the opposite", () => {
      assert.equal(matches(inRange), true);
      assert.equal(matches(inRange, { count: 100 }), false);
      assert.equal(
        matches({
          Or: [
            { Variable: "$.name", StringEquals: "x" },
            { Variable: "$.count", NumericEquals: 10 },
          ],
        }),
        true,
      );
      assert.equal(
        matches({
          Or: [
            { Variable: "$.name", StringEquals: "x" },
            { Variable: "$.count", NumericEquals: 11 },
          ],
        }),
        false,
      );
      assert.equal(matches({ Not: { Variable: "$.name", StringEquals: "beta" } }), false);
      assert.equal(matches({ Not: { Variable: "$.name", StringEquals: "x" } }), true);
    });

    it("combinations nest", () => {
      const rule: ChoiceRule = { Not: { Or: [inRange, { Variable: "$.approved", BooleanEquals: false }] } };
      assert.equal(matches(rule), false);
      assert.equal(matches(rule, { count: 500, approved: true }), true);
    });

    it("an IsPresent guard lets the rest of an And skip a missing field", () => {
      const guarded: ChoiceRule = {
        And: [
          { Variable: "$.startFrom", IsPresent: true },
          { Variable: "$.startFrom", NumericGreaterThan: 0 },
        ],
      };
      assert.equal(matches(guarded, {}), false);
      assert.equal(matches(guarded, { startFrom: 3 }), true);
    });
  });

  describe("missing paths", () => {
    it("a Variable that selects nothing fails with States.Runtime in AWS's words", () => {
      const error = assertThrowsStatesError(
        () => matches({ Variable: "$.startFrom", NumericEquals: 1 }, {}),
        "States.Runtime",
        "Invalid path '$.startFrom': The choice state's condition path references an invalid value.",
      );
      assert.equal(error.catchable, false);
    });

    it("a type test on a missing path fails the same way (only IsPresent may look)", () => {
      assertThrowsStatesError(() => matches({ Variable: "$.missing", IsNull: true }), "States.Runtime", /Invalid path '\$\.missing'/);
    });

    it("a ...Path operand that selects nothing fails the same way", () => {
      assertThrowsStatesError(
        () => matches({ Variable: "$.count", NumericLessThanPath: "$.ceiling" }),
        "States.Runtime",
        /Invalid path '\$\.ceiling'/,
      );
    });
  });

  it("reads $$ paths from the context object", () => {
    assert.equal(matches({ Variable: "$$.State.RetryCount", NumericEquals: 2 }, {}, { State: { RetryCount: 2 } }), true);
  });

  it("handles every comparison operator AWS defines", () => {
    const operands: Record<string, unknown> = { String: "beta", Numeric: 10, Boolean: true, Timestamp: "2024-03-01T12:00:00Z" };
    const pathOperands: Record<string, string> = { String: "$.name", Numeric: "$.count", Boolean: "$.approved", Timestamp: "$.when" };
    for (const operator of COMPARISON_OPERATORS) {
      const family = /^(String|Numeric|Boolean|Timestamp)/.exec(operator)?.[1];
      const operand = operator.startsWith("Is")
        ? true
        : operator.endsWith("Path")
          ? pathOperands[family!]
          : operator === "StringMatches"
            ? "*"
            : operands[family!];
      const variable = family ? pathOperands[family] : "$.name";
      assert.equal(typeof matches({ Variable: variable, [operator]: operand }), "boolean", operator);
    }
  });

  describe("chooseNext", () => {
    const state: ChoiceState = {
      Type: "Choice",
      Choices: [
        { Variable: "$.status", StringEquals: "ContinueProcess", Next: "Continue" },
        { Variable: "$.status", StringMatches: "Continue*", Next: "Second" },
        { Variable: "$.status", StringEquals: "ProcessingFailed", Next: "Failed" },
      ],
      Default: "Unknown",
    };

    it("returns the Next of the first matching rule, in order", () => {
      assert.equal(chooseNext(state, { status: "ContinueProcess" }), "Continue");
      assert.equal(chooseNext(state, { status: "ContinueLater" }), "Second");
      assert.equal(chooseNext(state, { status: "ProcessingFailed" }), "Failed");
    });

    it("falls back to Default when no rule matches", () => {
      assert.equal(chooseNext(state, { status: "Other" }), "Unknown");
    });

    it("fails with a catchable States.NoChoiceMatched when no rule matches and there is no Default", () => {
      const { Default: _ignored, ...withoutDefault } = state;
      const error = assertThrowsStatesError(
        () => chooseNext(withoutDefault, { status: "Other" }),
        "States.NoChoiceMatched",
        "No Choice rule matched the input, and the Choice state has no Default",
      );
      assert.equal(error.catchable, true);
    });
  });
});
