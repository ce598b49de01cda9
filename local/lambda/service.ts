/**
 * Local AWS Lambda: turns each declared `aws:lambda/function:Function` into a pool of Node processes
 * running its code archive as-is, and serves the Lambda API the AWS SDK and CLI call
 * (Invoke, GetFunction, GetFunctionConfiguration, ListFunctions, GetPolicy).
 * API: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import type { StoreCollection } from "../common/store";
import { header, sendJson } from "../common/http";
import { materializeCode } from "./code";
import {
  InvalidRequestContentException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
  type InvokeRequest,
  type InvokeResult,
  type LambdaInvoker,
} from "../common/invoker";
import { DEFAULT_ASYNC_CONFIG, LocalFunction, type InvocationRecord, type QueuedEvent, type QueueKeeper } from "./localFunction";
import { nodeBinaryForRuntime, nodeMajorOfRuntime } from "./nodeRuntime";

/** Lambda's payload quotas: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
/** Lambda's defaults when a function does not set them. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_RUNTIME = "nodejs24.x";

/** Credentials every function process gets when no `credentialsFor` is given (IAM off, tests of the service alone). */
export const LOCAL_CREDENTIALS = { accessKeyId: "ASIALOCALFUNCTION", secretAccessKey: "local", sessionToken: "local" } as const;

/** Environment keys Lambda reserves; a function that sets one is rejected at creation, as AWS does. */
const RESERVED_ENVIRONMENT_KEYS = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);

