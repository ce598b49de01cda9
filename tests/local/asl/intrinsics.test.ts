import assert from "node:assert/strict";
import {
  INTRINSIC_FUNCTION_NAMES,
  IntrinsicSyntaxError,
  evaluateIntrinsic,
  isIntrinsic,
  parseIntrinsic,
} from "../../../local/stepfunctions/asl/intrinsics";
import { assertThrowsStatesError } from "./statesErrorAssertions";

/** Evaluates an expression the way a `.$` field of a payload template does. */
function run(expression: string, input: unknown = {}, context: unknown = {}): unknown {
  return evaluateIntrinsic(expression, input, context);
}

function assertIntrinsicFailure(expression: string, input: unknown, cause: RegExp): void {
  assertThrowsStatesError(() => run(expression, input), "States.IntrinsicFailure", cause);
}

const nine = { inputArray: [1, 2, 3, 4, 5, 6, 7, 8, 9] };

describe("asl/intrinsics", () => {
  describe("isIntrinsic", () => {
    it("recognises a States.* call and nothing else", () => {
      assert.equal(isIntrinsic("States.Format('{}', $.a)"), true);
      assert.equal(isIntrinsic("States.UUID()"), true);
      assert.equal(isIntrinsic("$.States.Format"), false);
      assert.equal(isIntrinsic("$$.Task.Token"), false);
      assert.equal(isIntrinsic("States.Format"), false);
      assert.equal(isIntrinsic("Hello"), false);
    });
  });

  describe("parser", () => {
    it("parses literals of every kind: strings, integers, negatives, decimals, exponents, booleans, null", () => {
      assert.deepEqual(run("States.Array('a', 1, -2, 2.5, 1e3, true, false, null)"), ["a", 1, -2, 2.5, 1000, true, false, null]);
    });

    it("resolves the four escapes AWS defines in string literals: \\' \\{ \\} \\\\", () => {
      assert.deepEqual(run("States.Array('it\\'s', '\\{\\}', 'back\\\\slash')"), ["it's", "{}", "back\\slash"]);
    });

    it("rejects an open escape backslash", () => {
      assertThrowsStatesError(() => run("States.Array('a\\nb')"), "States.IntrinsicFailure", /open escape/);
    });

    it("reads paths as arguments, including brackets with commas, spaces and parentheses", () => {
      const input = { "a, b": 1, "c d": { e: 2 }, items: [{ x: 1 }, { x: 5 }] };
      assert.deepEqual(run("States.Array($['a, b'], $['c d'].e, $.items[?(@.x > 2)].x)", input), [1, 2, [5]]);
    });

    it("reads $$ paths from the context object", () => {
      assert.equal(run("States.Format('run {}', $$.Execution.Name)", {}, { Execution: { Name: "run-7" } }), "run run-7");
    });

    it("tolerates whitespace around arguments and parentheses", () => {
      assert.deepEqual(run("States.Array(  1 ,2 ,  States.Array( ) )"), [1, 2, []]);
    });

    it("evaluates nested calls (nine levels, as in AWS's image recipe example)", () => {
      const input = { ImageRecipe: { Arn: "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.0.2" } };
      const version = (index: number) =>
        `States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), ${index})`;
      assert.equal(run(`States.Format('{}.{}', ${version(0)}, ${version(1)})`, input), "1.0");
    });

    it("rejects unknown functions, naming them", () => {
      assertThrowsStatesError(() => run("States.Bogus(1)"), "States.IntrinsicFailure", /unknown function States\.Bogus/);
    });

    it("rejects a wrong number of arguments, naming the function and its arity", () => {
      assertThrowsStatesError(
        () => run("States.ArrayLength($.a, 2)"),
        "States.IntrinsicFailure",
        /States\.ArrayLength takes exactly 1 argument, received 2/,
      );
      assertThrowsStatesError(
        () => run("States.Format()"),
        "States.IntrinsicFailure",
        /States\.Format takes at least 1 argument, received 0/,
      );
      assertThrowsStatesError(
        () => run("States.MathRandom(1)"),
        "States.IntrinsicFailure",
        /States\.MathRandom takes 2 to 3 arguments, received 1/,
      );
      assertThrowsStatesError(() => run("States.UUID(1)"), "States.IntrinsicFailure", /States\.UUID takes exactly 0 arguments, received 1/);
    });

    it("rejects malformed expressions with the position of the problem", () => {
      const cases: Array<[string, RegExp]> = [
        ["States.Array('open", /unterminated string literal \(at character 14\)/],
        ["States.Array(1", /expected '\)' before the end/],
        ["States.Array(1) extra", /unexpected 'extra' after the closing parenthesis/],
        ["States.Array(1,)", /unexpected '\)'/],
        ["States.Array(@)", /unexpected '@'/],
        ["States.Array($['a')", /unbalanced brackets in the path '\$\['a'\)'/],
        ["States.Array($['a'", /unterminated path \(at character 14\)/],
      ];
      for (const [expression, cause] of cases) {
        assert.throws(
          () => parseIntrinsic(expression),
          (error: unknown) => error instanceof IntrinsicSyntaxError && cause.test(error.message),
          expression,
        );
      }
    });

    it("fails with States.Runtime naming the field when a path argument selects nothing", () => {
      assertThrowsStatesError(
        () => evaluateIntrinsic("States.Format('{}', $.missing)", { a: 1 }, {}, { field: "message.$" }),
        "States.Runtime",
        `The JSONPath '$.missing' specified for the field 'message.$' could not be found in the input '{"a":1}'`,
      );
    });

    it("supports exactly the 18 functions AWS documents", () => {
      assert.deepEqual([...INTRINSIC_FUNCTION_NAMES].sort(), [
        "States.Array",
        "States.ArrayContains",
        "States.ArrayGetItem",
        "States.ArrayLength",
        "States.ArrayPartition",
        "States.ArrayRange",
        "States.ArrayUnique",
        "States.Base64Decode",
        "States.Base64Encode",
        "States.Format",
        "States.Hash",
        "States.JsonMerge",
        "States.JsonToString",
        "States.MathAdd",
        "States.MathRandom",
        "States.StringSplit",
        "States.StringToJson",
        "States.UUID",
      ]);
    });
  });

  describe("States.Format", () => {
    const input = { name: "Arnav", template: "Hello, my name is {}." };

    it("fills a literal template (AWS's example)", () => {
      assert.equal(run("States.Format('Hello, my name is {}.', $.name)", input), "Hello, my name is Arnav.");
    });

    it("fills a template read from a path (AWS's example)", () => {
      assert.equal(run("States.Format($.template, $.name)", input), "Hello, my name is Arnav.");
    });

    it("keeps escaped braces literal and fills only the unescaped {}", () => {
      assert.equal(run("States.Format('\\{\\} stays, {} goes', 'this')"), "{} stays, this goes");
    });

    it("prints numbers, booleans and null as JSON and objects and arrays as AWS does", () => {
      assert.equal(run("States.Format('{} {} {} {}', 42, 1.5, true, null)"), "42 1.5 true null");
      assert.equal(run("States.Format('{} {}', $.o, $.a)", { o: { a: 1, b: "x" }, a: [1, "y"] }), "{a=1, b=x} [1, y]");
    });

    it("fails when placeholders and values differ in number", () => {
      assertIntrinsicFailure(
        "States.Format('{} and {}', 1)",
        {},
        /States\.Format: the template has 2 '\{\}' placeholder\(s\) but 1 value\(s\) were given/,
      );
      assertIntrinsicFailure("States.Format('none', 1)", {}, /0 '\{\}' placeholder\(s\) but 1 value/);
    });

    it("fails when the template is not a string", () => {
      assertIntrinsicFailure("States.Format(42)", {}, /States\.Format: argument 1 must be a string, received number 42/);
    });
  });

  describe("States.StringToJson and States.JsonToString", () => {
    it("parses an escaped JSON string (AWS's example)", () => {
      assert.deepEqual(run("States.StringToJson($.escapedJsonString)", { escapedJsonString: '{"foo": "bar"}' }), { foo: "bar" });
    });

    it("fails on a string that is not JSON", () => {
      assertIntrinsicFailure("States.StringToJson('{nope')", {}, /States\.StringToJson: argument 1 is not valid JSON/);
    });

    it("serialises data compactly (AWS's example)", () => {
      assert.equal(run("States.JsonToString($.unescapedJson)", { unescapedJson: { foo: "bar" } }), '{"foo":"bar"}');
    });
  });

  describe("array functions", () => {
    it("States.Array returns its arguments in order (AWS's example)", () => {
      assert.deepEqual(run("States.Array($.Id)", { Id: 123456 }), [123456]);
      assert.deepEqual(run("States.Array()"), []);
    });

    it("States.ArrayPartition chunks an array, the last chunk shorter (AWS's example)", () => {
      assert.deepEqual(run("States.ArrayPartition($.inputArray,4)", nine), [[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
    });

    it("States.ArrayPartition rounds a non-integer chunk size and rejects one below 1", () => {
      assert.deepEqual(run("States.ArrayPartition($.inputArray, 4.4)", nine), [[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
      assertIntrinsicFailure("States.ArrayPartition($.inputArray, 0)", nine, /chunk size must be a positive integer/);
      assertIntrinsicFailure("States.ArrayPartition('abc', 2)", {}, /argument 1 must be an array, received string "abc"/);
    });

    it("States.ArrayContains finds a value (AWS's example), comparing objects by content", () => {
      assert.equal(run("States.ArrayContains($.inputArray, $.lookingFor)", { ...nine, lookingFor: 5 }), true);
      assert.equal(run("States.ArrayContains($.inputArray, 10)", nine), false);
      assert.equal(run("States.ArrayContains($.items, $.wanted)", { items: [{ a: 1, b: [2] }], wanted: { b: [2], a: 1 } }), true);
      assert.equal(run("States.ArrayContains($.inputArray, '5')", nine), false);
    });

    it("States.ArrayRange counts from first to last by step (AWS's example)", () => {
      assert.deepEqual(run("States.ArrayRange(1, 9, 2)"), [1, 3, 5, 7, 9]);
      assert.deepEqual(run("States.ArrayRange(10, 1, -3)"), [10, 7, 4, 1]);
      assert.deepEqual(run("States.ArrayRange(5, 1, 1)"), []);
    });

    it("States.ArrayRange allows 1000 items, not 1001, and rejects a zero step", () => {
      assert.equal((run("States.ArrayRange(1, 1000, 1)") as number[]).length, 1000);
      assertIntrinsicFailure("States.ArrayRange(0, 1000, 1)", {}, /would have 1001 items; the limit is 1000/);
      assertIntrinsicFailure("States.ArrayRange(1, 9, 0)", {}, /step \(argument 3\) must not be zero/);
    });

    it("States.ArrayGetItem returns the item at an index (AWS's example)", () => {
      assert.equal(run("States.ArrayGetItem($.inputArray, $.index)", { ...nine, index: 5 }), 6);
    });

    it("States.ArrayGetItem rejects an index outside the array or not an integer", () => {
      assertIntrinsicFailure("States.ArrayGetItem($.inputArray, 9)", nine, /index 9 is out of bounds for an array of length 9/);
      assertIntrinsicFailure("States.ArrayGetItem($.inputArray, -1)", nine, /non-negative integer index/);
      assertIntrinsicFailure("States.ArrayGetItem($.inputArray, '1')", nine, /non-negative integer index, received string "1"/);
    });

    it("States.ArrayLength returns the length (AWS's example)", () => {
      assert.equal(run("States.ArrayLength($.inputArray)", nine), 9);
      assertIntrinsicFailure("States.ArrayLength($.o)", { o: {} }, /argument 1 must be an array, received an object/);
    });

    it("States.ArrayUnique removes duplicates, keeping first occurrences (AWS's example)", () => {
      assert.deepEqual(run("States.ArrayUnique($.inputArray)", { inputArray: [1, 2, 3, 3, 3, 3, 3, 3, 4] }), [1, 2, 3, 4]);
      assert.deepEqual(run("States.ArrayUnique($.a)", { a: [{ k: 1 }, "1", 1, { k: 1 }, "1"] }), [{ k: 1 }, "1", 1]);
    });

    it("array functions reject arrays above the 256 KiB payload quota", () => {
      const big = { inputArray: [Array.from({ length: 30_000 }, () => "0123456789").join("")] };
      assertIntrinsicFailure("States.ArrayPartition($.inputArray, 2)", big, /exceeds the payload limit of 262144 bytes/);
    });
  });

  describe("encoding and hashing", () => {
    it("States.Base64Encode encodes (AWS's example)", () => {
      assert.equal(run("States.Base64Encode($.input)", { input: "Data to encode" }), "RGF0YSB0byBlbmNvZGU=");
    });

    it("States.Base64Decode decodes AWS's example string back to the text it encodes", () => {
      assert.equal(run("States.Base64Decode($.base64)", { base64: "RGF0YSB0byBlbmNvZGU=" }), "Data to encode");
    });

    it("Base64 functions handle UTF-8 text", () => {
      assert.equal(run("States.Base64Decode(States.Base64Encode('Grüße ✓'))"), "Grüße ✓");
    });

    it("Base64 functions reject more than 10,000 characters, and decoding rejects invalid Base64", () => {
      const long = { text: "a".repeat(10_001) };
      assertIntrinsicFailure(
        "States.Base64Encode($.text)",
        long,
        /States\.Base64Encode: the input string has 10001 characters; the limit is 10000/,
      );
      assertIntrinsicFailure("States.Base64Decode('not base64!')", {}, /not a valid Base64 string/);
    });

    it("States.Hash computes SHA-1 (AWS's example; the page's printed digest lacks one digit)", () => {
      assert.equal(
        run("States.Hash($.Data, $.Algorithm)", { Data: "input data", Algorithm: "SHA-1" }),
        "aaff4a450a104cd177d28d18d74485e8cae074b7",
      );
    });

    it("States.Hash computes MD5, SHA-256, SHA-384 and SHA-512 (digests from coreutils)", () => {
      const expected: Record<string, string> = {
        MD5: "812f45842bc6d66ee14572ce20db8e86",
        "SHA-256": "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        "SHA-384": "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
        "SHA-512":
          "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
      };
      for (const [algorithm, digest] of Object.entries(expected)) {
        assert.equal(run(`States.Hash('input data', '${algorithm}')`), digest, algorithm);
      }
    });

    it("States.Hash rejects an unknown algorithm, listing the supported ones", () => {
      assertIntrinsicFailure(
        "States.Hash('x', 'SHA-3')",
        {},
        /unsupported algorithm 'SHA-3'; supported: MD5, SHA-1, SHA-256, SHA-384, SHA-512/,
      );
    });
  });

  describe("States.JsonMerge", () => {
    const input = { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } };

    it("merges shallowly, the second object winning (AWS's example)", () => {
      assert.deepEqual(run("States.JsonMerge($.json1, $.json2, false)", input), { a: { a3: 1, a4: 2 }, b: 2, c: 3 });
    });

    it("does not modify its arguments", () => {
      run("States.JsonMerge($.json1, $.json2, false)", input);
      assert.deepEqual(input.json1, { a: { a1: 1, a2: 2 }, b: 2 });
    });

    it("rejects the deep merge, as AWS does", () => {
      assertIntrinsicFailure("States.JsonMerge($.json1, $.json2, true)", input, /only the shallow merge is supported/);
    });

    it("rejects arguments that are not objects", () => {
      assertIntrinsicFailure(
        "States.JsonMerge($.json1, States.Array(1), false)",
        input,
        /argument 2 must be a JSON object, received an array/,
      );
    });
  });

  describe("math", () => {
    it("States.MathRandom returns integers from start (inclusive) to end (exclusive)", () => {
      const seen = new Set<number>();
      for (let draw = 0; draw < 500; draw++) {
        const value = run("States.MathRandom($.start, $.end)", { start: 1, end: 4 }) as number;
        assert.ok(Number.isInteger(value) && value >= 1 && value < 4, `drew ${value}`);
        seen.add(value);
      }
      assert.deepEqual([...seen].sort(), [1, 2, 3]);
    });

    it("States.MathRandom returns the same number for the same seed", () => {
      const first = run("States.MathRandom(1, 999, 42)");
      for (let draw = 0; draw < 5; draw++) assert.equal(run("States.MathRandom(1, 999, 42)"), first);
      const draws = new Set(Array.from({ length: 20 }, (_, seed) => run(`States.MathRandom(1, 1000000, ${seed})`)));
      assert.ok(draws.size > 15, "different seeds give different numbers");
    });

    it("States.MathRandom rejects an end not above the start", () => {
      assertIntrinsicFailure("States.MathRandom(5, 5)", {}, /the end \(5\) must be greater than the start \(5\)/);
    });

    it("States.MathAdd adds (AWS's example) and rounds non-integers to the nearest integer", () => {
      assert.equal(run("States.MathAdd($.value1, $.step)", { value1: 111, step: -1 }), 110);
      assert.equal(run("States.MathAdd(1.6, 1)"), 3);
    });

    it("States.MathAdd rejects numbers outside the 32-bit integer range and non-numbers", () => {
      assertIntrinsicFailure(
        "States.MathAdd(2147483648, 1)",
        {},
        /argument 1 \(2147483648\) is outside the range -2147483648 to 2147483647/,
      );
      assertIntrinsicFailure("States.MathAdd('1', 1)", {}, /argument 1 must be a number, received string "1"/);
    });
  });

  describe("States.StringSplit", () => {
    it("splits on a single delimiter (AWS's example)", () => {
      assert.deepEqual(run("States.StringSplit($.inputString, $.splitter)", { inputString: "1,2,3,4,5", splitter: "," }), [
        "1",
        "2",
        "3",
        "4",
        "5",
      ]);
    });

    it("splits on every character of the delimiter string (AWS's example)", () => {
      assert.deepEqual(run("States.StringSplit($.inputString, $.splitter)", { inputString: "This.is+a,test=string", splitter: ".+,=" }), [
        "This",
        "is",
        "a",
        "test",
        "string",
      ]);
    });

    it("leaves out empty pieces", () => {
      assert.deepEqual(run("States.StringSplit(',a,,b,', ',')"), ["a", "b"]);
      assert.deepEqual(run("States.StringSplit(',,,', ',')"), []);
    });
  });

  describe("States.UUID", () => {
    it("returns distinct version 4 UUIDs", () => {
      const first = run("States.UUID()") as string;
      assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(run("States.UUID()"), first);
    });
  });
});
