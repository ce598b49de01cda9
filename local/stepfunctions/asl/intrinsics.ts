/**
 * Intrinsic functions of JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
 * https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
 *
 * The parser is written by hand: no maintained npm package parses the intrinsic grammar (the one in
 * asl-path-validator only answers valid/invalid), and the engine needs the syntax tree to evaluate calls,
 * to keep `\{` apart from a `{}` placeholder, and to report where an expression is wrong.
 */
import { createHash, randomInt, randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { StatesError, STATES_ERRORS } from "../errors";
import { exceedsPayloadLimit, PAYLOAD_LIMIT_BYTES } from "../limits";
import { PathNotFoundError, isContextPath, readPath } from "./paths";

/** One argument of an intrinsic call, as parsed. */
export type IntrinsicArgument =
  | {
      kind: "string";
      /** The literal with its escapes resolved. */
      value: string;
      /** The literal split on its unescaped `{}` placeholders (used when it is a States.Format template). */
      formatParts: string[];
    }
  | { kind: "number"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "path"; path: string }
  | IntrinsicCall;

export interface IntrinsicCall {
  kind: "call";
  /** Full name, e.g. "States.Format" */
  name: string;
  args: IntrinsicArgument[];
}

/** A malformed intrinsic expression: reported by validation, or as `States.IntrinsicFailure` at run time. */
export class IntrinsicSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
    readonly position: number,
  ) {
    super(`Invalid intrinsic function '${expression}': ${reason} (at character ${position + 1})`);
    this.name = "IntrinsicSyntaxError";
  }
}

