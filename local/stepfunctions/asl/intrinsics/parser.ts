/**
 * The parser of intrinsic expressions.
 *
 * Written by hand: no maintained npm package parses the intrinsic grammar (the one in asl-path-validator
 * only answers valid/invalid), and the engine needs the syntax tree to evaluate calls, to keep `\{` apart
 * from a `{}` placeholder, and to report where an expression is wrong.
 */
import { describeArity, INTRINSIC_FUNCTIONS } from "./registry";
import { IntrinsicSyntaxError, type IntrinsicArgument, type IntrinsicCall } from "./syntax";

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
    const definition = INTRINSIC_FUNCTIONS.get(name);
    if (!definition) this.fail(`unknown function ${name}; supported: ${[...INTRINSIC_FUNCTIONS.keys()].join(", ")}`, start);
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
