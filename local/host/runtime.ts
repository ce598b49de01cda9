/**
 * The local runtime: binds the origin, evaluates the Pulumi program against it, turns every declared
 * resource into its local equivalent, and serves all of them on `http://127.0.0.1:<port>`.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { DynamoDbService } from "../dynamodb/service";
import { LambdaService } from "../lambda/service";
import type { EvaluatedProgram, EvaluatedResource } from "../program/evaluator";
import { ProgramSource } from "../program/source";
import { S3Service } from "../s3/service";
import { StepFunctionsService, type RunningExecution } from "../stepfunctions/service";
import { keepSchemaAnswersIn } from "../stepfunctions/asl/validate";
import { HttpApiService } from "../apigateway/service";
import { SqsService } from "../sqs/service";
import { SnsService } from "../sns/service";
import { ConsoleService } from "../console/service";
import { isLoopbackHost } from "../common/loopback";
import { MAX_REQUEST_BYTES, readBody, RequestTooLargeError, sendAwsJsonError, sendJson } from "../common/http";
import { Router } from "./router";
import type { LocalContext, LocalService, LogLevel } from "../common/service";
import { answerNotReady, answerOwnEndpoint, isOwnEndpoint, notReadyAnswer, type RuntimePhase, type RuntimeStatus } from "./ownEndpoints";
import { startLoadingServer } from "./loadingServer";
import type { StateStore } from "../common/store";
import { openStateStore } from "../store/open";
import { watchAndReload } from "./watchAndReload";
import { IamEnforcer, type HttpDirectory } from "../iam/enforcer";
import { IAM_MODES, type IamMode } from "../iam/modes";
import { authorizingInvoker } from "../iam/invoker";
import { sendMalformedCredential } from "../iam/responses";
import { authorizingQueueSender, authorizingTopicPublisher } from "../iam/messaging";
import { readResourcePolicy } from "../iam/policy";

export { IAM_MODES, type IamMode };

export interface LocalRuntimeOptions {
  /** Directory holding Pulumi.yaml. */
  projectDirectory: string;
  /** @default "dev" */
  stack?: string;
  /** Raw `-c key=value` overrides. */
  configOverrides?: readonly string[];
  /** 0 picks a free port. @default 3000 */
  port?: number;
  /** Live log sink: `[source] line`. */
  log(source: string, line: string, level?: LogLevel): void;
  /** Called once the origin is bound, before the program is loaded (requests until then get 503). */
  onListening?(origin: string): void;
  /** Per-stack scratch space (function code, Node builds). @default <project>/.local */
  workDirectory?: string;
  /** "machine": run every function on this process's Node instead of the runtime's major. */
  nodePolicy?: "runtime" | "machine";
  /** Delays before Lambda retries a failed Event invocation. @default [60000, 120000] */
  asyncRetryDelaysMs?: readonly number[];
  /** Processes per function without reserved concurrency. @default 4 */
  maxProcessesPerFunction?: number;
  /** "durable": state in SQLite under `<workDirectory>/<stack>/state`, kept across restarts; "memory": nothing kept. @default "durable" */
  state?: "durable" | "memory";
  /** Start from empty state (`--reset`). */
  reset?: boolean;
  /** Where durable state lives. @default <workDirectory>/<stack>/state */
  stateDirectory?: string;
  /** Reload the program in place when its sources change (docs/local-runtime.md, "Watch mode"). @default false */
  watch?: boolean;
  /** Reuse the last evaluation of an unchanged program (`.local/<stack>/program.json`). @default true */
  programCache?: boolean;
  /** IAM enforcement. @default the stack config key `local:iam`, else "enforce" */
  iamMode?: IamMode;
}