/** Whether a `.$` field's value is an intrinsic function call rather than a path. */
export function isIntrinsic(value: string): boolean {
  return /^States\.[A-Za-z0-9]*\s*\(/.test(value);
}

/** Where an intrinsic is evaluated, for error messages. */
export interface IntrinsicOptions {
  /** The payload template field holding the expression, e.g. "message.$". */
  field?: string;
}

/**
 * Evaluates an intrinsic function call against the state's effective input (`$...` arguments) and the
 * context object (`$$...` arguments). Malformed expressions and wrong arguments fail with
 * `States.IntrinsicFailure`; a path argument selecting nothing fails with `States.Runtime`, like any path
 * in a payload template.
 */
export function evaluateIntrinsic(expression: string, input: unknown, context: unknown, options: IntrinsicOptions = {}): unknown {
  let call: IntrinsicCall;
  try {
    call = parseIntrinsic(expression);
  } catch (error) {
    if (error instanceof IntrinsicSyntaxError) throw new StatesError(STATES_ERRORS.IntrinsicFailure, error.message);
    throw error;
  }
  return evaluateCall(call, { expression, input, context, field: options.field });
}

// ---------------------------------------------------------------------------------------------------
// Parsing

const parsedExpressions = new Map<string, IntrinsicCall>();
const PARSE_CACHE_LIMIT = 2_000;

/**
 * Parses an intrinsic expression into its syntax tree. Checks the grammar, that each function exists and
 * that it receives an allowed number of arguments; argument types are checked when evaluated.
 * Throws `IntrinsicSyntaxError`.
 */
export function parseIntrinsic(expression: string): IntrinsicCall {
  const cached = parsedExpressions.get(expression);
  if (cached) return cached;
  const parser = new IntrinsicParser(expression);
  const call = parser.parseExpression();
  if (parsedExpressions.size >= PARSE_CACHE_LIMIT) parsedExpressions.clear();
  parsedExpressions.set(expression, call);
  return call;
}

class IntrinsicParser {
  private position = 0;

  constructor(private readonly text: string) {}

  parseExpression(): IntrinsicCall {
    this.skipWhitespace();
    const call = this.parseCall();
    this.skipWhitespace();
    if (this.position < this.text.length) this.fail(`unexpected '${this.text.slice(this.position)}' after the closing parenthesis`);
    return call;
  }

  private parseCall(): IntrinsicCall {
    const start = this.position;
    const nameMatch = /States\.[A-Za-z0-9]+/y;
    nameMatch.lastIndex = this.position;
    const match = nameMatch.exec(this.text);
    if (!match) this.fail("expected a function name such as States.Format");
    const name = match[0];
    const definition = FUNCTIONS.get(name);
    if (!definition) this.fail(`unknown function ${name}; supported: ${[...FUNCTIONS.keys()].join(", ")}`, start);
    this.position = nameMatch.lastIndex;
    this.skipWhitespace();
    this.expect("(");
    const args: IntrinsicArgument[] = [];
    this.skipWhitespace();
    if (this.peek() !== ")") {
      for (;;) {
        this.skipWhitespace();
        args.push(this.parseArgument());
        this.skipWhitespace();
        if (this.peek() === ",") {
          this.position++;
          continue;
        }
        break;
      }
    }
    this.expect(")");
    const arity = describeArity(definition);
    if (args.length < definition.minArgs || args.length > definition.maxArgs) {
      this.fail(`${name} takes ${arity}, received ${args.length}`, start);
    }
    return { kind: "call", name, args };
  }

  private parseArgument(): IntrinsicArgument {
    const char = this.peek();
    if (char === "'") return this.parseString();
    if (char === "$") return { kind: "path", path: this.parsePath() };
    if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return this.parseNumber();
    if (this.text.startsWith("States.", this.position)) return this.parseCall();
    for (const [word, argument] of [
      ["true", { kind: "boolean", value: true }],
      ["false", { kind: "boolean", value: false }],
      ["null", { kind: "null" }],
    ] as const) {
      if (this.text.startsWith(word, this.position) && !/[A-Za-z0-9_]/.test(this.text[this.position + word.length] ?? "")) {
        this.position += word.length;
        return argument;
      }
    }
    if (char === undefined) this.fail("the expression ends before its closing parenthesis");
    return this.fail(`unexpected '${char}': an argument is a 'string', a number, true, false, null, a path or a call`);
  }

  /** `'...'` with the escapes AWS defines: `\'`, `\{`, `\}` and `\\`; any other backslash is an error. */
  private parseString(): IntrinsicArgument {
    const start = this.position;
    this.position++;
    let value = "";
    let currentPart = "";
    const formatParts: string[] = [];
    for (;;) {
      const char = this.text[this.position];
      if (char === undefined) this.fail("unterminated string literal", start);
      if (char === "'") {
        this.position++;
        formatParts.push(currentPart);
        return { kind: "string", value, formatParts };
      }
      if (char === "\\") {
        const escaped = this.text[this.position + 1];
        if (escaped !== "'" && escaped !== "{" && escaped !== "}" && escaped !== "\\") {
          this.fail(`open escape: a backslash must be followed by ', {, } or \\`);
        }
        value += escaped;
        currentPart += escaped;
        this.position += 2;
        continue;
      }
      if (char === "{" && this.text[this.position + 1] === "}") {
        formatParts.push(currentPart);
        currentPart = "";
        value += "{}";
        this.position += 2;
        continue;
      }
      value += char;
      currentPart += char;
      this.position++;
    }
  }

  private parseNumber(): IntrinsicArgument {
    const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    numberPattern.lastIndex = this.position;
    const match = numberPattern.exec(this.text);
    if (!match) this.fail("malformed number");
    this.position = numberPattern.lastIndex;
    return { kind: "number", value: Number(match[0]) };
  }

  /** A path runs until a `,` or `)` outside brackets, parentheses and quotes (`$['a, b']`, `$[?(@.x)]`). */
  private parsePath(): string {
    const start = this.position;
    const closers: string[] = [];
    let quote: string | null = null;
    while (this.position < this.text.length) {
      const char = this.text[this.position];
      if (quote) {
        if (char === "\\") this.position++;
        else if (char === quote) quote = null;
      } else if ((char === "'" || char === '"') && closers.length > 0) {
        quote = char;
      } else if (char === "[") {
        closers.push("]");
      } else if (char === "(") {
        closers.push(")");
      } else if (char === "]" || char === ")") {
        if (closers.length === 0) break;
        if (closers.pop() !== char) this.fail(`unbalanced brackets in the path '${this.text.slice(start, this.position + 1)}'`);
      } else if (closers.length === 0 && (char === "," || /\s/.test(char))) {
        break;
      }
      this.position++;
    }
    if (quote || closers.length > 0) this.fail("unterminated path", start);
    return this.text.slice(start, this.position);
  }

  private skipWhitespace(): void {
    while (/\s/.test(this.text[this.position] ?? "")) this.position++;
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) {
      this.fail(
        this.position >= this.text.length ? `expected '${char}' before the end` : `expected '${char}', found '${this.text[this.position]}'`,
      );
    }
    this.position++;
  }

  private fail(reason: string, at: number = this.position): never {
    throw new IntrinsicSyntaxError(this.text, reason, at);
  }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

interface Evaluation {
  expression: string;
  input: unknown;
  context: unknown;
  field?: string;
}

interface FunctionDefinition {
  minArgs: number;
  maxArgs: number;
  /** Receives the arguments' values; `call` gives access to the parsed arguments (States.Format needs them). */
  run(args: unknown[], call: IntrinsicCall): unknown;
}

function evaluateCall(call: IntrinsicCall, evaluation: Evaluation): unknown {
  const definition = FUNCTIONS.get(call.name)!;
  const values = call.args.map((argument) => evaluateArgument(argument, evaluation));
  return definition.run(values, call);
}

function evaluateArgument(argument: IntrinsicArgument, evaluation: Evaluation): unknown {
  switch (argument.kind) {
    case "string":
    case "number":
    case "boolean":
      return argument.value;
    case "null":
      return null;
    case "call":
      return evaluateCall(argument, evaluation);
    case "path":
      try {
        return readPath(argument.path, evaluation.input, evaluation.context);
      } catch (error) {
        if (!(error instanceof PathNotFoundError)) throw error;
        const source = JSON.stringify((isContextPath(argument.path) ? evaluation.context : evaluation.input) ?? null);
        const where = evaluation.field ? `the field '${evaluation.field}'` : `the intrinsic function '${evaluation.expression}'`;
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `The JSONPath '${argument.path}' specified for ${where} could not be found in the input '${source}'`,
        );
      }
  }
}

