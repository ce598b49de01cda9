/**
 * Choice state rules: comparisons, `And`/`Or`/`Not`, and the choice of the next state.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
 *
 * As on AWS: a comparison between values of different types is false (`StringEquals` on a number does
 * not match), but a `Variable` (or `...Path` operand) that selects nothing fails the execution with
 * `States.Runtime` — only `IsPresent` may look at a missing path. AWS records:
 * "Invalid path '$.x': The choice state's condition path references an invalid value."
 */
import { StatesError, STATES_ERRORS } from "../errors";
import { PathNotFoundError, readPath } from "./pathReader";
import { COMPARISON_OPERATORS, type ChoiceRule, type ChoiceState, type ComparisonOperator } from "./types";

export type { ChoiceRule, ChoiceState, ComparisonOperator } from "./types";

/**
 * Returns the `Next` of the first rule of `state.Choices` that matches `input`, else `state.Default`,
 * else throws `States.NoChoiceMatched`. `context` is the context object, for `$$` paths.
 */
export function chooseNext(state: ChoiceState, input: unknown, context?: unknown): string {
  const rule = matchingRule(state, input, context);
  if (rule) return rule.Next!;
  if (state.Default !== undefined) return state.Default;
  throw new StatesError(STATES_ERRORS.NoChoiceMatched, "No Choice rule matched the input, and the Choice state has no Default");
}

/** The first top-level rule of `state.Choices` that matches `input`, or undefined. */
export function matchingRule(state: ChoiceState, input: unknown, context?: unknown): ChoiceRule | undefined {
  for (const rule of state.Choices) {
    if (evaluateRule(rule, input, context)) {
      if (typeof rule.Next !== "string") throw new StatesError(STATES_ERRORS.Runtime, "A top-level Choice rule has no Next");
      return rule;
    }
  }
  return undefined;
}

/** Whether one rule (a comparison or an And/Or/Not combination) matches `input`. */
export function evaluateRule(rule: ChoiceRule, input: unknown, context?: unknown): boolean {
  if (rule.And) return rule.And.every((inner) => evaluateRule(inner, input, context));
  if (rule.Or) return rule.Or.some((inner) => evaluateRule(inner, input, context));
  if (rule.Not) return !evaluateRule(rule.Not, input, context);

  const operator = COMPARISON_OPERATORS.find((name) => name in rule);
  if (!operator) throw new StatesError(STATES_ERRORS.Runtime, `A Choice rule has no comparison operator: ${JSON.stringify(rule)}`);
  if (typeof rule.Variable !== "string") throw new StatesError(STATES_ERRORS.Runtime, `The Choice rule using ${operator} has no Variable`);

  if (operator === "IsPresent") return pathIsPresent(rule.Variable, input, context) === rule.IsPresent;

  const value = readConditionPath(rule.Variable, input, context);
  const operand = rule[operator];
  if (operator.endsWith("Path")) {
    if (typeof operand !== "string")
      throw new StatesError(STATES_ERRORS.Runtime, `${operator} must be a path, received ${JSON.stringify(operand)}`);
    return compare(operator.slice(0, -"Path".length) as ComparisonOperator, value, readConditionPath(operand, input, context));
  }
  return compare(operator, value, operand);
}

function pathIsPresent(path: string, input: unknown, context: unknown): boolean {
  try {
    readPath(path, input, context);
    return true;
  } catch (error) {
    if (error instanceof PathNotFoundError) return false;
    throw error;
  }
}

function readConditionPath(path: string, input: unknown, context: unknown): unknown {
  try {
    return readPath(path, input, context);
  } catch (error) {
    if (!(error instanceof PathNotFoundError)) throw error;
    throw new StatesError(STATES_ERRORS.Runtime, `Invalid path '${path}': The choice state's condition path references an invalid value.`);
  }
}

