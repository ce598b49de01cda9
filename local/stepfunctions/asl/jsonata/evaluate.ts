/**
 * JSONata in state fields: a string that is wholly `{% expression %}` is evaluated, any other value is
 * taken as it is; objects and arrays (Arguments, Output, ItemSelector, Assign) are walked to any depth.
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 *
 * Every expression is compiled once, the first time its text is seen (the validator sees them all when
 * the definition is loaded), and every template once per definition object: a transition only evaluates.
 */
import jsonata from "jsonata";
import { StatesError, STATES_ERRORS } from "../../errors";
import { directEvaluator, NOT_DIRECT, type DirectEvaluator } from "./directPaths";
import { JsonataFunctionError, registerStepFunctionsFunctions } from "./functions";

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

/** The expression inside `{% ... %}` (trimmed), or undefined when `value` is not a JSONata expression string. */
export function jsonataExpressionText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = EXPRESSION.exec(value);
  return match ? match[1].trim() : undefined;
}

/** A JSONata expression that does not parse: reported when the definition is loaded. */
export class JsonataSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`The JSONata expression '${expression}' is not valid: ${reason}`);
    this.name = "JsonataSyntaxError";
  }
}

interface CompiledExpression {
  expression: jsonata.Expression;
  /** The shortcut for simple paths and comparisons (./directPaths.ts), when the expression has that shape. */
  direct?: DirectEvaluator;
}

const compiledExpressions = new Map<string, CompiledExpression>();
/** Expressions come from definitions; the bound only guards a runtime that loads very many of them. */
const COMPILED_EXPRESSION_LIMIT = 10_000;

export function compileJsonata(text: string): CompiledExpression {
  let compiled = compiledExpressions.get(text);
  if (!compiled) {
    if (text === "") throw new JsonataSyntaxError(text, "the expression is empty");
    let expression: jsonata.Expression;
    try {
      expression = jsonata(text);
    } catch (error) {
      throw new JsonataSyntaxError(text, describeJsonataError(error));
    }
    registerStepFunctionsFunctions(expression);
    compiled = { expression, direct: directEvaluator(expression.ast()) };
    if (compiledExpressions.size >= COMPILED_EXPRESSION_LIMIT) compiledExpressions.clear();
    compiledExpressions.set(text, compiled);
  }
  return compiled;
}

function describeJsonataError(error: unknown): string {
  if (error instanceof JsonataFunctionError) return error.message;
  const { code, message } = error as { code?: string; message?: string };
  return code ? `${code}: ${message}` : String(message ?? error);
}

/** `$states` and the workflow variables, as JSONata bindings (`states` → `$states`, `x` → `$x`). */
export type JsonataBindings = Record<string, unknown>;

/**
 * Evaluates one expression. A failure, or a result that is nothing (undefined), is
 * `States.QueryEvaluationError` in AWS's words, naming the expression and the field.
 */
export async function evaluateJsonata(text: string, bindings: JsonataBindings, field: string): Promise<unknown> {
  return evaluateExpression(text, bindings, field);
}

/** `evaluateJsonata`, synchronous when the shortcut (./directPaths.ts) answers: a value, or else a promise. */
function evaluateExpression(text: string, bindings: JsonataBindings, field: string): unknown {
  let compiled: CompiledExpression;
  try {
    compiled = compileJsonata(text);
    const direct = compiled.direct ? compiled.direct(bindings) : NOT_DIRECT;
    if (direct !== NOT_DIRECT) return checkedResult(text, field, direct);
  } catch (error) {
    throw evaluationError(text, field, error);
  }
  return compiled.expression.evaluate(undefined, bindings).then(
    (value) => checkedResult(text, field, value),
    (error) => {
      throw evaluationError(text, field, error);
    },
  );
}

function evaluationError(text: string, field: string, error: unknown): StatesError {
  const reason = error instanceof JsonataSyntaxError ? error.reason : describeJsonataError(error);
  return new StatesError(
    STATES_ERRORS.QueryEvaluationError,
    `The JSONata expression '${text}' specified for the field '${field}' threw an error during evaluation. ${reason}`,
  );
}

function checkedResult(text: string, field: string, value: unknown): unknown {
  if (value === undefined) {
    throw new StatesError(
      STATES_ERRORS.QueryEvaluationError,
      `The JSONata expression '${text}' specified for the field '${field}' returned nothing (undefined).`,
    );
  }
  return value;
}