function intrinsicFailure(functionName: string, message: string): StatesError {
  return new StatesError(STATES_ERRORS.IntrinsicFailure, `${functionName}: ${message}`);
}

function describeArity(definition: FunctionDefinition): string {
  const plural = (count: number) => `${count} argument${count === 1 ? "" : "s"}`;
  if (definition.minArgs === definition.maxArgs) return `exactly ${plural(definition.minArgs)}`;
  if (definition.maxArgs === Infinity) return `at least ${plural(definition.minArgs)}`;
  return `${definition.minArgs} to ${definition.maxArgs} arguments`;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function expectArray(functionName: string, args: unknown[], index: number): unknown[] {
  const value = args[index];
  if (!Array.isArray(value))
    throw intrinsicFailure(functionName, `argument ${index + 1} must be an array, received ${describeValue(value)}`);
  return value;
}

function expectString(functionName: string, args: unknown[], index: number): string {
  const value = args[index];
  if (typeof value !== "string")
    throw intrinsicFailure(functionName, `argument ${index + 1} must be a string, received ${describeValue(value)}`);
  return value;
}

function expectObject(functionName: string, args: unknown[], index: number): Record<string, unknown> {
  const value = args[index];
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw intrinsicFailure(functionName, `argument ${index + 1} must be a JSON object, received ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** AWS rounds non-integer numeric arguments to the nearest integer (documented per function). */
function expectInteger(functionName: string, args: unknown[], index: number): number {
  const value = args[index];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw intrinsicFailure(functionName, `argument ${index + 1} must be a number, received ${describeValue(value)}`);
  }
  return Math.round(value);
}

/** The string functions (Base64, Hash) accept at most this many characters. */
const STRING_LIMIT_CHARACTERS = 10_000;
const ARRAY_RANGE_LIMIT = 1_000;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

function expectWithinPayloadLimit(functionName: string, value: unknown): void {
  // Step Functions' payload quota, which the array functions' inputs may not exceed.
  if (exceedsPayloadLimit(JSON.stringify(value))) {
    throw intrinsicFailure(functionName, `the input array exceeds the payload limit of ${PAYLOAD_LIMIT_BYTES} bytes`);
  }
}

function expectShortString(functionName: string, value: string): void {
  if (value.length > STRING_LIMIT_CHARACTERS) {
    throw intrinsicFailure(functionName, `the input string has ${value.length} characters; the limit is ${STRING_LIMIT_CHARACTERS}`);
  }
}

/** How States.Format renders a non-string value (as AWS's Java runtime prints it: `{a=1, b=[x, y]}`). */
function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}=${formatValue(item)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A seeded generator for `States.MathRandom(start, end, seed)`, which must return the same number for the
 * same seed. Node's crypto has no seedable generator, so this is mulberry32 (public domain, 32-bit state).
 */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const HASH_ALGORITHMS: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const FUNCTIONS = new Map<string, FunctionDefinition>([
  [
    "States.Format",
    {
      minArgs: 1,
      maxArgs: Infinity,
      run(args, call) {
        const name = "States.Format";
        const template = call.args[0];
        // A literal template keeps `\{\}` apart from placeholders; a template read from a path has no escapes.
        const parts = template.kind === "string" ? template.formatParts : expectString(name, args, 0).split("{}");
        const values = args.slice(1);
        if (parts.length - 1 !== values.length) {
          throw intrinsicFailure(name, `the template has ${parts.length - 1} '{}' placeholder(s) but ${values.length} value(s) were given`);
        }
        return parts.reduce((text, part, index) => text + formatValue(values[index - 1]) + part);
      },
    },
  ],
  [
    "States.StringToJson",
    {
      minArgs: 1,
      maxArgs: 1,
      run(args) {
        const text = expectString("States.StringToJson", args, 0);
        try {
          return JSON.parse(text);
        } catch (error) {
          throw intrinsicFailure("States.StringToJson", `argument 1 is not valid JSON (${(error as Error).message})`);
        }
      },
    },
  ],
  [
    "States.JsonToString",
    {
      minArgs: 1,
      maxArgs: 1,
      run: (args) => JSON.stringify(args[0]),
    },
  ],
  [
    "States.Array",
    {
      minArgs: 0,
      maxArgs: Infinity,
      run: (args) => args,
    },
  ],
  [
    "States.ArrayPartition",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const name = "States.ArrayPartition";
        const array = expectArray(name, args, 0);
        const chunkSize = expectInteger(name, args, 1);
        if (chunkSize <= 0) throw intrinsicFailure(name, `the chunk size must be a positive integer, received ${JSON.stringify(args[1])}`);
        expectWithinPayloadLimit(name, array);
        const chunks: unknown[][] = [];
        for (let start = 0; start < array.length; start += chunkSize) chunks.push(array.slice(start, start + chunkSize));
        return chunks;
      },
    },
  ],
  [
    "States.ArrayContains",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const array = expectArray("States.ArrayContains", args, 0);
        expectWithinPayloadLimit("States.ArrayContains", array);
        return array.some((item) => isDeepStrictEqual(item, args[1]));
      },
    },
  ],
  [
    "States.ArrayRange",
    {
      minArgs: 3,
      maxArgs: 3,
      run(args) {
        const name = "States.ArrayRange";
        const [first, last, step] = [0, 1, 2].map((index) => expectInteger(name, args, index));
        if (step === 0) throw intrinsicFailure(name, "the step (argument 3) must not be zero");
        const count = Math.floor((last - first) / step) + 1;
        if (count > ARRAY_RANGE_LIMIT) {
          throw intrinsicFailure(name, `the range would have ${count} items; the limit is ${ARRAY_RANGE_LIMIT}`);
        }
        return Array.from({ length: Math.max(count, 0) }, (_, index) => first + index * step);
      },
    },
  ],
  [
    "States.ArrayGetItem",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const name = "States.ArrayGetItem";
        const array = expectArray(name, args, 0);
        const index = args[1];
        if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
          throw intrinsicFailure(name, `argument 2 must be a non-negative integer index, received ${describeValue(index)}`);
        }
        if (index >= array.length) throw intrinsicFailure(name, `index ${index} is out of bounds for an array of length ${array.length}`);
        return array[index];
      },
    },
  ],
  [
    "States.ArrayLength",
    {
      minArgs: 1,
      maxArgs: 1,
      run: (args) => expectArray("States.ArrayLength", args, 0).length,
    },
  ],
  [
    "States.ArrayUnique",
    {
      minArgs: 1,
      maxArgs: 1,
      run(args) {
        const unique: unknown[] = [];
        for (const item of expectArray("States.ArrayUnique", args, 0)) {
          if (!unique.some((kept) => isDeepStrictEqual(kept, item))) unique.push(item);
        }
        return unique;
      },
    },
  ],
  [
    "States.Base64Encode",
    {
      minArgs: 1,
      maxArgs: 1,
      run(args) {
        const text = expectString("States.Base64Encode", args, 0);
        expectShortString("States.Base64Encode", text);
        return Buffer.from(text, "utf8").toString("base64");
      },
    },
  ],
  [
    "States.Base64Decode",
    {
      minArgs: 1,
      maxArgs: 1,
      run(args) {
        const encoded = expectString("States.Base64Decode", args, 0);
        expectShortString("States.Base64Decode", encoded);
        if (!BASE64_PATTERN.test(encoded)) throw intrinsicFailure("States.Base64Decode", "argument 1 is not a valid Base64 string");
        return Buffer.from(encoded, "base64").toString("utf8");
      },
    },
  ],
  [
    "States.Hash",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const name = "States.Hash";
        const data = expectString(name, args, 0);
        expectShortString(name, data);
        const algorithm = expectString(name, args, 1);
        const nodeAlgorithm = HASH_ALGORITHMS[algorithm];
        if (!nodeAlgorithm) {
          throw intrinsicFailure(name, `unsupported algorithm '${algorithm}'; supported: ${Object.keys(HASH_ALGORITHMS).join(", ")}`);
        }
        return createHash(nodeAlgorithm).update(data, "utf8").digest("hex");
      },
    },
  ],
  [
    "States.JsonMerge",
    {
      minArgs: 3,
      maxArgs: 3,
      run(args) {
        const name = "States.JsonMerge";
        const first = expectObject(name, args, 0);
        const second = expectObject(name, args, 1);
        if (typeof args[2] !== "boolean") throw intrinsicFailure(name, `argument 3 must be a boolean, received ${describeValue(args[2])}`);
        if (args[2]) throw intrinsicFailure(name, "only the shallow merge is supported, as on AWS: argument 3 must be false");
        return { ...first, ...second };
      },
    },
  ],
  [
    "States.MathRandom",
    {
      minArgs: 2,
      maxArgs: 3,
      run(args) {
        const name = "States.MathRandom";
        const start = expectInteger(name, args, 0);
        const end = expectInteger(name, args, 1);
        if (end <= start) throw intrinsicFailure(name, `the end (${end}) must be greater than the start (${start})`);
        if (args.length === 3) {
          const random = seededRandom(expectInteger(name, args, 2));
          return start + Math.floor(random() * (end - start));
        }
        return randomInt(start, end);
      },
    },
  ],
  [
    "States.MathAdd",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const name = "States.MathAdd";
        const [first, second] = [0, 1].map((index) => expectInteger(name, args, index));
        for (const [index, value] of [first, second].entries()) {
          if (value < INT32_MIN || value > INT32_MAX) {
            throw intrinsicFailure(name, `argument ${index + 1} (${value}) is outside the range ${INT32_MIN} to ${INT32_MAX}`);
          }
        }
        return first + second;
      },
    },
  ],
  [
    "States.StringSplit",
    {
      minArgs: 2,
      maxArgs: 2,
      run(args) {
        const text = expectString("States.StringSplit", args, 0);
        const delimiters = new Set(expectString("States.StringSplit", args, 1));
        // Every character of the second argument is a delimiter; AWS leaves out empty pieces.
        const pieces: string[] = [];
        let current = "";
        for (const char of text) {
          if (delimiters.has(char)) {
            if (current) pieces.push(current);
            current = "";
          } else {
            current += char;
          }
        }
        if (current) pieces.push(current);
        return pieces;
      },
    },
  ],
  [
    "States.UUID",
    {
      minArgs: 0,
      maxArgs: 0,
      run: () => randomUUID(),
    },
  ],
]);

/** Names of every supported intrinsic function. */
export const INTRINSIC_FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()];