export interface LocalRuntime {
  /** "http://127.0.0.1:<port>" */
  origin: string;
  /** The program being served (after a reload: the reloaded one). */
  readonly program: EvaluatedProgram;
  /** "cache": the program's last evaluation was reused (nothing of Pulumi ran); "evaluated": it ran now. */
  programFrom: "cache" | "evaluated";
  /** Milliseconds from the start of startLocalRuntime to serving. */
  startMs: number;
  /** The one start-up warning (resource types with no local equivalent), if any. */
  warning?: string;
  /** Resources with no behaviour of their own, kept as declared (IAM roles and policies, which local/iam enforces; log groups). */
  readonly kept: EvaluatedResource[];
  /** IAM enforcement: its mode, and the calls it denied (`deniedCalls(executionArn?)`, for the console). */
  iam: IamEnforcer;
  /** The program's API routes as served: "GET /start → StepFunctions-StartExecution". */
  readonly routes: string[];
  stepFunctions: StepFunctionsService;
  lambda: LambdaService;
  /** Where function code is written (`<work directory>/<stack>/functions`). */
  functionsDirectory: string;
  /** Where downloaded Node builds are kept (`<work directory>/node`), shared by every stack. */
  nodeDirectory: string;
  /** Where state lives (undefined: memory only) and what was restored from it ("3 running executions", ...). */
  state: { directory?: string; restored: string[] };
  /** Executions running now (after close: those running when it closed). */
  runningExecutions(): RunningExecution[];
  /** What `GET /_local/health` answers now. */
  status(): RuntimeStatus;
  /** Stops serving, ends every function process and timer. */
  close(): Promise<void>;
}

