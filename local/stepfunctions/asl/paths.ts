/**
 * Input and output processing of a JSONPath state, in one place: InputPath → Parameters → (the state's
 * work) → ResultSelector → ResultPath → OutputPath.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
 *
 * Every function here is pure: it never mutates its arguments. Values it returns may share structure
 * with its inputs, so callers treat all state data as immutable (which the engine does anyway: each
 * state's output is a fresh value built by these functions).
 *
 * Error messages follow what AWS records in `ExecutionFailed`/`TaskFailed` causes; the engine prefixes
 * them with "An error occurred while executing the state 'X' (entered at the event id #N). ".
 */
import { JSONPath } from "jsonpath-plus";
import { StatesError, STATES_ERRORS } from "../errors";
import { evaluateIntrinsic, isIntrinsic } from "./intrinsics";
import { compilePath, isContextPath, pathSteps, PathNotFoundError, readPath, type PathStep } from "./pathReader";

export { isContextPath, isDefinitePath, PathNotFoundError, readPath } from "./pathReader";

/**
 * AWS's normalized form of a path in its "No results for path" messages: `$.a.b[0]` → `$['a']['b'][0]`.
 */
export function normalizedPath(path: string): string {
  const prefix = isContextPath(path) ? "$$" : "$";
  const jsonPath = isContextPath(path) ? path.slice(1) : path;
  const steps = pathSteps(jsonPath);
  if (steps) return prefix + steps.map((step) => (step.kind === "index" ? `[${step.index}]` : `['${step.name}']`)).join("");
  const tokens = JSONPath.toPathArray(jsonPath).slice(1);
  return prefix + tokens.map((token) => (/^\d+$/.test(String(token)) ? `[${token}]` : `['${token}']`)).join("");
}

function noResultsError(path: string): StatesError {
  // Recorded on AWS for an OutputPath selecting nothing:
  // "Invalid path '$.Payload' : No results for path: $['Payload']"
  return new StatesError(STATES_ERRORS.Runtime, `Invalid path '${path}' : No results for path: ${normalizedPath(path)}`);
}

/**
 * Evaluates a path that must select something (ItemsPath, SecondsPath, TimeoutSecondsPath, ErrorPath, ...);
 * when it selects nothing, fails with `States.Runtime` in the words AWS uses for InputPath and OutputPath.
 */
export function readRequiredPath(path: string, data: unknown, context?: unknown): unknown {
  try {
    return readPath(path, data, context);
  } catch (error) {
    if (error instanceof PathNotFoundError) throw noResultsError(path);
    throw error;
  }
}

/**
 * InputPath: undefined means `$` (the whole input), null means `{}`; a path selecting nothing fails the
 * execution with `States.Runtime`.
 */
export function applyInputPath(inputPath: string | null | undefined, input: unknown, context?: unknown): unknown {
  return selectWithPath(inputPath, input, context);
}

/** OutputPath: the same rules as InputPath, applied to the state's output after ResultPath. */
export function applyOutputPath(outputPath: string | null | undefined, data: unknown, context?: unknown): unknown {
  return selectWithPath(outputPath, data, context);
}

function selectWithPath(path: string | null | undefined, data: unknown, context: unknown): unknown {
  if (path === undefined || path === "$") return data;
  if (path === null) return {};
  return readRequiredPath(path, data, context);
}

/**
 * Builds the value of a payload template (`Parameters`, `ItemSelector`, `ResultSelector`).
 * Keys ending in `.$` lose the suffix and take the value of their path (`$...` on `input`, `$$...` on
 * `context`) or intrinsic function call; objects and arrays nested in the template are processed the same
 * way; every other value is copied as it is.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html#input-output-parameters
 */
export function resolveTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((item) => resolveTemplate(item, input, context));
  if (template === null || typeof template !== "object") return template;
  const resolved: Record<string, unknown> = {};
  for (const field of templateFields(template)) {
    resolved[field.name] =
      field.key === undefined ? resolveTemplate(field.value, input, context) : resolveDynamicField(field.key, field.value, input, context);
  }
  return resolved;
}

/** A template's member: `key` is set for a `.$` member (whose `name` is the key without the suffix). */
interface TemplateField {
  name: string;
  key?: string;
  value: unknown;
}

