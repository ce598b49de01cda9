/**
 * The floor of the end-to-end callback path: the same transport and the same user code as `bench/e2e.ts`, with no
 * emulator logic, so e2e can print ours / floor measured side by side in one run (absolute figures on a shared
 * machine are noise). Per execution, the hops the runtime makes, and only those:
 *
 * - a plain `node:http` server in its own process answers `GET /start` with an execution ARN;
 * - it hands the input over IPC to the "SplitDoc" worker process, which runs the demo's own `splitDoc` handler and
 *   answers over IPC (the runtime's `lambda:invoke` round trip to SplitDoc's process);
 * - it hands `{taskToken, input}` over IPC to the "receiver" worker process, which runs the demo's own
 *   `processAndCheckCompletion` handler: the real AWS SDK v3 `SendTaskSuccess` over HTTP back to the server, then
 *   its result over IPC (the runtime's `.waitForTaskToken` invocation of the token's function);
 * - the server parses the JSON-protocol request, answers `{}`, and once the receiver's result is back prints
 *   `[states] <name> - ExecutionSucceeded`, the line e2e waits for from the runtime too.
 *
 * The workers run on the Node the runtime gives the demo's functions (24, for `nodejs24.x`). What the floor leaves
 * out is the emulator: no API Gateway, no state machine, no history or store, no SigV4 check, no log of the
 * functions' output, and by default no Lambda process pool (each worker takes every message as it comes, where a
 * Lambda environment takes one invocation at a time; `BENCH_FLOOR_LAMBDA=1` adds that pool, below). Until
 * 2026-11-27 the floor made one hop per execution (the token to one of two workers round robin, no SplitDoc, no
 * results over IPC) on the machine's Node: fewer hops than the path it stood for.
 *
 * `startFloor()` starts it; `node -r ts-node/register bench/floor.ts` serves it on its own (port from $PORT).
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { FAILURE_RATE_ENV, processAndCheckCompletionFactory } from "../handlers/processAndCheckCompletion";
import { splitDocFactory } from "../handlers/splitDoc";
import { nodeBinaryForRuntime } from "../local/lambda/nodeRuntime";

/** A worker's part: which handler its process runs. */
type Role = "split" | "receiver";

/** Server → worker: one invocation; worker → server: its result (JSON), or the error it threw. */
interface Invocation {
  id: number;
  payload: string;
}
interface InvocationResult {
  id: number;
  result?: string;
  error?: string;
}

export interface FloorProcess {
  startUrl: string;
  /** Which Node its workers run on, and how many per function (printed beside the figures). */
  workers: string;
  /** The server's process id (its two workers are its children). */
  pid: number;
  /** Calls `listener` with each complete line the server prints. */
  onLine(listener: (line: string) => void): void;
  stop(): Promise<void>;
}

