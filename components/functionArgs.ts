/**
 * A Lambda function the component defines (a magic function), its defaults and checks, and the small checks
 * every argument resolver of the components shares.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** A Lambda handler factory, as `aws.lambda.CallbackFunction`'s `callbackFactory` takes it. */
export type HandlerFactory = aws.lambda.CallbackFactory<any, any>;

/** One Lambda function defined by the component. */
export interface WorkflowFunctionArgs {
  /**
   * Runs once per Lambda container and returns the handler (create SDK clients here). It is serialized by
   * Pulumi: import SDK clients statically at the top of its module so the serializer emits `require(...)`.
   */
  callbackFactory: HandlerFactory;
  /** Extra environment variables. @default {} */
  environment?: Record<string, pulumi.Input<string>>;
  /**
   * Extra IAM statements for the function's role (e.g. S3 or DynamoDB access on named resources).
   * Wildcard actions are rejected. @default []
   */
  policyStatements?: pulumi.Input<aws.iam.PolicyStatement>[];
  /** Memory in MB, 128 to 10,240. @default 128 */
  memorySize?: number;
  /** Function timeout in seconds, 1 to 900. @default 30 */
  timeoutSeconds?: number;
  /** Function description. @default the step's role in the workflow */
  description?: string;
}

export interface ResolvedFunctionArgs {
  callbackFactory: HandlerFactory;
  environment: Record<string, pulumi.Input<string>>;
  /** An Output when the component's own statements depend on a deploy-time lookup (an encrypted topic's key). */
  policyStatements: pulumi.Input<pulumi.Input<aws.iam.PolicyStatement>[]>;
  memorySize: number;
  timeoutSeconds: number;
  description?: string;
}

export const FUNCTION_DEFAULTS = { memorySize: 128, timeoutSeconds: 30 } as const;

/** The values CloudWatch Logs accepts for a log group's retention. https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Whether a function reference asks the component to define the function (it has a `callbackFactory`). */
export function isDefinedHere(fn: unknown): fn is WorkflowFunctionArgs {
  return fn !== null && typeof fn === "object" && "callbackFactory" in fn;
}

/** Defaults and checks of a function defined here; problems are added to `problems`, prefixed with `key`. */
export function resolveFunction(key: string, fn: WorkflowFunctionArgs, problems: string[]): ResolvedFunctionArgs {
  if (typeof fn.callbackFactory !== "function") {
    problems.push(`${key}.callbackFactory must be a function returning the Lambda handler; received ${describe(fn.callbackFactory)}`);
  }
  const memorySize = fn.memorySize ?? FUNCTION_DEFAULTS.memorySize;
  checkWholeNumber(`${key}.memorySize`, memorySize, 128, 10_240, problems);
  const timeoutSeconds = fn.timeoutSeconds ?? FUNCTION_DEFAULTS.timeoutSeconds;
  checkWholeNumber(`${key}.timeoutSeconds`, timeoutSeconds, 1, 900, problems);
  const policyStatements = fn.policyStatements ?? [];
  policyStatements.forEach((statement, index) => checkStatement(`${key}.policyStatements[${index}]`, statement, problems));
  return {
    callbackFactory: fn.callbackFactory,
    environment: fn.environment ?? {},
    policyStatements,
    memorySize,
    timeoutSeconds,
    description: fn.description,
  };
}

/** Rejects wildcard actions in statements given as plain objects (Outputs cannot be inspected here). */
function checkStatement(key: string, statement: unknown, problems: string[]): void {
  if (statement === null || typeof statement !== "object" || typeof (statement as any).apply === "function") return;
  const actions = (statement as aws.iam.PolicyStatement).Action;
  const list = actions === undefined ? [] : Array.isArray(actions) ? actions : [actions];
  for (const action of list) {
    if (typeof action === "string" && action.includes("*"))
      problems.push(`${key}.Action (${action}) must not contain a wildcard: name each action`);
  }
  if ((statement as aws.iam.PolicyStatement).NotAction !== undefined) problems.push(`${key} must not use NotAction: name each action`);
}

/** CloudWatch Logs accepts only its own list of retention periods. */
export function checkRetentionDays(retentionInDays: unknown, problems: string[]): void {
  if (!LOG_RETENTION_DAYS.includes(retentionInDays as number)) {
    problems.push(
      `logging.retentionInDays (${describe(retentionInDays)}) must be one of CloudWatch Logs' values: ${LOG_RETENTION_DAYS.join(", ")}`,
    );
  }
}

export function checkWholeNumber(key: string, value: unknown, min: number, max: number, problems: string[]): value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${key} (${describe(value)}) must be a whole number from ${min} to ${max}`);
    return false;
  }
  return true;
}

/** A value as an error message shows it: strings quoted, objects as JSON. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return String(value);
  if (typeof value === "function") return "a function";
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
