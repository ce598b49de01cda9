/**
 * Starts the real program with the CLI (`npm start`'s command) in a child process on a free port, and offers
 * what a user has: HTTP to the printed origin and the AWS SDK pointed at it. Nothing in-process is shared.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";

export const REPOSITORY = path.resolve(__dirname, "../../..");

export interface RuntimeProcess {
  origin: string;
  /** The runtime's process id (benchmarks read its memory). */
  pid: number;
  /** Stack outputs as printed ("name" → value text). */
  outputs: Record<string, string>;
  /** Everything printed so far. */
  output(): string;
  /** Calls `listener` with each complete line printed from now on. */
  onLine(listener: (line: string) => void): void;
  sfn: SFNClient;
  /** Ends it with SIGTERM; resolves with the exit code and what it printed after. */
  stop(): Promise<{ code: number | null; output: string }>;
  /** Ends it with SIGKILL (kill -9: no clean-up of any kind); resolves once it is gone. */
  crash(): Promise<void>;
}

/** A fresh, empty state folder (each runtime a test starts gets its own unless the test passes --state-dir). */
export function temporaryStateDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "sfn-callback-state-"));
}

export async function startRuntime(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RuntimeProcess> {
  // A state folder made here is this runtime's alone, removed when it ends.
  const ownStateDirectory = args.includes("--state-dir") || args.includes("--state") ? undefined : temporaryStateDirectory();
  const stateArgs = ownStateDirectory ? ["--state-dir", ownStateDirectory] : [];
  const removeOwnState = () => ownStateDirectory && fs.rmSync(ownStateDirectory, { recursive: true, force: true });
  // `npm start`'s own entry (local/start.js: esbuild, with its transpile cache), not ts-node: what users run, and
  // some 3 s less CPU per runtime a test starts.
  const child = spawn(process.execPath, ["local/start.js", ...stateArgs, ...args], {
    cwd: REPOSITORY,
    env: { ...process.env, PORT: "0", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const lineListeners: Array<(line: string) => void> = [];
  let partial = "";
  child.stdout!.on("data", (chunk) => {
    text += chunk;
    if (lineListeners.length === 0) return;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) for (const listener of lineListeners) listener(line);
  });
  child.stderr!.on("data", (chunk) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start in 300 s:\n${text}`)), 300_000);
    const check = () => {
      const match = /^Local origin: (http:\/\/127\.0\.0\.1:\d+)/m.exec(text);
      if (match && text.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before serving:\n${text}`));
    });
  });

  const outputs: Record<string, string> = {};
  const table = text.slice(text.indexOf("Current stack outputs"), text.indexOf("Local origin:"));
  for (const line of table.split("\n").slice(2)) {
    const match = /^ {4}(\S+)\s+(.+)$/.exec(line);
    if (match) outputs[match[1]] = match[2];
  }
  const sfn = new SFNClient({
    endpoint: origin,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDE2E", secretAccessKey: "e2e" },
    maxAttempts: 1,
  });
  return {
    origin,
    pid: child.pid!,
    outputs,
    output: () => text,
    onLine: (listener) => {
      partial = "";
      lineListeners.push(listener);
    },
    sfn,
    stop: async () => {
      sfn.destroy();
      const before = text.length;
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      removeOwnState();
      return { code, output: text.slice(before) };
    },
    crash: async () => {
      sfn.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      removeOwnState();
    },
  };
}

/** Polls DescribeExecution until the execution is no longer RUNNING. */
export async function waitForEnd(
  runtime: RuntimeProcess,
  executionArn: string,
  timeoutMs = 15_000,
): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await runtime.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== "RUNNING") return described;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The whole history, following nextToken pages. */
export async function historyOf(runtime: RuntimeProcess, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await runtime.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 5 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * The task token of the execution's waiting callback task, read where AWS exposes it: the resolved
 * parameters of its TaskScheduled event (`Payload.taskToken`).
 */
export async function waitingTaskToken(runtime: RuntimeProcess, executionArn: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await historyOf(runtime, executionArn);
    const submitted = events.some((event) => event.type === "TaskSubmitted");
    const scheduled = events
      .filter((event) => event.type === "TaskScheduled")
      .map((event) => JSON.parse(event.taskScheduledEventDetails!.parameters!));
    const token = scheduled.map((parameters) => parameters.Payload?.taskToken).find((value) => typeof value === "string");
    if (submitted && token) return token;
    if (Date.now() > deadline) throw new Error(`no waiting task token in ${executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `GET /start?input=<JSON>`, as a user would call the printed startUrl. */
export async function start(runtime: RuntimeProcess, input: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${runtime.outputs.startUrl}?input=${encodeURIComponent(JSON.stringify(input))}`);
  return { status: response.status, body: await response.json() };
}