export interface LambdaServiceOptions {
  /** Function code is written under `<workDirectory>/<function name>`. */
  workDirectory: string;
  /** Where Node builds for other majors are cached. */
  nodeCacheDirectory: string;
  /** "machine" never downloads Node and runs every function on this process's Node. @default "runtime" */
  nodePolicy?: "runtime" | "machine";
  /** The runtime's bundled modules (the AWS SDK v3): the functions' NODE_PATH. */
  nodeModulesDirectory: string;
  /** Processes per function when it has no reserved concurrency. @default 4 */
  maxProcessesPerFunction?: number;
  /** Delays before retrying a failed Event invocation. @default [60000, 120000] (Lambda's 1 and 2 minutes) */
  asyncRetryDelaysMs?: readonly number[];
  /**
   * Credentials identifying the function's role, as Lambda hands a function its role's session (local/iam issues
   * them and verifies requests signed with them). @default LOCAL_CREDENTIALS, for every function
   */
  credentialsFor?(functionName: string, roleArn: string): { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export class LambdaService implements LocalService, LambdaInvoker {
  readonly signingNames = ["lambda"] as const;
  readonly resourceTypes = [
    "aws:lambda/function:Function",
    "aws:lambda/permission:Permission",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  ] as const;

  private readonly functions = new Map<string, LocalFunction>();
  private readonly fallbackReported = new Set<number>();
  /** Queued Event invocations, kept until done (Lambda's own queue is durable: at least once). */
  private readonly queue?: StoreCollection<QueuedEvent>;
  private readonly queueKeeper?: QueueKeeper;
  /** Permissions and async config of a function being replaced (a reload), for its replacement. */
  private readonly carriedOver = new Map<string, Pick<LocalFunction, "permissions" | "asyncConfig">>();
  /** Replaced functions still finishing their invocations. */
  private readonly retiring = new Set<LocalFunction>();

  constructor(
    private readonly context: LocalContext,
    private readonly options: LambdaServiceOptions,
  ) {
    const limit = options.maxProcessesPerFunction;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw new Error(`maxProcessesPerFunction must be a whole number of at least 1, got ${limit}`);
    if (context.store?.durable) {
      const queue = context.store.collection<QueuedEvent>("lambda.asyncQueue");
      this.queue = queue;
      this.queueKeeper = { kept: (event) => queue.put(event.requestId, event), done: (requestId) => queue.delete(requestId) };
    }
  }

  /** Runs again the asynchronous invocations that were queued (or running) when the runtime stopped. */
  async restore(): Promise<string[]> {
    if (!this.queue) return [];
    const events = this.queue.entries().map(([, event]) => event);
    for (const event of events) {
      const target = this.functions.get(event.functionName);
      if (target) target.resumeQueued(event);
      else {
        this.context.log(
          "lambda",
          `Async invocation ${event.requestId} of ${event.functionName} dropped: the program no longer declares that function`,
        );
        this.queue.delete(event.requestId);
      }
    }
    return events.length > 0 ? [`${events.length} queued Lambda event${events.length === 1 ? "" : "s"}`] : [];
  }

  /** The declared functions, by name. */
  get declaredFunctions(): ReadonlyMap<string, LocalFunction> {
    return this.functions;
  }

  async provision(resource: DeclaredResource, _all: readonly DeclaredResource[] = []): Promise<void> {
    switch (resource.type) {
      case "aws:lambda/function:Function":
        return this.provisionFunction(resource);
      case "aws:lambda/permission:Permission":
        this.functionFor(String(resource.inputs.function), resource).permissions.push({ ...resource.inputs });
        return;
      case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
        const target = this.functionFor(String(resource.inputs.functionName), resource);
        target.asyncConfig = {
          maximumRetryAttempts: resource.inputs.maximumRetryAttempts ?? target.asyncConfig.maximumRetryAttempts,
          maximumEventAgeInSeconds: resource.inputs.maximumEventAgeInSeconds ?? target.asyncConfig.maximumEventAgeInSeconds,
        };
        if (resource.inputs.destinationConfig)
          this.context.log("lambda", `${target.name}: async destinations are not emulated (${resource.name})`);
        return;
      }
    }
  }

  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    switch (resource.type) {
      case "aws:lambda/function:Function": {
        const functionName: string = resource.state.name ?? resource.id;
        const retired = this.functions.get(functionName);
        if (!retired) return;
        this.functions.delete(functionName);
        // Permissions and event-invoke configs are resources of their own: unchanged, they stay with the function.
        if (replacedBy) this.carriedOver.set(functionName, { permissions: retired.permissions, asyncConfig: retired.asyncConfig });
        this.retiring.add(retired);
        void retired.retire().finally(() => this.retiring.delete(retired));
        return;
      }
      case "aws:lambda/permission:Permission": {
        const target = this.functions.get(this.nameOf(String(resource.inputs.function)));
        const index = target?.permissions.findIndex((permission) => JSON.stringify(permission) === JSON.stringify(resource.inputs)) ?? -1;
        if (index >= 0) target!.permissions.splice(index, 1);
        return;
      }
      case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
        const target = this.functions.get(this.nameOf(String(resource.inputs.functionName)));
        if (target) target.asyncConfig = { ...DEFAULT_ASYNC_CONFIG };
        return;
      }
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    return (await this.invokeWithLog(request)).result;
  }

