/**
 * The `CallbackWorkflow` component's arguments, their defaults, and every check on them, in one pure function
 * (`resolveArgs`) so they can be tested without Pulumi. Numbers that are checked against each other are plain
 * `number`s, not `pulumi.Input`s: a check cannot see inside an unresolved Output.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_WAIT_PAYLOAD, referencesTaskToken } from "./definition";

/** A Lambda handler factory, as `aws.lambda.CallbackFunction`'s `callbackFactory` takes it. */
export type HandlerFactory = aws.lambda.CallbackFactory<any, any>;

/** One Lambda function of the workflow. */
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

export type StartApiType = "http" | "rest" | "none";
export type StartApiMethod = "GET" | "POST";
export type StartApiAuthorization = "NONE" | "AWS_IAM";

/** The HTTP endpoint that starts an execution and answers with its `executionArn`. */
export interface StartApiArgs {
  /**
   * `http`: an API Gateway HTTP API (apigatewayv2) with the `StepFunctions-StartExecution` integration;
   * `rest`: an API Gateway REST API (via `@pulumi/awsx`), for API keys and usage plans; `none`: no API.
   * @default "http"
   */
  type?: StartApiType;
  /** Route path. @default "/start" */
  path?: string;
  /**
   * Route method. `GET` takes the execution input as the URL-encoded JSON query parameter `input`;
   * `POST` takes the request body as the input. @default "GET"
   */
  method?: StartApiMethod;
  /** `AWS_IAM` requires SigV4-signed requests (`execute-api:Invoke`). @default "NONE" */
  authorization?: StartApiAuthorization;
  /** Stage throttling. @default { burstLimit: 100, rateLimit: 50 } */
  throttle?: { burstLimit?: number; rateLimit?: number };
  /** REST only: require an API key, and create one with a usage plan carrying the throttle. @default false */
  apiKeyRequired?: boolean;
}

export type LogLevel = "ALL" | "ERROR" | "FATAL" | "OFF";

export interface WorkflowLoggingArgs {
  /** Step Functions execution log level (`OFF`: no log group). @default "ERROR" */
  level?: LogLevel;
  /** Whether execution logs include input/output data. @default true */
  includeExecutionData?: boolean;
  /** Retention of every log group the component creates (a CloudWatch Logs allowed value). @default 14 */
  retentionInDays?: number;
}

export interface CallbackWorkflowArgs {
  /** The function that receives the task token (`WaitForCompletion`). Required. */
  handler: WorkflowFunctionArgs;
  /** An optional plain `lambda:invoke` step before the wait (`SplitDoc`), payload unwrapped. @default none */
  split?: WorkflowFunctionArgs;
  /** An optional step after a successful callback (`ContinueProcess`). @default a Pass state that ends the execution */
  continueWith?: WorkflowFunctionArgs;
  /**
   * Seconds the wait may last before it fails with `States.Timeout`. AWS's own default is 99,999,999 s
   * (executions stuck for a year), so a finite one is set. @default 3600
   */
  timeoutSeconds?: number;
  /** Seconds allowed between heartbeats (`SendTaskHeartbeat`); must be less than `timeoutSeconds`. @default none */
  heartbeatSeconds?: number;
  /**
   * The Lambda payload of the wait; must carry `$$.Task.Token` in a `.$` field.
   * @default {"taskToken.$": "$$.Task.Token", "input.$": "$"}
   */
  waitPayload?: Record<string, unknown>;
  /** Lambda runtime of every function; must be a Node.js runtime (handlers are serialized JavaScript). @default "nodejs24.x" */
  runtime?: string;
  /** The start endpoint. @default { type: "http", method: "GET", path: "/start" } */
  api?: StartApiArgs;
  /** State machine logging. @default { level: "ERROR", includeExecutionData: true, retentionInDays: 14 } */
  logging?: WorkflowLoggingArgs;
  /** X-Ray tracing of the state machine and functions. @default false */
  tracing?: boolean;
  /** Tags on every taggable resource. @default {} */
  tags?: Record<string, string>;
}

