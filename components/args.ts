/**
 * The `CallbackWorkflow` component's arguments, their defaults, and every check on them, in one pure function
 * (`resolveArgs`) so they can be tested without Pulumi. Numbers that are checked against each other are plain
 * `number`s, not `pulumi.Input`s: a check cannot see inside an unresolved Output.
 */
import { checkRetentionDays, checkWholeNumber, describe } from "./functionArgs";
import { type ResolvedStep, resolveSteps } from "./resolveSteps";
import type { StepArgs } from "./steps";

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
  /**
   * `AWS_IAM` requires SigV4-signed requests (`execute-api:Invoke`), safe for anyone who reuses the component;
   * `NONE` makes the endpoint public: anyone with the URL starts executions (keep the throttle tight). @default "AWS_IAM"
   */
  authorization?: StartApiAuthorization;
  /** Stage throttling; both must be above 0 (0 would refuse every request). @default { burstLimit: 100, rateLimit: 50 } */
  throttle?: { burstLimit?: number; rateLimit?: number };
  /** REST only: require an API key, and create one with a usage plan carrying the throttle. @default false */
  apiKeyRequired?: boolean;
}

/** Who may call the start endpoint and how often: what a stack usually decides for all its workflows at once. */
export type ApiAccess = Pick<StartApiArgs, "authorization" | "throttle">;

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
  /**
   * The workflow, as a chain of steps: it starts at the first, each step goes to the following one unless it
   * names its `next`, and `catch` branches lead elsewhere. Required.
   */
  steps: StepArgs[];
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

export interface ResolvedStartApi {
  type: StartApiType;
  path: string;
  method: StartApiMethod;
  authorization: StartApiAuthorization;
  throttle: { burstLimit: number; rateLimit: number };
  apiKeyRequired: boolean;
}

export interface ResolvedArgs {
  steps: ResolvedStep[];
  runtime: string;
  api: ResolvedStartApi;
  logging: Required<WorkflowLoggingArgs>;
  tracing: boolean;
  tags: Record<string, string>;
}

export const DEFAULTS = {
  runtime: "nodejs24.x",
  api: { type: "http", path: "/start", method: "GET", authorization: "AWS_IAM", burstLimit: 100, rateLimit: 50 },
  logging: { level: "ERROR", includeExecutionData: true, retentionInDays: 14 },
} as const;

/** Applies defaults and checks everything; throws one Error listing every problem found. */
export function resolveArgs(args: CallbackWorkflowArgs): ResolvedArgs {
  const problems: string[] = [];
  if (args === null || typeof args !== "object") throw new Error(`CallbackWorkflow args must be an object; received ${describe(args)}`);

  const steps = resolveSteps(args.steps, problems);

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
    steps,
    runtime,
    api,
    logging: logging as Required<WorkflowLoggingArgs>,
    tracing: args.tracing ?? false,
    tags,
  };
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
  // A limit of 0 makes API Gateway refuse every request with 429: a start endpoint that can never start anything.
  checkWholeNumber("api.throttle.burstLimit", resolved.throttle.burstLimit, 1, 5000, problems);
  if (typeof resolved.throttle.rateLimit !== "number" || !(resolved.throttle.rateLimit > 0 && resolved.throttle.rateLimit <= 10_000)) {
    problems.push(
      `api.throttle.rateLimit (${describe(resolved.throttle.rateLimit)}) must be a number above 0 and at most 10000 requests per second`,
    );
  }
  if (resolved.apiKeyRequired && resolved.type !== "rest") {
    problems.push(`api.apiKeyRequired needs api.type "rest" (HTTP APIs have no API keys); received api.type ${describe(resolved.type)}`);
  }
  return resolved;
}
