/**
 * `npm start [-- --stack dev -c key=value ... --port N]`: runs the Pulumi program offline on one local
 * origin (see docs/local-runtime.md).
 */
import { parseArgs } from "node:util";
import { createLogger } from "./host/logger";
import { IAM_MODES, startLocalRuntime, isProjectDirectory, type IamMode, type LocalRuntime } from "./host/runtime";

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

On start it prints the stack outputs as \`pulumi stack output\` does, then live logs: state transitions
([states]) and each function's log lines ([<function name>]). Ctrl-C (or SIGTERM) stops cleanly: function
processes are ended and the executions still open are listed.`;

interface CliOptions {
  stack: string;
  config: string[];
  port: number;
  cwd: string;
  iam?: IamMode;
}

function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): CliOptions | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string", short: "s", default: "dev" },
      config: { type: "string", short: "c", multiple: true, default: [] },
      port: { type: "string", short: "p" },
      cwd: { type: "string", short: "C" },
      iam: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (config overrides go after -c)`);
  const portText = values.port ?? env.PORT ?? "3000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`port must be a number from 0 to 65535, got "${portText}"`);
  if (values.iam !== undefined && !(IAM_MODES as readonly string[]).includes(values.iam))
    throw new UsageError(`--iam must be one of ${IAM_MODES.join(", ")}, got "${values.iam}"`);
  return { stack: values.stack!, config: values.config!, port, cwd: values.cwd ?? process.cwd(), iam: values.iam as IamMode | undefined };
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

async function main(): Promise<void> {
  let options: CliOptions | "help";
  try {
    options = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\nRun \`npm start -- --help\` for usage.\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (!isProjectDirectory(options.cwd)) {
    process.stderr.write(`error: no Pulumi.yaml in ${options.cwd}; run from the project directory or pass --cwd\n`);
    process.exit(2);
  }

  const log = createLogger(process.stdout);
  let runtime: LocalRuntime;
  try {
    const environmentOptions = {
      nodePolicy: process.env.LOCAL_LAMBDA_NODE === "machine" ? ("machine" as const) : ("runtime" as const),
      asyncRetryDelaysMs: parseRetryDelays(process.env.LOCAL_LAMBDA_ASYNC_RETRY_DELAYS),
      maxProcessesPerFunction: parseProcessLimit(process.env.LOCAL_LAMBDA_MAX_PROCESSES),
    };
    runtime = await startLocalRuntime({
      ...environmentOptions,
      projectDirectory: options.cwd,
      stack: options.stack,
      configOverrides: options.config,
      port: options.port,
      iamMode: options.iam,
      log,
    });
  } catch (error) {
    log.flush();
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }

  const out = (text: string) => {
    log.flush();
    process.stdout.write(`${text}\n`);
  };
  out(formatStackOutputs(runtime.program.outputs));
  out("");
  out(`Local origin: ${runtime.origin}   (stack ${options.stack}; AWS SDK/CLI: AWS_ENDPOINT_URL=${runtime.origin})`);
  for (const route of runtime.routes) out(`  route ${route}`);
  for (const [name, fn] of runtime.lambda.declaredFunctions)
    out(`  function ${name} (${fn.config.runtime} on Node ${fn.config.nodeVersion}, timeout ${fn.config.timeoutSeconds} s)`);
  out(runtime.iam.describe());
  if (runtime.warning) out(`warning: ${runtime.warning}`);
  out("Press Ctrl-C to stop.");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      out(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    out(`\n${signal}: stopping`);
    await runtime.close();
    const open = runtime.runningExecutions();
    if (open.length === 0) out("No executions were open.");
    else {
      out(`Executions still open when stopped (${open.length}), lost with this process:`);
      for (const execution of open)
        out(`  ${execution.executionArn}  started ${execution.startDate.toISOString()}, last event ${execution.lastEventType}`);
    }
    log.flush();
    process.exit(0);
  };
  // A fault inside one emulated service must not take the others (and every open execution) down with it.
  process.on("unhandledRejection", (reason) => log("runtime", `internal error (still running): ${(reason as Error)?.stack ?? reason}`));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

if (require.main === module) void main();