/** Templates are parts of a definition, resolved at every run of their state: each one's members are listed once. */
const templateFieldLists = new WeakMap<object, TemplateField[]>();

function templateFields(template: object): TemplateField[] {
  let fields = templateFieldLists.get(template);
  if (!fields) {
    fields = Object.entries(template).map(([key, value]) =>
      key.endsWith(".$") ? { name: key.slice(0, -2), key, value } : { name: key, value },
    );
    templateFieldLists.set(template, fields);
  }
  return fields;
}

function resolveDynamicField(field: string, expression: unknown, input: unknown, context: unknown): unknown {
  if (typeof expression !== "string") {
    // validateDefinition rejects this; reaching here means the definition skipped validation.
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The value for the field '${field}' must be a JSONPath or an intrinsic function, received ${JSON.stringify(expression)}`,
    );
  }
  if (isIntrinsic(expression)) return evaluateIntrinsic(expression, input, context, { field });
  if (!expression.startsWith("$")) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The value for the field '${field}' must be a JSONPath or an intrinsic function, received '${expression}'`,
    );
  }
  try {
    return readPath(expression, input, context);
  } catch (error) {
    if (!(error instanceof PathNotFoundError)) throw error;
    const source = isContextPath(expression) ? context : input;
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The JSONPath '${expression}' specified for the field '${field}' could not be found in the input '${JSON.stringify(source ?? null)}'`,
    );
  }
}

/**
 * ResultPath: undefined means `$` (the result replaces the input); null discards the result (the output is
 * the input); a Reference Path such as `$.a.b` or `$['a b'][0]` places the result there, in a copy of the
 * input, creating missing objects along the way. Anything else fails with `States.ResultPathMatchFailure`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
 */
export function applyResultPath(resultPath: string | null | undefined, input: unknown, result: unknown): unknown {
  if (resultPath === undefined || resultPath === "$") return result;
  if (resultPath === null) return input;
  const steps = referencePathSteps(resultPath);
  return setAlongPath(input, steps, 0, result, resultPath);
}

/** The steps of a Reference Path (the only paths ResultPath accepts: one node, no wildcards or filters). */
function referencePathSteps(path: string): PathStep[] {
  const steps = isContextPath(path) ? null : compilePath(path).steps;
  if (!steps) {
    throw new StatesError(
      STATES_ERRORS.ResultPathMatchFailure,
      `ResultPath '${path}' is not a Reference Path: it must start with '$' and select a single node`,
    );
  }
  return steps;
}

function setAlongPath(node: unknown, steps: PathStep[], depth: number, value: unknown, resultPath: string): unknown {
  if (depth === steps.length) return value;
  const step = steps[depth];
  const reached = (): string => describeSteps(steps.slice(0, depth));
  if (step.kind === "field") {
    // A missing intermediate node is created as an object; an existing non-object cannot take a field.
    if (node === undefined) node = {};
    if (node === null || typeof node !== "object" || Array.isArray(node)) {
      throw new StatesError(
        STATES_ERRORS.ResultPathMatchFailure,
        `Unable to apply ResultPath '${resultPath}' to the input: '${reached()}' is ${describeType(node)}, not an object, so it cannot have the field '${step.name}'`,
      );
    }
    const record = node as Record<string, unknown>;
    return { ...record, [step.name]: setAlongPath(record[step.name], steps, depth + 1, value, resultPath) };
  }
  if (!Array.isArray(node) || step.index >= node.length) {
    throw new StatesError(
      STATES_ERRORS.ResultPathMatchFailure,
      Array.isArray(node)
        ? `Unable to apply ResultPath '${resultPath}' to the input: index ${step.index} is out of bounds for '${reached()}' (length ${node.length})`
        : `Unable to apply ResultPath '${resultPath}' to the input: '${reached()}' is ${describeType(node)}, not an array`,
    );
  }
  const copy = node.slice();
  copy[step.index] = setAlongPath(node[step.index], steps, depth + 1, value, resultPath);
  return copy;
}

function describeSteps(steps: PathStep[]): string {
  return "$" + steps.map((step) => (step.kind === "index" ? `[${step.index}]` : `.${step.name}`)).join("");
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
