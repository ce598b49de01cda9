/**
 * Definition checks for the two query languages and for workflow variables, reported as
 * `SCHEMA_VALIDATION_FAILED: ... at /States/...` like AWS's InvalidDefinition messages:
 * - a JSONata state may not use JSONPath's fields (InputPath, Parameters, ResultPath, ...), a JSONPath
 *   state may not use JSONata's (Arguments, Output, Items, Condition);
 * - in a JSONata state machine no state may switch back to JSONPath;
 * - every `{% %}` expression must parse (checked once here, which also compiles it for the engine);
 * - Assign names must be valid variable names.
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
 */
import { compileJsonata, JsonataSyntaxError, templateExpressions } from "./jsonata/evaluate";
import { jsonPointer } from "./jsonPointer";
import { COMPARISON_OPERATORS, type QueryLanguage } from "./types";
import { RESERVED_VARIABLE, VARIABLE_NAME } from "./variableNames";

type JsonObject = Record<string, unknown>;

/** Fields only JSONPath states have. */
const JSONPATH_FIELDS = [
  "InputPath",
  "OutputPath",
  "Parameters",
  "ResultSelector",
  "ResultPath",
  "ItemsPath",
  "SecondsPath",
  "TimestampPath",
  "TimeoutSecondsPath",
  "HeartbeatSecondsPath",
  "MaxConcurrencyPath",
  "ErrorPath",
  "CausePath",
  "ToleratedFailureCountPath",
  "ToleratedFailurePercentagePath",
] as const;

/** Fields only JSONata states have. */
const JSONATA_FIELDS = ["Arguments", "Output", "Items"] as const;

/** Fields of a JSONata state whose values may hold `{% %}` expressions. */
const EXPRESSION_FIELDS = [
  "Arguments",
  "Output",
  "Assign",
  "Items",
  "ItemSelector",
  "MaxConcurrency",
  "Seconds",
  "Timestamp",
  "TimeoutSeconds",
  "HeartbeatSeconds",
  "Error",
  "Cause",
] as const;

function schemaProblem(message: string, pointer: string): string {
  return `SCHEMA_VALIDATION_FAILED: ${message} at ${pointer}`;
}

/** Problems of one state's query language: fields of the other language, expressions that do not parse. */
export function queryLanguageProblems(
  state: JsonObject,
  language: QueryLanguage,
  machineLanguage: QueryLanguage,
  pointer: string,
): string[] {
  const problems: string[] = [];
  if (machineLanguage === "JSONata" && state.QueryLanguage === "JSONPath") {
    problems.push(
      schemaProblem(
        "A state cannot set QueryLanguage to JSONPath when the state machine's QueryLanguage is JSONata",
        jsonPointer(pointer, "QueryLanguage"),
      ),
    );
  }
  const handlers = [
    ...arrayOf(state.Catch).map((catcher, index) => ({ value: catcher, pointer: jsonPointer(jsonPointer(pointer, "Catch"), index) })),
  ];
  const rules = arrayOf(state.Choices).map((rule, index) => ({
    value: rule,
    pointer: jsonPointer(jsonPointer(pointer, "Choices"), index),
  }));
  if (language === "JSONata") {
    for (const field of JSONPATH_FIELDS) {
      if (field in state)
        problems.push(schemaProblem(`The field '${field}' is not supported in JSONata states`, jsonPointer(pointer, field)));
    }
    for (const { value, pointer: catcherPointer } of handlers) {
      if ("ResultPath" in value) {
        problems.push(
          schemaProblem("The field 'ResultPath' is not supported in JSONata states", jsonPointer(catcherPointer, "ResultPath")),
        );
      }
    }
    for (const { value: rule, pointer: rulePointer } of rules) {
      if (!("Condition" in rule)) problems.push(schemaProblem("A Choice rule of a JSONata state must have a Condition", rulePointer));
      for (const field of ["Variable", "And", "Or", "Not", ...COMPARISON_OPERATORS]) {
        if (field in rule)
          problems.push(schemaProblem(`The field '${field}' is not supported in JSONata states`, jsonPointer(rulePointer, field)));
      }
    }
    const expressions = [
      ...EXPRESSION_FIELDS.flatMap((field) => templateExpressions(state[field], jsonPointer(pointer, field))),
      ...[...handlers, ...rules].flatMap(({ value, pointer: itemPointer }) =>
        ["Output", "Assign", "Condition"].flatMap((field) => templateExpressions(value[field], jsonPointer(itemPointer, field))),
      ),
    ];
    for (const { text, field } of expressions) {
      try {
        compileJsonata(text);
      } catch (error) {
        if (!(error instanceof JsonataSyntaxError)) throw error;
        problems.push(schemaProblem(error.message, field));
      }
    }
  } else {
    for (const field of JSONATA_FIELDS) {
      if (field in state)
        problems.push(schemaProblem(`The field '${field}' is supported only in JSONata states`, jsonPointer(pointer, field)));
    }
    for (const { value, pointer: itemPointer } of [...handlers, ...rules]) {
      for (const field of ["Output", "Condition"]) {
        if (field in value)
          problems.push(schemaProblem(`The field '${field}' is supported only in JSONata states`, jsonPointer(itemPointer, field)));
      }
    }
  }
  return problems;
}

/** Assign must be an object whose keys are valid variable names (letters, digits, `_`; `states` is reserved). */
export function assignProblems(state: JsonObject, language: QueryLanguage, pointer: string): string[] {
  const problems: string[] = [];
  const assigns = [
    { value: state.Assign, pointer: jsonPointer(pointer, "Assign") },
    ...arrayOf(state.Catch).map((catcher, index) => ({
      value: catcher.Assign,
      pointer: jsonPointer(jsonPointer(jsonPointer(pointer, "Catch"), index), "Assign"),
    })),
    ...arrayOf(state.Choices).map((rule, index) => ({
      value: rule.Assign,
      pointer: jsonPointer(jsonPointer(jsonPointer(pointer, "Choices"), index), "Assign"),
    })),
  ];
  for (const assign of assigns) {
    if (assign.value === undefined) continue;
    if (assign.value === null || typeof assign.value !== "object" || Array.isArray(assign.value)) {
      problems.push(schemaProblem("Assign must be a JSON object", assign.pointer));
      continue;
    }
    for (const key of Object.keys(assign.value)) {
      // In JSONPath, `name.$` takes a path or an intrinsic function, as in Parameters.
      const name = language === "JSONPath" && key.endsWith(".$") ? key.slice(0, -2) : key;
      if (name === RESERVED_VARIABLE) {
        problems.push(schemaProblem(`The variable name '${name}' is reserved`, jsonPointer(assign.pointer, key)));
      } else if (!VARIABLE_NAME.test(name)) {
        problems.push(
          schemaProblem(
            `The variable name '${name}' is invalid: use letters, digits and underscores, not starting with a digit, at most 80 characters`,
            jsonPointer(assign.pointer, key),
          ),
        );
      }
    }
  }
  return problems;
}

function arrayOf(value: unknown): JsonObject[] {
  return Array.isArray(value)
    ? value.filter((item): item is JsonObject => item !== null && typeof item === "object" && !Array.isArray(item))
    : [];
}
