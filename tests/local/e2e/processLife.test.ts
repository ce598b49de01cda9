/**
 * The runtime's process life as a user meets it: the real `npm start` (npm 11 runs the script through
 * `sh -c`), a real request while it loads, and real signals to npm's own process.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import { REPOSITORY } from "./runtimeProcess";

interface NpmStart {
  npm: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

function npmStart(): NpmStart {
  const npm = spawn("npm", ["start", "--", "-c", "failureRate=0"], {
    cwd: REPOSITORY,
    env: { ...process.env, PORT: "0", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  npm.stdout!.on("data", (chunk) => (text += chunk));
  npm.stderr!.on("data", (chunk) => (text += chunk));
  const exited = new Promise<void>((resolve) => npm.once("exit", () => resolve()));
  return { npm, output: () => text, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fetch that fails the test instead of hanging (the defect this guards against). */
async function fetchWithin(url: string, ms = 5_000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(ms) });
}

function isRunning(pid: number): boolean {
  try {
    // A zombie has exited: only its exit status is left for its parent to collect.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

async function readyRuntime(start: NpmStart): Promise<{ origin: string; pid: number; health: any }> {
  const origin = await waitFor("the listening line", () => /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(start.output())?.[1], 120_000);
  const health = await waitFor(
    "GET /_local/health to answer 200",
    async () => {
      // Refused for a few milliseconds while the loading server hands the port to the runtime: ask again.
      const response = await fetchWithin(`${origin}/_local/health`).catch((error) => {
        if (error.name === "TimeoutError") throw error;
        return undefined;
      });
      return response?.status === 200 ? response.json() : undefined;
    },
    180_000,
  );
  return { origin, pid: (health as any).pid, health };
}

/** Starts a few function processes: an execution runs the split and the token receiver functions. */
async function startFunctionProcesses(origin: string, runtimePid: number): Promise<number[]> {
  const input = encodeURIComponent(JSON.stringify({ outcome: "success" }));
  const started = await (await fetchWithin(`${origin}/start?input=${input}`)).json();
  assert.ok((started as any).executionArn, JSON.stringify(started));
  return waitFor("function processes", () => (childrenOf(runtimePid).length >= 2 ? childrenOf(runtimePid) : undefined), 30_000);
}

async function assertStopsEverything(start: NpmStart, signal: NodeJS.Signals, said: RegExp): Promise<void> {
  const { origin, pid } = await readyRuntime(start);
  const functionPids = await startFunctionProcesses(origin, pid);
  const port = Number(new URL(origin).port);
  const signalledAt = Date.now();
  start.npm.kill(signal);
  await waitFor(`the runtime (${pid}) to end after ${signal} to npm`, () => (isRunning(pid) ? undefined : true), 15_000);
  const stoppedAfterMs = Date.now() - signalledAt;
  assert.ok(stoppedAfterMs < 10_000, `stopped after ${stoppedAfterMs} ms`);
  assert.deepEqual(
    functionPids.filter((functionPid) => isRunning(functionPid)),
    [],
    "no function process outlives the runtime",
  );
  assert.ok(await portRefuses(port), `port ${port} is free`);
  assert.match(start.output(), said);
  assert.match(start.output(), /No executions were open\.|Executions still open when stopped/);
}

describe("npm start: process life (real npm, real signals)", function () {
  this.timeout(240_000);
  const started: NpmStart[] = [];
  after(() => {
    for (const start of started) if (start.npm.exitCode === null) start.npm.kill("SIGKILL");
  });

  it("answers a request that arrives while the program loads with 503, Retry-After and an AWS-shaped error, then serves it once ready", async () => {
    const start = npmStart();
    started.push(start);
    const origin = await waitFor("the listening line", () => /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(start.output())?.[1], 120_000);
    // At once, as a polling loop would: loading the program takes seconds, so this lands before "ready".
    const early = await fetchWithin(`${origin}/start`);
    assert.equal(early.status, 503);
    assert.equal(early.headers.get("retry-after"), "1");
    assert.equal(early.headers.get("x-amzn-errortype"), "ServiceUnavailable");
    const body = (await early.json()) as any;
    assert.equal(body.__type, "ServiceUnavailable");
    assert.match(body.message, /still loading the program/);
    const health = await fetchWithin(`${origin}/_local/health`);
    assert.equal(health.status, 503);
    assert.equal(((await health.json()) as any).status, "starting");

    const { health: ready } = await readyRuntime(start);
    assert.equal(ready.status, "ready");
    assert.equal(ready.stack, "dev");
    assert.equal(ready.outputs.startUrl, `${origin}/start`);
    // The console signs nothing (it is served by path): it adds no signing name.
    assert.deepEqual(ready.services.flatMap((service: any) => service.signingNames).sort(), [
      "dynamodb",
      "execute-api",
      "lambda",
      "s3",
      "sns",
      "sqs",
      "states",
    ]);
    const input = encodeURIComponent(JSON.stringify({ outcome: "success" }));
    const served = await fetchWithin(`${origin}/start?input=${input}`);
    assert.equal(served.status, 200);
    assert.match(((await served.json()) as any).executionArn, /^arn:aws:states:/);
  });

  // The same npm start as above (each start loads the program for a minute on a busy CI machine).
  it("stops the runtime and every function process and frees the port when npm gets SIGTERM", async () => {
    await assertStopsEverything(started[0], "SIGTERM", /SIGTERM: stopping/);
  });

  it("stops the runtime and every function process and frees the port when npm gets SIGHUP (which npm does not forward)", async () => {
    const start = npmStart();
    started.push(start);
    await assertStopsEverything(start, "SIGHUP", /its parent process \(\d+\) ended: stopping/);
  });
});