/** The result type AWS names in its "unexpected result type" causes. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** `States.QueryEvaluationError` for a result of the wrong type (a Condition that is not a boolean, ...). */
export function unexpectedResultType(text: string, field: string, expected: string, value: unknown): StatesError {
  return new StatesError(
    STATES_ERRORS.QueryEvaluationError,
    `The JSONata expression '${text}' specified for the field '${field}' returned an unexpected result type. Expected '${expected}', but was '${jsonTypeName(value)}' for value: ${JSON.stringify(value)}`,
  );
}

type CompiledTemplate =
  | { kind: "literal"; value: unknown }
  | { kind: "expression"; text: string; field: string }
  | { kind: "object"; keys: string[]; members: CompiledTemplate[] }
  | { kind: "array"; items: CompiledTemplate[] };

const compiledTemplates = new WeakMap<object, CompiledTemplate>();

function compileTemplate(template: unknown, field: string): CompiledTemplate {
  const text = jsonataExpressionText(template);
  if (text !== undefined) return { kind: "expression", text, field };
  if (template === null || typeof template !== "object") return { kind: "literal", value: template };
  const cached = compiledTemplates.get(template);
  if (cached) return cached;
  let compiled: CompiledTemplate;
  if (Array.isArray(template)) {
    const items = template.map((item, index) => compileTemplate(item, `${field}/${index}`));
    compiled = items.every((item) => item.kind === "literal") ? { kind: "literal", value: template } : { kind: "array", items };
  } else {
    const entries = Object.entries(template).map(([key, value]): [string, CompiledTemplate] => [
      key,
      compileTemplate(value, `${field}/${key}`),
    ]);
    compiled = entries.every(([, value]) => value.kind === "literal")
      ? { kind: "literal", value: template }
      : { kind: "object", keys: entries.map(([key]) => key), members: entries.map(([, value]) => value) };
  }
  compiledTemplates.set(template, compiled);
  return compiled;
}

/** The template's value, or a promise of it once an expression needs jsonata's own (asynchronous) evaluation. */
function evaluateCompiled(compiled: CompiledTemplate, bindings: JsonataBindings): unknown {
  switch (compiled.kind) {
    case "literal":
      return compiled.value;
    case "expression":
      return evaluateExpression(compiled.text, bindings, compiled.field);
    case "array":
      return evaluateMembers(compiled.items, (index) => index, bindings, [] as unknown[] as Record<number, unknown>, 0);
    case "object":
      return evaluateMembers(compiled.members, (index) => compiled.keys[index], bindings, {}, 0);
  }
}

/**
 * Evaluates members one after another from `start`, in order (a `$uuid()` inside is a journaled step: the order
 * must not change), synchronously until one gives a promise; the rest then follow it.
 */
function evaluateMembers<T extends Record<string | number, unknown>>(
  members: CompiledTemplate[],
  keyOf: (index: number) => string | number,
  bindings: JsonataBindings,
  values: T,
  start: number,
): unknown {
  for (let index = start; index < members.length; index++) {
    const value = evaluateCompiled(members[index], bindings);
    if (value instanceof Promise) {
      return value.then((settled) => {
        (values as Record<string | number, unknown>)[keyOf(index)] = settled;
        return evaluateMembers(members, keyOf, bindings, values, index + 1);
      });
    }
    (values as Record<string | number, unknown>)[keyOf(index)] = value;
  }
  return values;
}

/**
 * The value of a field that may hold JSONata anywhere inside it (Arguments, Output, ItemSelector, Assign,
 * Seconds, ...). `field` names it in error causes the way AWS does: `Arguments/Payload/id`.
 */
export function evaluateTemplate(template: unknown, bindings: JsonataBindings, field: string): Promise<unknown> | unknown {
  const compiled = compileTemplate(template, field);
  return compiled.kind === "literal" ? compiled.value : evaluateCompiled(compiled, bindings);
}

/** Every expression text in a template with its field (for validation at load). */
export function templateExpressions(template: unknown, field: string): { text: string; field: string }[] {
  const text = jsonataExpressionText(template);
  if (text !== undefined) return [{ text, field }];
  if (Array.isArray(template)) return template.flatMap((item, index) => templateExpressions(item, `${field}/${index}`));
  if (template !== null && typeof template === "object") {
    return Object.entries(template).flatMap(([key, value]) => templateExpressions(value, `${field}/${key}`));
  }
  return [];
}