/** Starts the floor server (and its two workers) in a child process, as the e2e bench starts the runtime. */
export async function startFloor(): Promise<FloorProcess> {
  const child = spawn(process.execPath, ["-r", "ts-node/register", __filename, "--serve"], {
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const listeners: Array<(line: string) => void> = [];
  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) for (const listener of listeners) listener(line);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let workers = "";
  const origin = await new Promise<string>((resolve, reject) => {
    const ready = (line: string) => {
      if (line.startsWith("Floor workers: ")) workers = line.slice("Floor workers: ".length);
      const match = /^Floor origin: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (match) resolve(match[1]);
    };
    listeners.push(ready);
    void exited.then(() => reject(new Error("the floor server exited before serving")));
  });
  listeners.length = 0;
  return {
    startUrl: `${origin}/start`,
    workers,
    pid: child.pid!,
    onLine: (listener) => void listeners.push(listener),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * The floor's model of a function: its processes, and how many invocations each takes at once. By default one
 * process taking every message as it comes (the transport alone). `BENCH_FLOOR_LAMBDA=1` gives it the runtime's
 * Lambda model instead: up to LOCAL_LAMBDA_MAX_PROCESSES processes (4 by default, as the runtime) each taking one
 * invocation at a time, the rest waiting in arrival order; it shows what that model costs apart from the emulator.
 */
const LAMBDA_MODEL = process.env.BENCH_FLOOR_LAMBDA === "1";
const PROCESSES_PER_ROLE = LAMBDA_MODEL ? Number(process.env.LOCAL_LAMBDA_MAX_PROCESSES ?? 4) : 1;

/** One role's processes; `send` hands an invocation to a free one, or queues it until one is free. */
class Pool {
  private readonly idle: ChildProcess[] = [];
  private readonly queue: Invocation[] = [];

  constructor(
    private readonly start: () => ChildProcess,
    private readonly onResult: (result: InvocationResult) => void,
  ) {}

  send(invocation: Invocation): void {
    if (!LAMBDA_MODEL) return void this.processFor().send(invocation);
    const worker = this.idle.pop() ?? (this.started.length < PROCESSES_PER_ROLE ? this.processFor(true) : undefined);
    if (worker) worker.send(invocation);
    else this.queue.push(invocation);
  }

  stop(): void {
    for (const worker of this.started) worker.kill("SIGTERM");
  }

  private readonly started: ChildProcess[] = [];

  private processFor(fresh = false): ChildProcess {
    if (!fresh && this.started.length > 0) return this.started[0];
    const worker = this.start();
    this.started.push(worker);
    worker.on("message", (result: InvocationResult) => {
      if (LAMBDA_MODEL) {
        const next = this.queue.shift();
        if (next) worker.send(next);
        else this.idle.push(worker);
      }
      this.onResult(result);
    });
    return worker;
  }
}

function serve(): void {
  let origin = "";
  let nodeExecutable = process.execPath;
  let executions = 0;
  /** Executions handed to the receiver: whether SendTaskSuccess has arrived for them yet. */
  const answered = new Map<number, boolean>();
  const fail = (message: string) => {
    process.stderr.write(`floor: ${message}\n`);
    process.exitCode = 1;
  };
  const startWorker = (role: Role) => () =>
    fork(__filename, ["--worker", role], {
      // The Node the runtime's function processes run on (the demo's functions are nodejs24.x), with ts-node.
      execPath: nodeExecutable,
      execArgv: ["-r", "ts-node/register"],
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: origin,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDFLOOR",
        AWS_SECRET_ACCESS_KEY: "floor",
        [FAILURE_RATE_ENV]: "0",
      },
    });
  const splitDone = ({ id, result, error }: InvocationResult) => {
    if (error !== undefined || result === undefined) return fail(`SplitDoc failed for floor-${id}: ${error}`);
    answered.set(id, false);
    receiver.send({ id, payload: `{"taskToken":"floor-${id}","input":${result}}` });
  };
  const receiverDone = ({ id, error }: InvocationResult) => {
    const wasAnswered = answered.get(id);
    answered.delete(id);
    if (error !== undefined || !wasAnswered) return fail(`the receiver of floor-${id} ended without SendTaskSuccess: ${error}`);
    process.stdout.write(`[states] floor-${id} - ExecutionSucceeded\n`);
  };
  const split = new Pool(startWorker("split"), splitDone);
  const receiver = new Pool(startWorker("receiver"), receiverDone);
  const server = http.createServer((request, response) => {
    if (request.method === "GET" && request.url?.startsWith("/start")) {
      const id = ++executions;
      const executionArn = `arn:aws:states:us-east-1:000000000000:execution:Floor:floor-${id}`;
      const input = new URL(request.url, origin).searchParams.get("input") ?? "{}";
      split.send({ id, payload: input });
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ executionArn }));
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { taskToken } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { taskToken: string };
      const id = Number(taskToken.slice("floor-".length));
      if (answered.get(id) !== false) {
        response.writeHead(400, { "content-type": "application/x-amz-json-1.0" }).end('{"__type":"InvalidToken"}');
        return fail(`SendTaskSuccess for ${taskToken}, which is not waiting`);
      }
      answered.set(id, true);
      response.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
    });
  });
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    void nodeBinaryForRuntime("nodejs24.x", {
      cacheDirectory: path.join(__dirname, "..", ".local", "node"),
      policy: process.env.LOCAL_LAMBDA_NODE === "machine" ? "machine" : "runtime",
    }).then((binary) => {
      nodeExecutable = binary.executable;
      process.stdout.write(
        `Floor workers: Node ${binary.version}, ${PROCESSES_PER_ROLE} per function${LAMBDA_MODEL ? ", one invocation each at a time" : ""}\n`,
      );
      process.stdout.write(`Floor origin: ${origin}\n`);
    });
  });
  process.once("SIGTERM", () => {
    split.stop();
    receiver.stop();
    server.close();
    server.closeAllConnections();
  });
}

/** A worker: runs its handler, as the Lambda's factory makes it once per process, on every message as it comes. */
function work(role: Role): void {
  const handler: (event: never) => Promise<unknown> = role === "split" ? splitDocFactory() : processAndCheckCompletionFactory();
  process.on("message", ({ id, payload }: Invocation) => {
    handler(JSON.parse(payload) as never).then(
      (result) => process.send!({ id, result: JSON.stringify(result) } satisfies InvocationResult),
      (error: unknown) => process.send!({ id, error: String(error) } satisfies InvocationResult),
    );
  });
  process.once("SIGTERM", () => process.exit());
}

if (require.main === module) {
  const worker = process.argv.indexOf("--worker");
  if (worker >= 0) work(process.argv[worker + 1] as Role);
  else serve();
}
