/**
 * `npm start [-- --stack dev -c key=value ... --port N]`: runs the Pulumi program offline on one local
 * origin (see docs/local-runtime.md).
 */
import { parseArgs } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LogLevel } from "./common/service";
import { createLogger, LOG_LEVELS } from "./host/logger";
import { watchParent } from "./host/parentWatch";
import type { LocalRuntime } from "./host/runtime";
import { IAM_MODES, type IamMode } from "./iam/modes";

const HELP = `Usage: npm start -- [options]

Runs the Pulumi program (index.ts) offline: evaluates it for a stack under Pulumi's mock engine and serves
every declared resource locally on one origin, http://127.0.0.1:<port>: the program's API routes, and the
AWS APIs (Step Functions, Lambda, S3, DynamoDB) for the AWS SDK and CLI with AWS_ENDPOINT_URL=<origin>.

Options:
  -s, --stack NAME        Stack whose config to use (Pulumi.<NAME>.yaml). Default: dev
  -c, --config KEY=VALUE  Config override, like \`pulumi up -c\`; repeatable. A bare KEY is in the
                          project's namespace; typed per Pulumi.yaml's declarations.
                          Example: -c heartbeatSeconds=3 -c failureRate=0
  -p, --port N            Port on 127.0.0.1 (0: any free port). Default: $PORT, else 3000
  -C, --cwd DIR           Project directory (holding Pulumi.yaml). Default: the current directory
  -l, --log-level LEVEL   error, warn, info or debug. Default: info (debug adds requests whose client hung up)
  -q, --quiet             Same as --log-level warn: only failed executions, warnings and errors
  -t, --timestamps        Start each log line with its time (ISO 8601, UTC)
      --reset             Start from empty state: forget every execution, token, S3 object, DynamoDB
                          item and queued event kept in .local/<stack>/state
      --state KIND        durable (default): state survives a restart or a crash, in .local/<stack>/state;
                          memory: nothing is kept
      --state-dir DIR     Keep durable state in DIR instead of .local/<stack>/state
      --no-watch          Do not reload the program when its sources change (watch mode is on by default:
                          an edit of index.ts, components/, handlers/ or Pulumi*.yaml is applied in place)
      --iam MODE          IAM enforcement: enforce (a call the deployed policies would deny fails with
                          AWS's AccessDenied), warn (logged, allowed) or off. Default: the stack config
                          key local:iam, else enforce. The terminal's credentials are always allowed;
                          -c local:iamTerminalAccessKeys=AKID1,AKID2 accepts only those keys
  -h, --help              This help

Environment:
  PORT                            Port, when --port is not given
  LOCAL_LAMBDA_NODE=machine       Run functions on this machine's Node instead of downloading the Node
                                  major their runtime names (nodejs24.x → Node 24, from the npm registry)
  LOCAL_LAMBDA_MAX_PROCESSES=N    Warm processes per function without reserved concurrency. Default: 4
  LOCAL_LAMBDA_ASYNC_RETRY_DELAYS Seconds before retrying a failed asynchronous invocation, comma-separated.
                                  Default: 60,120 (Lambda's)
  NO_COLOR                        No colours in the log (there are none when output is not a terminal)

While the program loads, every request gets 503 with Retry-After; GET /_local/health answers 200 with the
stack outputs once ready. On start it prints the effective config and the stack outputs as \`pulumi stack
output\` does, then live logs: state transitions ([states]) and each function's log lines ([<function name>]).
Ctrl-C, SIGTERM or SIGHUP (also sent to npm) stops cleanly: function processes are ended and the executions
still open are listed.`;

/** A setting's value and where it came from, for the banner. */
interface Sourced<T> {
  value: T;
  from: string;
}

interface CliOptions {
  stack: Sourced<string>;
  config: string[];
  port: Sourced<number>;
  cwd: string;
  logLevel: Sourced<LogLevel>;
  timestamps: boolean;
  reset: boolean;
  state: "durable" | "memory";
  stateDirectory?: string;
  watch: boolean;
  iam?: IamMode;
}

