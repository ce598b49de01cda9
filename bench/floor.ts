/**
 * The floor of the end-to-end callback path: the same transport as `bench/e2e.ts` with no emulator logic, so
 * e2e can print ours / floor measured side by side in one run (absolute figures on a shared machine are noise).
 *
 * - a plain `node:http` server in its own process answers `GET /start` with an execution ARN and hands the
 *   "task token" over IPC to one of two worker processes (round robin), as the runtime hands it to a function;
 * - the worker calls the real AWS SDK v3 `SendTaskSuccess` over HTTP back to that server;
 * - the server parses the JSON-protocol request, answers `{}` and prints `[states] <name> - ExecutionSucceeded`,
 *   the line e2e waits for from the runtime too.
 *
 * `startFloor()` starts it; `node -r ts-node/register bench/floor.ts` serves it on its own (port from $PORT).
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";

const WORKERS = 2;

export interface FloorProcess {
  startUrl: string;
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
  const origin = await new Promise<string>((resolve, reject) => {
    const ready = (line: string) => {
      const match = /^Floor origin: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (match) resolve(match[1]);
    };
    listeners.push(ready);
    void exited.then(() => reject(new Error("the floor server exited before serving")));
  });
  listeners.length = 0;
  return {
    startUrl: `${origin}/start`,
    pid: child.pid!,
    onLine: (listener) => void listeners.push(listener),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

function serve(): void {
  const workers: ChildProcess[] = Array.from({ length: WORKERS }, () => fork(__filename, ["--worker"]));
  let executions = 0;
  const server = http.createServer((request, response) => {
    if (request.method === "GET" && request.url?.startsWith("/start")) {
      const name = `floor-${++executions}`;
      const executionArn = `arn:aws:states:us-east-1:000000000000:execution:Floor:${name}`;
      workers[executions % WORKERS].send({ origin, taskToken: name });
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ executionArn }));
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { taskToken } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { taskToken: string };
      response.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      process.stdout.write(`[states] ${taskToken} - ExecutionSucceeded\n`);
    });
  });
  let origin = "";
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.stdout.write(`Floor origin: ${origin}\n`);
  });
  process.once("SIGTERM", () => {
    for (const worker of workers) worker.kill("SIGTERM");
    server.close();
    server.closeAllConnections();
  });
}

function work(): void {
  let sfn: SFNClient | undefined;
  process.on("message", (message: { origin: string; taskToken: string }) => {
    sfn ??= new SFNClient({
      endpoint: message.origin,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDFLOOR", secretAccessKey: "floor" },
    });
    sfn.send(new SendTaskSuccessCommand({ taskToken: message.taskToken, output: "{}" })).catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  });
  process.once("SIGTERM", () => process.exit());
}

if (require.main === module) {
  if (process.argv.includes("--worker")) work();
  else serve();
}
