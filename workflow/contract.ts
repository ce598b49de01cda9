/**
 * The workflow contract: the names the state machines, the functions that answer task tokens and the local
 * runtime's validator must agree on. It imports nothing, so components, handlers and local/ may all import it
 * without a cycle (handlers never import components).
 */

/** Error names a token receiver sends with SendTaskFailure, which the workflows' `Catch` match verbatim. */
export const ERROR_NAMES = {
  /** The work itself failed (the demo's handler, the pipeline's chunks, the SQS worker). */
  processingFailed: "ProcessingFailed",
  /** An approver followed the reject link of an approval request. */
  rejected: "Rejected",
} as const;

export const PROCESSING_FAILED_ERROR = ERROR_NAMES.processingFailed;
export const REJECTED_ERROR = ERROR_NAMES.rejected;

/**
 * Step Functions' own error names, in one list for the engine, the definition validator and the components'
 * checks: any other name starting with `States.` is refused by AWS in `ErrorEquals`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export const STATES_ERRORS = {
  ALL: "States.ALL",
  Timeout: "States.Timeout",
  HeartbeatTimeout: "States.HeartbeatTimeout",
  TaskFailed: "States.TaskFailed",
  Permissions: "States.Permissions",
  ResultPathMatchFailure: "States.ResultPathMatchFailure",
  ParameterPathFailure: "States.ParameterPathFailure",
  BranchFailed: "States.BranchFailed",
  NoChoiceMatched: "States.NoChoiceMatched",
  IntrinsicFailure: "States.IntrinsicFailure",
  QueryEvaluationError: "States.QueryEvaluationError",
  ExceedToleratedFailureThreshold: "States.ExceedToleratedFailureThreshold",
  ItemReaderFailed: "States.ItemReaderFailed",
  ResultWriterFailed: "States.ResultWriterFailed",
  DataLimitExceeded: "States.DataLimitExceeded",
  Runtime: "States.Runtime",
  HttpSocket: "States.Http.Socket",
} as const;

/** Whether `name` is one of Step Functions' own error names (STATES_ERRORS). */
export function isStatesErrorName(name: string): boolean {
  return STATES_ERROR_NAMES.has(name);
}

const STATES_ERROR_NAMES: ReadonlySet<string> = new Set(Object.values(STATES_ERRORS));

/**
 * The errors a wait ends with when no answer (or heartbeat) came in time. AWS records `States.Timeout` for both
 * a timeout and a missed heartbeat; `States.HeartbeatTimeout` is listed too, as AWS's error-handling page names it.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export const TIMEOUT_ERRORS = [STATES_ERRORS.Timeout, STATES_ERRORS.HeartbeatTimeout] as const;

/** Keys of the payloads the project's callback steps send: the token receiver reads the token from `taskToken`. */
export const PAYLOAD_KEYS = { taskToken: "taskToken", input: "input", executionId: "executionId" } as const;

/** The Context Object path of the task token. */
export const TASK_TOKEN_PATH = "$$.Task.Token";

/**
 * The paths that pass the token on, by the AWS CDK's rule: the token itself, or an object that holds it
 * (`$$.Task`, the whole Context Object `$$`).
 */
export const TASK_TOKEN_CARRYING_PATHS: readonly string[] = ["$$.Task.Token", "$$.Task", "$$"];

/**
 * Whether a payload template (Parameters, or one field of it) passes the task token on: some `.$` field's path,
 * or a path argument of an intrinsic function in it (`States.Format('{}', $$.Task.Token)`), is one of
 * TASK_TOKEN_CARRYING_PATHS. A string given as the whole template is read as such a `.$` value.
 */
export function referencesTaskToken(template: unknown): boolean {
  return typeof template === "string" ? expressionCarriesToken(template) : templateCarriesToken(template);
}

function expressionCarriesToken(expression: string): boolean {
  return pathsIn(expression).some((path) => TASK_TOKEN_CARRYING_PATHS.includes(path));
}

/** Only `.$` fields are evaluated: a plain string value is text, whatever it looks like. */
function templateCarriesToken(template: unknown): boolean {
  if (Array.isArray(template)) return template.some(templateCarriesToken);
  if (template === null || typeof template !== "object") return false;
  return Object.entries(template as Record<string, unknown>).some(([key, value]) =>
    key.endsWith(".$") ? typeof value === "string" && expressionCarriesToken(value) : templateCarriesToken(value),
  );
}

/**
 * The Context Object paths (`$$...`) an expression refers to: a path, or an intrinsic call whose arguments may be
 * paths. Quoted string literals are dropped first, so `'$$.Task.Token'` (text, not a reference) does not count.
 * Written by hand because the check must run in components, handlers and local/ alike, and only needs to find
 * dotted `$$` paths, not evaluate them.
 */
function pathsIn(expression: string): string[] {
  const withoutLiterals = expression.replace(/'(?:\\.|[^'\\])*'/g, "''");
  return withoutLiterals.match(/\$\$(?:\.[A-Za-z0-9_]+)*/g) ?? [];
}