export interface ResolvedFunctionArgs {
  callbackFactory: HandlerFactory;
  environment: Record<string, pulumi.Input<string>>;
  policyStatements: pulumi.Input<aws.iam.PolicyStatement>[];
  memorySize: number;
  timeoutSeconds: number;
  description?: string;
}

export interface ResolvedStartApi {
  type: StartApiType;
  path: string;
  method: StartApiMethod;
  authorization: StartApiAuthorization;
  throttle: { burstLimit: number; rateLimit: number };
  apiKeyRequired: boolean;
}

export interface ResolvedArgs {
  handler: ResolvedFunctionArgs;
  split?: ResolvedFunctionArgs;
  continueWith?: ResolvedFunctionArgs;
  timeoutSeconds: number;
  heartbeatSeconds?: number;
  waitPayload: Record<string, unknown>;
  runtime: string;
  api: ResolvedStartApi;
  logging: Required<WorkflowLoggingArgs>;
  tracing: boolean;
  tags: Record<string, string>;
}

export const DEFAULTS = {
  timeoutSeconds: 3600,
  runtime: "nodejs24.x",
  memorySize: 128,
  functionTimeoutSeconds: 30,
  api: { type: "http", path: "/start", method: "GET", authorization: "NONE", burstLimit: 100, rateLimit: 50 },
  logging: { level: "ERROR", includeExecutionData: true, retentionInDays: 14 },
} as const;

/** AWS's ceiling for TimeoutSeconds/HeartbeatSeconds (and its default). */
export const MAX_TASK_SECONDS = 99_999_999;

/** The values CloudWatch Logs accepts for a log group's retention. https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Applies defaults and checks everything; throws one Error listing every problem found. */
export function resolveArgs(args: CallbackWorkflowArgs): ResolvedArgs {
  const problems: string[] = [];
  if (args === null || typeof args !== "object") throw new Error(`CallbackWorkflow args must be an object; received ${describe(args)}`);

  const handler = resolveFunction("handler", args.handler, problems, true)!;
  const split = resolveFunction("split", args.split, problems, false);
  const continueWith = resolveFunction("continueWith", args.continueWith, problems, false);

  const timeoutSeconds = args.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
  checkWholeNumber("timeoutSeconds", timeoutSeconds, 1, MAX_TASK_SECONDS, problems);
  const heartbeatSeconds = args.heartbeatSeconds;
  if (heartbeatSeconds !== undefined) {
    if (checkWholeNumber("heartbeatSeconds", heartbeatSeconds, 1, MAX_TASK_SECONDS, problems) && heartbeatSeconds >= timeoutSeconds) {
      problems.push(`heartbeatSeconds (${heartbeatSeconds}) must be less than timeoutSeconds (${timeoutSeconds})`);
    }
  }

  const waitPayload = args.waitPayload ?? { ...DEFAULT_WAIT_PAYLOAD };
  if (!referencesTaskToken(waitPayload)) {
    problems.push(
      `waitPayload must pass the task token in a ".$" field (e.g. "taskToken.$": "$$.Task.Token"), or nothing can ever resume the execution; received ${describe(waitPayload)}`,
    );
  }

  const runtime = args.runtime ?? DEFAULTS.runtime;
  if (typeof runtime !== "string" || !/^nodejs\d+\.x$/.test(runtime)) {
    problems.push(
      `runtime (${describe(runtime)}) must be a Node.js Lambda runtime such as "nodejs24.x": handlers are serialized JavaScript`,
    );
  }

  const api = resolveApi(args.api ?? {}, problems);

  const logging = {
    level: args.logging?.level ?? DEFAULTS.logging.level,
    includeExecutionData: args.logging?.includeExecutionData ?? DEFAULTS.logging.includeExecutionData,
    retentionInDays: args.logging?.retentionInDays ?? DEFAULTS.logging.retentionInDays,
  };
  if (!["ALL", "ERROR", "FATAL", "OFF"].includes(logging.level)) {
    problems.push(`logging.level (${describe(logging.level)}) must be one of ALL, ERROR, FATAL, OFF`);
  }
  checkRetentionDays(logging.retentionInDays, problems);

  const tags = args.tags ?? {};
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") problems.push(`tags.${key} (${describe(value)}) must be a string`);
  }

  if (problems.length > 0) throw new Error(`Invalid CallbackWorkflow args:\n- ${problems.join("\n- ")}`);
  return {
    handler,
    split,
    continueWith,
    timeoutSeconds,
    heartbeatSeconds,
    waitPayload,
    runtime,
    api,
    logging: logging as Required<WorkflowLoggingArgs>,
    tracing: args.tracing ?? false,
    tags,
  };
}