  /**
   * Invoke, also returning the invocation's log lines (empty for Event). `collectLog`: the caller reads them
   * (LogType=Tail), so the answer waits for the lines still in the pipe; no one else waits for them.
   */
  async invokeWithLog(request: InvokeRequest & { clientContext?: unknown; collectLog?: boolean }): Promise<InvocationRecord> {
    const target = this.resolve(request.functionName);
    const size = Buffer.byteLength(request.payload);
    const limit = request.invocationType === "Event" ? MAX_ASYNC_PAYLOAD_BYTES : MAX_SYNC_PAYLOAD_BYTES;
    if (size > limit) {
      throw new RequestTooLargeException(
        `${size} byte payload is too large for the ${request.invocationType} invocation type (limit ${limit} bytes)`,
      );
    }
    try {
      JSON.parse(request.payload || "{}");
    } catch (error) {
      throw new InvalidRequestContentException(`Could not parse request body into json: ${(error as Error).message}`);
    }
    const payload = request.payload || "{}";
    if (request.invocationType === "Event") {
      const requestId = target.invokeAsync(payload);
      return { result: { statusCode: 202, payload: "", executedVersion: "$LATEST", requestId }, log: [] };
    }
    return target.invokeSync(payload, { signal: request.signal, clientContext: request.clientContext, collectLog: request.collectLog });
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const route = /^\/2015-03-31\/functions(?:\/([^/]+))?(\/invocations|\/configuration|\/policy)?\/?$/.exec(url.pathname);
    try {
      if (!route) throw new LambdaApiError(404, "UnknownOperationException", `Unknown operation ${req.method} ${url.pathname}`);
      const [, encodedName, suffix] = route;
      const functionName = encodedName === undefined ? undefined : decodeURIComponent(encodedName);
      const qualifier = url.searchParams.get("Qualifier");
      const qualified = functionName && qualifier ? `${functionName}:${qualifier}` : functionName;
      if (req.method === "POST" && suffix === "/invocations" && qualified) return await this.serveInvoke(req, res, qualified, body);
      if (req.method === "GET" && !functionName && !suffix) {
        return sendLambdaJson(res, 200, { Functions: [...new Set(this.functions.values())].map(functionConfiguration), NextMarker: null });
      }
      if (req.method === "GET" && qualified && !suffix) {
        const target = this.resolve(qualified);
        return sendLambdaJson(res, 200, {
          Configuration: functionConfiguration(target),
          Code: { RepositoryType: "S3", Location: "" },
          Concurrency: concurrency(target),
        });
      }
      if (req.method === "GET" && qualified && suffix === "/configuration")
        return sendLambdaJson(res, 200, functionConfiguration(this.resolve(qualified)));
      if (req.method === "GET" && qualified && suffix === "/policy") return this.servePolicy(res, this.resolve(qualified));
      throw new LambdaApiError(404, "UnknownOperationException", `Unknown operation ${req.method} ${url.pathname}`);
    } catch (error) {
      sendLambdaError(res, error);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...new Set([...this.functions.values(), ...this.retiring])].map((target) => target.close()));
  }

  /** The function name in a name or ARN reference. */
  private nameOf(reference: string): string {
    return /(?:function:)?([a-zA-Z0-9-_.]+)(?::\$LATEST)?$/.exec(reference)?.[1] ?? reference;
  }

  /** Looks a function up by name, ARN or partial ARN (with an optional `$LATEST` qualifier), as Lambda does. */
  resolve(functionName: string): LocalFunction {
    const match = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9-_.]+)(?::([a-zA-Z0-9-_$.]+))?$/.exec(
      functionName,
    );
    const target = match ? this.functions.get(match[1]) : undefined;
    const qualifier = match?.[2];
    if (!target || (qualifier !== undefined && qualifier !== "$LATEST")) {
      const { region, accountId } = this.context;
      const shown = match ? `arn:aws:lambda:${region}:${accountId}:function:${match[1]}${qualifier ? `:${qualifier}` : ""}` : functionName;
      throw new ResourceNotFoundException(`Function not found: ${shown}`);
    }
    return target;
  }

  private async provisionFunction(resource: DeclaredResource): Promise<void> {
    const { inputs, state } = resource;
    const functionName: string = state.name ?? resource.id;
    if (inputs.packageType === "Image" || inputs.imageUri)
      throw new Error(`Function ${functionName}: container image functions cannot run locally`);
    if (!inputs.code)
      throw new Error(`Function ${functionName}: only inline code archives run locally (s3Bucket/s3Key code is not available offline)`);
    const runtime: string = inputs.runtime ?? DEFAULT_RUNTIME;
    if (nodeMajorOfRuntime(runtime) === undefined)
      throw new Error(`Function ${functionName}: runtime "${runtime}" cannot run locally (Node.js runtimes only)`);
    if (inputs.layers?.length) this.context.log("lambda", `${functionName}: layers are not emulated locally: ${inputs.layers.join(", ")}`);

    const variables: Record<string, string> = { ...(inputs.environment?.variables ?? {}) };
    const reserved = Object.keys(variables).filter((key) => RESERVED_ENVIRONMENT_KEYS.has(key));
    if (reserved.length > 0) {
      // AWS's InvalidParameterValueException for the same mistake.
      throw new Error(
        `Function ${functionName}: environment variables use reserved keys that Lambda does not allow: ${reserved.join(", ")}`,
      );
    }

    const codeDirectory = path.join(this.options.workDirectory, functionName);
    await materializeCode(inputs.code, codeDirectory);
    const node = await nodeBinaryForRuntime(runtime, {
      cacheDirectory: this.options.nodeCacheDirectory,
      policy: this.options.nodePolicy,
      onProgress: (line) => this.context.log("node", line),
    });
    const major = nodeMajorOfRuntime(runtime)!;
    if (node.fallbackReason && !this.fallbackReported.has(major)) {
      this.fallbackReported.add(major);
      this.context.log(
        "lambda",
        `${runtime} functions run on this machine's Node ${node.version}, not Node ${major} (${node.fallbackReason})`,
      );
    }

    const timeoutSeconds = Number(inputs.timeout ?? DEFAULT_TIMEOUT_SECONDS);
    const memorySize = Number(inputs.memorySize ?? DEFAULT_MEMORY_MB);
    const reservedConcurrency =
      typeof inputs.reservedConcurrentExecutions === "number" && inputs.reservedConcurrentExecutions >= 0
        ? inputs.reservedConcurrentExecutions
        : undefined;
    const maxProcesses = Math.min(this.options.maxProcessesPerFunction ?? 4, reservedConcurrency ?? Infinity);
    const { region, origin } = this.context;
    const credentials = this.options.credentialsFor?.(functionName, String(inputs.role ?? "")) ?? LOCAL_CREDENTIALS;
    const logStream = `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[$LATEST]${randomBytes(16).toString("hex")}`;
    const environment: Record<string, string> = {
      PATH: `${path.dirname(node.executable)}:/usr/local/bin:/usr/bin:/bin`,
      LANG: "en_US.UTF-8",
      TZ: ":UTC",
      // The Node.js runtimes ship AWS SDK v3 on their module path; locally that is this repository's node_modules.
      NODE_PATH: this.options.nodeModulesDirectory,
      AWS_ENDPOINT_URL: origin,
      ...variables,
      _HANDLER: inputs.handler ?? "index.handler",
      LAMBDA_TASK_ROOT: codeDirectory,
      LAMBDA_RUNTIME_DIR: path.join(__dirname, "runtime"),
      AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: logStream,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    };

    const localFunction = new LocalFunction(
      {
        functionName,
        functionArn: state.arn,
        nodeExecutable: node.executable,
        nodeVersion: node.version,
        codeDirectory,
        environment,
        declaredVariables: variables,
        timeoutSeconds,
        memorySize,
        runtime,
        handler: environment._HANDLER,
        role: inputs.role,
        reservedConcurrency,
        maxProcesses,
        asyncRetryDelaysMs: this.options.asyncRetryDelaysMs ?? [60_000, 120_000],
      },
      (line) => this.context.log(functionName, line),
      this.queueKeeper,
    );
    const carried = this.carriedOver.get(functionName);
    if (carried) {
      this.carriedOver.delete(functionName);
      localFunction.permissions.push(...carried.permissions);
      localFunction.asyncConfig = carried.asyncConfig;
    }
    this.functions.set(functionName, localFunction);
  }

  private functionFor(reference: string, resource: DeclaredResource): LocalFunction {
    try {
      return this.resolve(reference);
    } catch {
      throw new Error(`${resource.type} "${resource.name}" refers to function "${reference}", which the program does not declare`);
    }
  }

  private async serveInvoke(req: IncomingMessage, res: ServerResponse, functionName: string, body: Buffer): Promise<void> {
    const invocationType = header(req, "x-amz-invocation-type") ?? "RequestResponse";
    if (invocationType === "DryRun") {
      this.resolve(functionName);
      res.writeHead(204, { "x-amzn-RequestId": randomUUID() }).end();
      return;
    }
    if (invocationType !== "RequestResponse" && invocationType !== "Event") {
      throw new LambdaApiError(
        400,
        "InvalidParameterValueException",
        `Invalid InvocationType: ${invocationType} (RequestResponse, Event or DryRun)`,
      );
    }
    const clientContextHeader = header(req, "x-amz-client-context");
    const clientContext = clientContextHeader ? safeJson(Buffer.from(clientContextHeader, "base64").toString("utf8")) : undefined;
    const collectLog = header(req, "x-amz-log-type") === "Tail" && invocationType === "RequestResponse";
    const { result, log } = await this.invokeWithLog({
      functionName,
      payload: body.toString("utf8"),
      invocationType,
      clientContext,
      collectLog,
    });
    // An accepted Event invocation (202) is in the kept queue before the answer leaves.
    await this.context.store?.committed();
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-Amz-Executed-Version": result.executedVersion,
      "x-amzn-RequestId": result.requestId,
    };
    if (result.functionError) headers["X-Amz-Function-Error"] = result.functionError;
    if (collectLog) {
      // The last 4 KB of the invocation's log, base64-encoded.
      headers["X-Amz-Log-Result"] = Buffer.from(log.join("\n") + "\n")
        .subarray(-4096)
        .toString("base64");
    }
    res.writeHead(result.statusCode, headers).end(result.payload);
  }

  private servePolicy(res: ServerResponse, target: LocalFunction): void {
    if (target.permissions.length === 0) throw new ResourceNotFoundException("The resource you requested does not exist.");
    const statements = target.permissions.map((permission: any) => ({
      Sid: permission.statementId,
      Effect: "Allow",
      Principal: { Service: permission.principal },
      Action: permission.action,
      Resource: target.arn,
      ...(permission.sourceArn ? { Condition: { ArnLike: { "AWS:SourceArn": permission.sourceArn } } } : {}),
    }));
    sendLambdaJson(res, 200, {
      Policy: JSON.stringify({ Version: "2012-10-17", Id: "default", Statement: statements }),
      RevisionId: "local",
    });
  }
}

class LambdaApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Lambda's REST-JSON error shape: status, `x-amzn-ErrorType` header, `{"Type","Message"}` body. */
function sendLambdaError(res: ServerResponse, error: unknown): void {
  const known: Record<string, number> = {
    ResourceNotFoundException: 404,
    TooManyRequestsException: 429,
    RequestTooLargeException: 413,
    InvalidRequestContentException: 400,
  };
  let statusCode = 500;
  let code = "ServiceException";
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof LambdaApiError) ({ statusCode, code } = error);
  else if (error instanceof Error && known[error.name]) [statusCode, code] = [known[error.name], error.name];
  const body: Record<string, unknown> = { Type: statusCode >= 500 ? "Service" : "User", Message: message, message };
  if (error instanceof TooManyRequestsException) body.Reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
  if (res.headersSent) return void res.end();
  res
    .writeHead(statusCode, { "Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": randomUUID() })
    .end(JSON.stringify(body));
}

function functionConfiguration(target: LocalFunction): Record<string, unknown> {
  const { config } = target;
  return {
    FunctionName: config.functionName,
    FunctionArn: config.functionArn,
    Runtime: config.runtime,
    Role: config.role,
    Handler: config.handler,
    Timeout: config.timeoutSeconds,
    MemorySize: config.memorySize,
    Version: "$LATEST",
    Environment: { Variables: config.declaredVariables },
    PackageType: "Zip",
    Architectures: ["x86_64"],
    State: "Active",
    LastUpdateStatus: "Successful",
  };
}

function concurrency(target: LocalFunction): Record<string, number> | undefined {
  return target.config.reservedConcurrency === undefined ? undefined : { ReservedConcurrentExecutions: target.config.reservedConcurrency };
}

/** The host's JSON answer, with the request id header every Lambda API response carries. */
function sendLambdaJson(res: ServerResponse, statusCode: number, body: unknown): void {
  sendJson(res, statusCode, body, { "x-amzn-RequestId": randomUUID() });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