function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): CliOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string", short: "s" },
      config: { type: "string", short: "c", multiple: true, default: [] },
      port: { type: "string", short: "p" },
      cwd: { type: "string", short: "C" },
      "log-level": { type: "string", short: "l" },
      quiet: { type: "boolean", short: "q", default: false },
      timestamps: { type: "boolean", short: "t", default: false },
      reset: { type: "boolean", default: false },
      state: { type: "string", default: "durable" },
      "state-dir": { type: "string" },
      iam: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      "no-watch": { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (config overrides go after -c)`);
  const portText = values.port ?? env.PORT ?? "3000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`port must be a number from 0 to 65535, got "${portText}"`);
  const levelText = values["log-level"];
  if (levelText !== undefined && !LOG_LEVELS.includes(levelText as LogLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${levelText}"`);
  if (levelText !== undefined && values.quiet) throw new UsageError("--quiet and --log-level cannot be used together");
  if (values.state !== "durable" && values.state !== "memory")
    throw new UsageError(`--state must be durable or memory, got "${values.state}"`);
  if (values.iam !== undefined && !(IAM_MODES as readonly string[]).includes(values.iam))
    throw new UsageError(`--iam must be one of ${IAM_MODES.join(", ")}, got "${values.iam}"`);
  return {
    stack: values.stack !== undefined ? { value: values.stack, from: "--stack" } : { value: "dev", from: "default" },
    config: values.config!,
    port: { value: port, from: values.port !== undefined ? "--port" : env.PORT !== undefined ? "$PORT" : "default" },
    cwd: values.cwd ?? process.cwd(),
    logLevel: values.quiet
      ? { value: "warn", from: "--quiet" }
      : levelText !== undefined
        ? { value: levelText as LogLevel, from: "--log-level" }
        : { value: "info", from: "default" },
    timestamps: values.timestamps!,
    reset: values.reset!,
    state: values.state,
    stateDirectory: values["state-dir"],
    watch: !values["no-watch"],
    iam: values.iam as IamMode | undefined,
  };
}

class UsageError extends Error {}

/** `pulumi stack output` layout: a header, then name and value columns; structured values as JSON. */
export function formatStackOutputs(outputs: Record<string, unknown>): string {
  const names = Object.keys(outputs).sort();
  const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
  const width = Math.max("OUTPUT".length, ...names.map((name) => name.length)) + 2;
  const lines = [`Current stack outputs (${names.length}):`, `    ${"OUTPUT".padEnd(width)}VALUE`];
  for (const name of names) lines.push(`    ${name.padEnd(width)}${show(outputs[name])}`);
  return lines.join("\n");
}

/** The effective config, one key a line with its value and where it came from (stack config, then the runtime's own settings). */
export function formatEffectiveConfig(rows: ReadonlyArray<[key: string, value: string, from: string]>): string {
  const keyWidth = Math.max("KEY".length, ...rows.map(([key]) => key.length)) + 2;
  const valueWidth = Math.max("VALUE".length, ...rows.map(([, value]) => value.length)) + 2;
  const lines = [`Effective config (${rows.length}):`, `    ${"KEY".padEnd(keyWidth)}${"VALUE".padEnd(valueWidth)}FROM`];
  for (const [key, value, from] of rows) lines.push(`    ${key.padEnd(keyWidth)}${value.padEnd(valueWidth)}${from}`);
  return lines.join("\n");
}

function parseRetryDelays(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  const seconds = text.split(",").map((part) => Number(part.trim()));
  if (seconds.some((value) => !Number.isFinite(value) || value < 0))
    throw new UsageError(`LOCAL_LAMBDA_ASYNC_RETRY_DELAYS must be seconds, comma-separated, got "${text}"`);
  return seconds.map((value) => value * 1000);
}