/** Declared but with no behaviour to emulate: kept as data (IAM documents are read by local/iam). */
const KEPT_TYPE = /^aws:(iam\/|cloudwatch\/logGroup:)/;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const startedAt = performance.now();
  const projectDirectory = path.resolve(options.projectDirectory);
  const stack = options.stack ?? "dev";
  const workDirectory = path.resolve(options.workDirectory ?? path.join(projectDirectory, ".local"));
  const server = http.createServer();
  // Before the program loads: a state folder held by another runtime is refused at once.
  const store: StateStore = openStateStore({
    kind: options.state ?? "durable",
    directory: path.resolve(options.stateDirectory ?? path.join(workDirectory, stack, "state")),
    reset: options.reset,
  });
  let phase: RuntimePhase = "starting";
  let status = (): RuntimeStatus => ({ status: phase, stack, pid: process.pid });
  let serveReady: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | undefined;
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    // While restoring, requests are served (restored executions call functions, which call the services back),
    // but /_local/health still answers 503 until everything is back.
    if ((phase !== "ready" && phase !== "restoring") || !serveReady) return answerNotReady(req, res, status());
    if (isOwnEndpoint(req)) return answerOwnEndpoint(req, res, status());
    void serveReady(req, res);
  });
  // The origin must be known before the program runs: its outputs (startUrl) and functions' AWS_ENDPOINT_URL
  // name it. Until the program is loaded a worker thread holds the port and answers 503: a client polling for
  // the runtime (curl in a loop, a test harness) gets an answer at once, never a connection that hangs.
  const loading = await startLoadingServer(options.port ?? 3000, notReadyAnswer(status()));
  const origin = `http://127.0.0.1:${loading.port}`;
  options.onListening?.(origin);
  let services: LocalService[] = [];
  const source = new ProgramSource({
    projectDirectory,
    stack,
    configOverrides: options.configOverrides,
    origin,
    workDirectory,
    cache: options.programCache,
    log: options.log,
  });
  keepSchemaAnswersIn(path.join(workDirectory, "asl-validator"), origin);
  try {
    const { program, cached } = await source.load();
    const iam = new IamEnforcer(program.resources, {
      mode: options.iamMode ?? iamModeOf(program.config[IAM_MODE_KEY]),
      terminalAccessKeys: terminalKeysOf(program.config[IAM_TERMINAL_KEY]),
      region: program.cloud.region,
      accountId: program.cloud.accountId,
      log: options.log,
    });
    await iam.checkNamedActions();
    const enforcing = iam.mode !== "off";
    const context: LocalContext = {
      origin,
      region: program.cloud.region,
      accountId: program.cloud.accountId,
      lambda: undefined as unknown as LambdaService,
      log: options.log,
      store,
      access: enforcing ? iam : undefined,
    };
    const functionsDirectory = path.join(workDirectory, stack, "functions");
    const nodeDirectory = path.join(workDirectory, "node");
    const lambda = new LambdaService(context, {
      credentialsFor: enforcing ? (functionName, roleArn) => iam.credentialsForFunction(functionName, roleArn) : undefined,
      workDirectory: functionsDirectory,
      nodeCacheDirectory: nodeDirectory,
      nodeModulesDirectory: path.join(projectDirectory, "node_modules"),
      nodePolicy: options.nodePolicy,
      asyncRetryDelaysMs: options.asyncRetryDelaysMs,
      maxProcessesPerFunction: options.maxProcessesPerFunction,
    });
    context.lambda = enforcing ? authorizingInvoker(lambda, iam, (name) => qualifiedFunctionArn(lambda, name)) : lambda;
    // Queue and topic policies set through the APIs are read by IAM's one parser when set, whatever the IAM mode.
    const sqs = new SqsService(context, readResourcePolicy);
    // Sends and publishes made on someone's behalf (tasks as the state machine's role, SNS delivering to a queue) are authorized.
    context.sqs = enforcing ? authorizingQueueSender(sqs.queues, iam, context.region) : sqs.queues;
    const sns = new SnsService(context, context.sqs, readResourcePolicy);
    context.sns = enforcing ? authorizingTopicPublisher(sns.api, iam) : sns.api;
    iam.useLivePolicies((arn) => {
      const queue = sqs.queues.byArn(arn);
      if (queue) return { policy: queue.attributes.get("Policy") ?? "", source: `queue policy of ${queue.name}` };
      const topic = sns.topics.find(arn);
      return topic && { policy: topic.attributes.get("Policy") ?? "", source: `topic policy of ${topic.name}` };
    });
    const stepFunctions = new StepFunctionsService(context);
    const httpApi = new HttpApiService(context, stepFunctions);
    const s3 = new S3Service(context);
    const port = Number(new URL(origin).port);
    const consoleService = new ConsoleService(stepFunctions, port, (executionArn) => iam.deniedCalls(executionArn));
    // Closed in reverse: Step Functions, then SNS deliveries, then the SQS pollers, then the functions they call;
    // the console's event streams last.
    services = [consoleService, lambda, sqs, sns, stepFunctions, httpApi, s3, new DynamoDbService(context)];
    stepFunctions.subscribe(({ executionArn, event }) => {
      if (event.type === "ExecutionStarted")
        options.log(
          "console",
          `${executionArn.slice(executionArn.lastIndexOf(":") + 1)} ${origin}/console/executions/${encodeURIComponent(executionArn)}`,
        );
    });
    const directory: HttpDirectory = {
      region: context.region,
      accountId: context.accountId,
      executionArnOfToken: (token) => stepFunctions.tokens.executionArnOf(token),
      objectExists: (bucket, key) => s3.objectExists(bucket, key),
    };
    const screen: Screen = (req, res, url, body, signingName) => iam.screen(req, res, url, body, signingName, directory);

    const byType = new Map<string, LocalService>();
    for (const service of services) for (const type of service.resourceTypes) byType.set(type, service);
    const unemulated: EvaluatedResource[] = [];
    const provisioned = new Map<LocalService, number>();
    for (const resource of program.resources) {
      const service = byType.get(resource.type);
      if (service) {
        try {
          await service.provision(resource, program.resources);
        } catch (error) {
          throw new Error(`${resource.type} "${resource.name}": ${(error as Error).message}`, { cause: error });
        }
        provisioned.set(service, (provisioned.get(service) ?? 0) + 1);
      } else if (!KEPT_TYPE.test(resource.type) && ((resource.custom && !resource.type.startsWith("pulumi:providers:")) || resource.remote))
        unemulated.push(resource);
    }

    const router = new Router(services);
    serveReady = (req, res) => serve(req, res, { port, router, api: httpApi, consoleService, screen }, options.log);
    const readyStatus = status;
    status = () => ({
      ...readyStatus(),
      origin,
      outputs: program.outputs,
      services: services.map((service) => ({
        signingNames: [...service.signingNames],
        resourceTypes: [...service.resourceTypes],
        resources: provisioned.get(service) ?? 0,
      })),
      runningExecutions: stepFunctions.runningExecutions().length,
    });
    await loading.close();
    await listen(server, loading.port);
    phase = "restoring";
    // Step Functions last, so the objects, items, messages and queued events its executions may touch are back first.
    const restored: string[] = [];
    for (const service of services.filter((service) => service !== stepFunctions)) {
      if (service.restore) restored.push(...(await service.restore()));
    }
    restored.unshift(...(await stepFunctions.restore()));
    phase = "ready";
    let closing: Promise<void> | undefined;
    let current = program;
    const watching = options.watch
      ? watchAndReload({
          source,
          servicesByType: byType,
          current: () => current,
          replace: (next) => (current = next),
          adopt: async (next, previous) => {
            // The mode is chosen at start (it decides which credentials functions got); the policies follow the program.
            if (options.iamMode === undefined && next.config[IAM_MODE_KEY] !== previous.config[IAM_MODE_KEY])
              options.log("reload", `${IAM_MODE_KEY} changed: IAM stays ${iam.mode} until a restart`);
            await iam.reload(next.resources);
          },
          log: options.log,
        })
      : undefined;
    return {
      origin,
      get program() {
        return current;
      },
      programFrom: cached ? "cache" : "evaluated",
      startMs: performance.now() - startedAt,
      warning: describeUnemulated(unemulated),
      get kept() {
        return current.resources.filter((resource) => KEPT_TYPE.test(resource.type));
      },
      iam,
      get routes() {
        return httpApi.describeRoutes();
      },
      stepFunctions,
      lambda,
      functionsDirectory,
      nodeDirectory,
      state: { directory: store.directory, restored },
      runningExecutions: () => stepFunctions.runningExecutions(),
      status: () => status(),
      close: () => {
        phase = "stopping";
        return (closing ??= (async () => {
          source.close();
          await watching?.close();
          await shutdown(server, services, store);
        })());
      },
    };
  } catch (error) {
    phase = "stopping";
    await loading.close();
    await shutdown(server, services, store);
    throw error;
  }
}