function compare(operator: ComparisonOperator, value: unknown, operand: unknown): boolean {
  switch (operator) {
    case "StringEquals":
      return typeof value === "string" && typeof operand === "string" && value === operand;
    case "StringLessThan":
      return typeof value === "string" && typeof operand === "string" && value < operand;
    case "StringGreaterThan":
      return typeof value === "string" && typeof operand === "string" && value > operand;
    case "StringLessThanEquals":
      return typeof value === "string" && typeof operand === "string" && value <= operand;
    case "StringGreaterThanEquals":
      return typeof value === "string" && typeof operand === "string" && value >= operand;
    case "StringMatches":
      return typeof value === "string" && typeof operand === "string" && stringMatches(value, operand);
    case "NumericEquals":
      return typeof value === "number" && typeof operand === "number" && value === operand;
    case "NumericLessThan":
      return typeof value === "number" && typeof operand === "number" && value < operand;
    case "NumericGreaterThan":
      return typeof value === "number" && typeof operand === "number" && value > operand;
    case "NumericLessThanEquals":
      return typeof value === "number" && typeof operand === "number" && value <= operand;
    case "NumericGreaterThanEquals":
      return typeof value === "number" && typeof operand === "number" && value >= operand;
    case "BooleanEquals":
      return typeof value === "boolean" && typeof operand === "boolean" && value === operand;
    case "TimestampEquals":
      return compareTimestamps(value, operand, (order) => order === 0);
    case "TimestampLessThan":
      return compareTimestamps(value, operand, (order) => order < 0);
    case "TimestampGreaterThan":
      return compareTimestamps(value, operand, (order) => order > 0);
    case "TimestampLessThanEquals":
      return compareTimestamps(value, operand, (order) => order <= 0);
    case "TimestampGreaterThanEquals":
      return compareTimestamps(value, operand, (order) => order >= 0);
    case "IsNull":
      return (value === null) === operand;
    case "IsNumeric":
      return (typeof value === "number") === operand;
    case "IsString":
      return (typeof value === "string") === operand;
    case "IsBoolean":
      return (typeof value === "boolean") === operand;
    case "IsTimestamp":
      return isTimestamp(value) === operand;
    default:
      throw new StatesError(STATES_ERRORS.Runtime, `Unsupported Choice operator ${operator}`);
  }
}

function compareTimestamps(value: unknown, operand: unknown, accept: (order: number) => boolean): boolean {
  const left = typeof value === "string" ? parseTimestamp(value) : null;
  const right = typeof operand === "string" ? parseTimestamp(operand) : null;
  if (!left || !right) return false;
  const order = left.epochSeconds - right.epochSeconds || left.nanoseconds - right.nanoseconds;
  return accept(order);
}

/**
 * `StringMatches`: `*` matches any run of characters (including none); `\*` is a literal asterisk and
 * `\\` a literal backslash. No other character is special.
 */
export function stringMatches(value: string, pattern: string): boolean {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === "\\" && index + 1 < pattern.length) {
      source += escapeRegExp(pattern[++index]);
    } else if (char === "*") {
      source += ".*";
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, "su").test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** A point in time with nanosecond precision, as Step Functions compares timestamps. */
export interface ParsedTimestamp {
  epochSeconds: number;
  nanoseconds: number;
}

/** RFC 3339 with an uppercase `T` and `Z` (or a numeric offset), as AWS requires for Timestamp* rules. */
const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a Step Functions timestamp (`2016-08-18T17:33:00Z`), or returns null when it is not one. */
export function parseTimestamp(text: string): ParsedTimestamp | null {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetSeconds = 0;
  if (match[8] !== "Z") {
    const offsetHours = Number(match[8].slice(1, 3));
    const offsetMinutes = Number(match[8].slice(4, 6));
    if (offsetHours > 23 || offsetMinutes > 59) return null;
    offsetSeconds = (match[8][0] === "-" ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return {
    epochSeconds: date.getTime() / 1000 - offsetSeconds,
    nanoseconds: Number((match[7] ?? "").padEnd(9, "0")),
  };
}

/** Whether a value is a string Step Functions accepts as a timestamp. */
export function isTimestamp(value: unknown): boolean {
  return typeof value === "string" && parseTimestamp(value) !== null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