function resolveFunction(
  key: string,
  fn: WorkflowFunctionArgs | undefined,
  problems: string[],
  required: boolean,
): ResolvedFunctionArgs | undefined {
  if (fn === undefined) {
    if (required) problems.push(`${key} is required: the function that receives the task token`);
    return required ? placeholderFunction() : undefined;
  }
  if (typeof fn.callbackFactory !== "function") {
    problems.push(`${key}.callbackFactory must be a function returning the Lambda handler; received ${describe(fn.callbackFactory)}`);
  }
  const memorySize = fn.memorySize ?? DEFAULTS.memorySize;
  checkWholeNumber(`${key}.memorySize`, memorySize, 128, 10_240, problems);
  const timeoutSeconds = fn.timeoutSeconds ?? DEFAULTS.functionTimeoutSeconds;
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

/** Keeps the shape whole after a missing handler, so every other problem is still reported in the same error. */
function placeholderFunction(): ResolvedFunctionArgs {
  return { callbackFactory: () => () => undefined, environment: {}, policyStatements: [], memorySize: 128, timeoutSeconds: 30 };
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

function resolveApi(api: StartApiArgs, problems: string[]): ResolvedStartApi {
  const resolved: ResolvedStartApi = {
    type: api.type ?? DEFAULTS.api.type,
    path: api.path ?? DEFAULTS.api.path,
    method: api.method ?? DEFAULTS.api.method,
    authorization: api.authorization ?? DEFAULTS.api.authorization,
    throttle: {
      burstLimit: api.throttle?.burstLimit ?? DEFAULTS.api.burstLimit,
      rateLimit: api.throttle?.rateLimit ?? DEFAULTS.api.rateLimit,
    },
    apiKeyRequired: api.apiKeyRequired ?? false,
  };
  if (!["http", "rest", "none"].includes(resolved.type))
    problems.push(`api.type (${describe(resolved.type)}) must be one of http, rest, none`);
  if (typeof resolved.path !== "string" || !/^\/[A-Za-z0-9._~\-/]*$/.test(resolved.path) || resolved.path.includes("//")) {
    problems.push(
      `api.path (${describe(resolved.path)}) must start with "/" and contain only letters, digits, "-", "_", ".", "~" and single "/"`,
    );
  }
  if (!["GET", "POST"].includes(resolved.method)) problems.push(`api.method (${describe(resolved.method)}) must be GET or POST`);
  if (!["NONE", "AWS_IAM"].includes(resolved.authorization)) {
    problems.push(`api.authorization (${describe(resolved.authorization)}) must be NONE or AWS_IAM`);
  }
  checkWholeNumber("api.throttle.burstLimit", resolved.throttle.burstLimit, 0, 5000, problems);
  if (typeof resolved.throttle.rateLimit !== "number" || !(resolved.throttle.rateLimit >= 0 && resolved.throttle.rateLimit <= 10_000)) {
    problems.push(
      `api.throttle.rateLimit (${describe(resolved.throttle.rateLimit)}) must be a number between 0 and 10000 requests per second`,
    );
  }
  if (resolved.apiKeyRequired && resolved.type !== "rest") {
    problems.push(`api.apiKeyRequired needs api.type "rest" (HTTP APIs have no API keys); received api.type ${describe(resolved.type)}`);
  }
  return resolved;
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

function describe(value: unknown): string {
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