function parseProcessLimit(text: string | undefined): number | undefined {
  if (!text) return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`LOCAL_LAMBDA_MAX_PROCESSES must be a whole number of at least 1, got "${text}"`);
  return Number(text);
}

/** Stopping never takes longer than this: past it the process exits anyway (function processes are already killed). */
const STOP_DEADLINE_MS = 8_000;

/** The banner's state line: where state lives and what came back from it. */
export function describeState(state: LocalRuntime["state"], reset: boolean): string {
  if (!state.directory) return "State: in memory only (--state memory): nothing is kept after this process ends.";
  const restored = reset ? "started empty (--reset)" : `restored ${state.restored.join(", ")}`;
  return `State: ${state.directory} (survives restarts and crashes; --reset starts clean); ${restored}`;
}

/** Runs the CLI (local/start.js calls it; so does `node -r ts-node/register local/cli.ts`). */
export async function main(): Promise<void> {
  let options: CliOptions | "help";
  let environmentOptions: {
    nodePolicy: "runtime" | "machine";
    asyncRetryDelaysMs?: number[];
    maxProcessesPerFunction?: number;
  };
  try {
    options = parseCommandLine(process.argv.slice(2), process.env);
    environmentOptions = {
      nodePolicy: process.env.LOCAL_LAMBDA_NODE === "machine" ? "machine" : "runtime",
      asyncRetryDelaysMs: parseRetryDelays(process.env.LOCAL_LAMBDA_ASYNC_RETRY_DELAYS),
      maxProcessesPerFunction: parseProcessLimit(process.env.LOCAL_LAMBDA_MAX_PROCESSES),
    };
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\nRun \`npm start -- --help\` for usage.\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (!fs.existsSync(path.join(options.cwd, "Pulumi.yaml")) && !fs.existsSync(path.join(options.cwd, "Pulumi.yml"))) {
    process.stderr.write(`error: no Pulumi.yaml in ${options.cwd}; run from the project directory or pass --cwd\n`);
    process.exit(2);
  }
  // Output may be a pipe whose reader (npm, a terminal) is already gone while we stop: never crash on it.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

  const log = createLogger(process.stdout, process.env, { level: options.logLevel.value, timestamps: options.timestamps });

  const out = (text: string) => {
    log.flush();
    process.stdout.write(`${text}\n`);
  };

  let runtime: LocalRuntime | undefined;
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) {
      out(`${reason} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    out(`\n${reason}: stopping`);
    setTimeout(() => {
      out(`still stopping after ${STOP_DEADLINE_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    if (!runtime) {
      // Still loading: the origin and any function process started so far end with this process.
      log.flush();
      process.exit(0);
    }
    await runtime.close();
    const open = runtime.runningExecutions();
    if (open.length === 0) out("No executions were open.");
    else if (runtime.state.directory) {
      out(`Executions still open when stopped (${open.length}), kept in ${runtime.state.directory}: they continue at the next start:`);
      for (const execution of open)
        out(`  ${execution.executionArn}  started ${execution.startDate.toISOString()}, last event ${execution.lastEventType}`);
    } else {
      out(`Executions still open when stopped (${open.length}), lost with this process (--state memory):`);
      for (const execution of open)
        out(`  ${execution.executionArn}  started ${execution.startDate.toISOString()}, last event ${execution.lastEventType}`);
    }
    log.flush();
    process.exit(0);
  };
  // A fault inside one emulated service must not take the others (and every open execution) down with it.
  process.on("unhandledRejection", (reason) =>
    log("runtime", `internal error (still running): ${(reason as Error)?.stack ?? reason}`, "error"),
  );
  // SIGHUP: the terminal closed (or \`kill -HUP\`); like Ctrl-C and SIGTERM, stop cleanly rather than die mid-write.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));
  watchParent((description) => void stop(`${description}`));

  try {
    // Loaded only now: the runtime pulls in Pulumi and the AWS SDK (seconds), which --help and a usage error need not wait for.
    const { startLocalRuntime } = await import("./host/runtime");
    runtime = await startLocalRuntime({
      watch: options.watch,
      ...environmentOptions,
      projectDirectory: options.cwd,
      stack: options.stack.value,
      configOverrides: options.config,
      port: options.port.value,
      state: options.state,
      reset: options.reset,
      stateDirectory: options.stateDirectory,
      iamMode: options.iam,
      log,
      onListening: (origin) => out(`Listening on ${origin}; loading the program (stack ${options.stack.value})…`),
    });
  } catch (error) {
    log.flush();
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
  if (stopping) return;

  const { program } = runtime;
  const runtimeRows: Array<[string, string, string]> = [
    ["stack", options.stack.value, options.stack.from],
    ["port", String(new URL(runtime.origin).port), options.port.from + (options.port.value === 0 ? " (0: any free port)" : "")],
    [
      "region",
      program.cloud.region,
      program.config["aws:region"] !== undefined ? "aws:region" : process.env.AWS_REGION ? "$AWS_REGION" : "default",
    ],
    ["log-level", options.logLevel.value, options.logLevel.from],
    ["iam", runtime.iam.mode, options.iam !== undefined ? "--iam" : program.config["local:iam"] !== undefined ? "local:iam" : "default"],
    ["LOCAL_LAMBDA_NODE", environmentOptions.nodePolicy, process.env.LOCAL_LAMBDA_NODE ? "$LOCAL_LAMBDA_NODE" : "default"],
    [
      "LOCAL_LAMBDA_MAX_PROCESSES",
      String(environmentOptions.maxProcessesPerFunction ?? 4),
      environmentOptions.maxProcessesPerFunction ? "$LOCAL_LAMBDA_MAX_PROCESSES" : "default",
    ],
    [
      "LOCAL_LAMBDA_ASYNC_RETRY_DELAYS",
      (environmentOptions.asyncRetryDelaysMs ?? [60_000, 120_000]).map((ms) => ms / 1000).join(","),
      environmentOptions.asyncRetryDelaysMs ? "$LOCAL_LAMBDA_ASYNC_RETRY_DELAYS" : "default",
    ],
  ];
  const stackRows = Object.keys(program.config)
    .sort()
    .map((key): [string, string, string] => [key, program.config[key], program.configSources[key] ?? "?"]);
  out(formatEffectiveConfig([...stackRows, ...runtimeRows]));
  const relative = (directory: string) => path.relative(options.cwd, directory) || ".";
  out(describeState(runtime.state, options.reset));
  out(`Function code in ${relative(runtime.functionsDirectory)}/, Node builds in ${relative(runtime.nodeDirectory)}/.`);
  out("");
  out(formatStackOutputs(program.outputs));
  out("");
  out(
    runtime.programFrom === "cache"
      ? `Program unchanged since its last evaluation: reused .local/${options.stack.value}/program.json (Pulumi not run)`
      : `Program evaluated (cached in .local/${options.stack.value}/program.json for the next start)`,
  );
  if (options.watch) out("Watching the program's sources: an edit reloads it in place (--no-watch to turn off).");
  out(`Local origin: ${runtime.origin}   (stack ${options.stack.value}; AWS SDK/CLI: AWS_ENDPOINT_URL=${runtime.origin})`);
  out(`  health GET ${runtime.origin}/_local/health`);
  for (const route of runtime.routes) out(`  route ${route}`);
  for (const [name, fn] of runtime.lambda.declaredFunctions)
    out(`  function ${name} (${fn.config.runtime} on Node ${fn.config.nodeVersion}, timeout ${fn.config.timeoutSeconds} s)`);
  out(runtime.iam.describe());
  if (runtime.warning) out(`warning: ${runtime.warning}`);
  out("Press Ctrl-C to stop.");
}

if (require.main === module) void main();