/** One request: read (bounded), route, answer; nothing a client sends may crash the runtime. */
async function serve(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  {
    port,
    router,
    api,
    consoleService,
    screen,
  }: { port: number; router: Router; api: HttpApiService; consoleService: ConsoleService; screen: Screen },
  log: LocalRuntimeOptions["log"],
): Promise<void> {
  try {
    // Before anything else, for every route (AWS APIs, the program's routes, the console): see common/loopback.ts.
    if (!isLoopbackHost(req.headers.host, port)) {
      res.setHeader("Connection", "close");
      return sendJson(res, 403, {
        __type: "Forbidden",
        message: `The local runtime answers only requests for 127.0.0.1:${port} or localhost:${port} (Host was ${JSON.stringify(req.headers.host ?? null)})`,
      });
    }
    const url = new URL(req.url ?? "/", "http://local");
    let body: Buffer;
    try {
      body = await readBody(req, MAX_REQUEST_BYTES);
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        res.setHeader("Connection", "close");
        return sendJson(res, 413, { message: `Request Entity Too Large: the local runtime accepts at most ${MAX_REQUEST_BYTES} bytes` });
      }
      throw error;
    }
    const destination = router.route(req, url);
    if (destination.kind === "service") {
      // IAM first: a refused call never reaches the service.
      if (screen(req, res, url, body, destination.signingName)) return;
      return await destination.service.handle(req, res, body);
    }
    if (destination.kind === "malformedSignature") return sendMalformedCredential(req, res, destination.signingName, destination.message);
    if (destination.kind === "unknownService") {
      return sendAwsJsonError(
        res,
        501,
        "NotImplemented",
        `The local runtime does not emulate the AWS service "${destination.signingName}" (emulated: ${router.signingNames.join(", ")})`,
      );
    }
    if (consoleService.claims(req.method ?? "GET", url.pathname, (method, path) => api.serves(method, path)))
      return await consoleService.handle(req, res, body);
    return await api.handle(req, res, body);
  } catch (error) {
    // A client that hung up mid-request is not a fault of the runtime: one quiet line, no stack.
    if (clientWentAway(req, res, error)) {
      log("runtime", `${req.method} ${req.url}: the client closed the connection before the answer`, "debug");
      return;
    }
    log("runtime", `internal error on ${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`, "error");
    if (!res.headersSent) sendAwsJsonError(res, 500, "InternalFailure", String((error as Error)?.message ?? error));
    else res.end();
  }
}

function clientWentAway(req: http.IncomingMessage, res: http.ServerResponse, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || res.destroyed || req.socket.destroyed;
}

/** Identifies and authorizes one AWS API request; true when it answered it (refused). */
type Screen = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer, signingName: string) => boolean;

/** Stack config keys of the local runtime itself (namespace "local", so no program declares them). */
export const IAM_MODE_KEY = "local:iam";
export const IAM_TERMINAL_KEY = "local:iamTerminalAccessKeys";

function iamModeOf(value: string | undefined): IamMode {
  if (value === undefined) return "enforce";
  if (!(IAM_MODES as readonly string[]).includes(value))
    throw new Error(`${IAM_MODE_KEY} must be one of ${IAM_MODES.join(", ")}, got "${value}"`);
  return value as IamMode;
}

/** "AKID1,AKID2": only these keys are the terminal; unset or "any": any credentials the runtime did not issue. */
function terminalKeysOf(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "" || value.trim() === "any") return undefined;
  return value
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean);
}

/** A function reference's ARN, with its qualifier (`name:$LATEST`, `arn...:function:name:1`); undefined if no such function. */
function qualifiedFunctionArn(lambda: LambdaService, reference: string): string | undefined {
  let functionArn: string;
  try {
    functionArn = lambda.resolve(reference).config.functionArn;
  } catch {
    return undefined;
  }
  const parts = reference.split(":");
  const qualified = parts.length === 2 || parts.length === 4 || parts.length === 8;
  return qualified ? `${functionArn}:${parts[parts.length - 1]}` : functionArn;
}

function listen(server: http.Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} is in use: set PORT (or --port) to another port, or 0 for any free one`)
          : error,
      ),
    );
    server.listen(port, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

async function shutdown(server: http.Server, services: readonly LocalService[], store: StateStore): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  // Step Functions first (stops timers, reports running executions), then the functions it calls.
  for (const service of [...services].reverse()) await service.close().catch(() => undefined);
  await closed;
  // Last: whatever the services wrote while stopping is committed, then the lock is released.
  store.close();
}

function describeUnemulated(resources: readonly EvaluatedResource[]): string | undefined {
  if (resources.length === 0) return undefined;
  const byType = new Map<string, string[]>();
  for (const resource of resources) byType.set(resource.type, [...(byType.get(resource.type) ?? []), resource.name]);
  const list = [...byType].map(([type, names]) => `${type} (${names.join(", ")})`).join("; ");
  const restHint = [...byType.keys()].some((type) => type.startsWith("aws:apigateway/"))
    ? ". REST APIs (API Gateway v1, e.g. awsx's) are not served locally: the HTTP API variant is"
    : "";
  return `Not emulated locally, declared only (nothing runs for them): ${list}${restHint}`;
}
