/**
 * Durable state (issue 10), in one run:
 * 1. end-to-end callback throughput of `npm start` with the durable store against `--state memory`, phases
 *    alternated side by side (target: durable ≥ 0.8 × memory);
 * 2. 10,000 executions waiting on tokens restored after a stop (target ≤ 2 s);
 * 3. bytes on disk per finished execution.
 * Parts 2 and 3 run the Step Functions service in-process on a SQLite store, with functions that answer at once.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LocalContext } from "../local/common/service";
import type { InvokeRequest, InvokeResult, LambdaInvoker } from "../local/common/invoker";
import { StepFunctionsService } from "../local/stepfunctions/service";
import { SqliteStore } from "../local/store/sqliteStore";
import { startRuntime, temporaryStateDirectory, type RuntimeProcess } from "../tests/local/e2e/runtimeProcess";

const WAITING = Number(process.env.BENCH_DURABLE_WAITING ?? 10_000);
const FINISHED = 1000;
const ROLE_ARN = "arn:aws:iam::123456789012:role/bench";
const RECEIVER = "arn:aws:lambda:us-east-1:123456789012:function:receiver";
const CALLBACK = JSON.stringify({
  StartAt: "Wait",
  States: {
    Wait: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: RECEIVER, Payload: { "token.$": "$$.Task.Token", "index.$": "$.index" } },
      Next: "Done",
    },
    Done: { Type: "Pass", End: true },
  },
});

/** Records each token; answers at once. */
class TokenCollector implements LambdaInvoker {
  readonly tokens: string[] = [];
  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const event = JSON.parse(request.payload);
    this.tokens[event.index] = event.token;
    return { statusCode: 200, payload: "null", executedVersion: "$LATEST", requestId: "bench" };
  }
}

function openService(directory: string, lambda: LambdaInvoker): { store: SqliteStore; service: StepFunctionsService } {
  const store = SqliteStore.open(directory);
  const context: LocalContext = {
    origin: "http://127.0.0.1:0",
    region: "us-east-1",
    accountId: "123456789012",
    lambda,
    log: () => undefined,
    store,
  };
  return { store, service: new StepFunctionsService(context) };
}

async function startMany(service: StepFunctionsService, machineArn: string, count: number, offset = 0): Promise<string[]> {
  const arns: string[] = [];
  for (let batch = 0; batch < count; batch += 500) {
    const size = Math.min(500, count - batch);
    const started = await Promise.all(
      Array.from({ length: size }, (_, index) =>
        service.call("StartExecution", { stateMachineArn: machineArn, input: JSON.stringify({ index: offset + batch + index }) }),
      ),
    );
    arns.push(...started.map((response: { executionArn: string }) => response.executionArn));
  }
  return arns;
}

/**
 * Leaves `WAITING` executions waiting on tokens in `directory`. In a function of its own, so that nothing of that
 * first runtime is reachable while the second one restores: `npm start` restores in a fresh process.
 */
async function leaveWaiting(directory: string): Promise<void> {
  const lambda = new TokenCollector();
  const first = openService(directory, lambda);
  const machineArn = first.service.createStateMachine({ name: "waiting", definition: CALLBACK, roleArn: ROLE_ARN }).arn;
  await startMany(first.service, machineArn, WAITING);
  while (first.service.tokens.waitingCount < WAITING) await new Promise((resolve) => setImmediate(resolve));
  await first.store.committed();
  await first.service.close();
  first.store.close();
}

async function restoreWaiting(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-"));
  try {
    await leaveWaiting(directory);
    const second = openService(directory, new TokenCollector());
    // As at `npm start`: the program's state machines are declared (and their definitions checked) before the restore.
    second.service.createStateMachine({ name: "waiting", definition: CALLBACK, roleArn: ROLE_ARN });
    const started = performance.now();
    const cpu = process.cpuUsage();
    const phrases = await second.service.restore();
    const seconds = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    console.log(
      `restore: ${phrases.join(", ")} in ${seconds.toFixed(2)} s (CPU ${((user + system) / 1e6).toFixed(2)} s; target ≤ 2 s), store ${(second.store.sizeOnDisk() / 1e6).toFixed(1)} MB`,
    );
    await second.service.close();
    second.store.close();
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

async function bytesPerFinishedExecution(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-"));
  try {
    const lambda = new TokenCollector();
    const { store, service } = openService(directory, lambda);
    const machineArn = service.createStateMachine({ name: "finished", definition: CALLBACK, roleArn: ROLE_ARN }).arn;
    await store.committed();
    const before = store.sizeOnDisk();
    const arns = await startMany(service, machineArn, FINISHED);
    while (lambda.tokens.filter(Boolean).length < FINISHED) await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(
      lambda.tokens.map((taskToken, index) => service.call("SendTaskSuccess", { taskToken, output: JSON.stringify({ index }) })),
    );
    await Promise.all(arns.map((arn) => service.execution(arn)!.done));
    await store.committed();
    const bytes = (store.sizeOnDisk() - before) / FINISHED;
    console.log(`bytes on disk per finished execution (2 task states, 11 history events): ${bytes.toFixed(0)}`);
    await service.close();
    store.close();
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** Executions/s through `GET /start` with `concurrency` in flight, completion read from the live log. */
async function throughput(runtime: Watched, executions: number, concurrency: number): Promise<number> {
  const url = `${runtime.outputs.startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`;
  let remaining = executions;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining-- > 0) {
        const { executionArn } = (await (await fetch(url)).json()) as { executionArn: string };
        const name = executionArn.split(":").pop()!;
        await new Promise<void>((resolve) => runtime.waitFor(name, resolve));
      }
    }),
  );
  return executions / ((performance.now() - started) / 1000);
}

async function endToEnd(): Promise<void> {
  const config = ["-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"];
  const memory = withEndWatch(await startRuntime([...config, "--state", "memory"], { LOCAL_LAMBDA_NODE: "machine" }));
  const stateDirectory = temporaryStateDirectory();
  const durable = withEndWatch(await startRuntime([...config, "--state-dir", stateDirectory], { LOCAL_LAMBDA_NODE: "machine" }));
  try {
    for (const runtime of [memory, durable]) await throughput(runtime, 50, 10); // warm-up
    const rounds = 3;
    const totals = { memory: 0, durable: 0 };
    for (let round = 0; round < rounds; round++) {
      totals.memory += await throughput(memory, 300, 10);
      totals.durable += await throughput(durable, 300, 10);
    }
    const memoryRate = totals.memory / rounds;
    const durableRate = totals.durable / rounds;
    console.log(
      `end to end, 10 concurrent, ${rounds} alternating rounds of 300: memory ${memoryRate.toFixed(0)}/s, durable ${durableRate.toFixed(0)}/s, ratio ${(durableRate / memoryRate).toFixed(2)} (target ≥ 0.8)`,
    );
  } finally {
    await memory.stop();
    await durable.stop();
    fs.rmSync(stateDirectory, { recursive: true, force: true });
  }
}

type Watched = RuntimeProcess & { waitFor(name: string, done: () => void): void };

/** Completion from the live log (`[states] <name> - ExecutionSucceeded`), so measuring adds no polling load. */
function withEndWatch(runtime: RuntimeProcess): Watched {
  const waiters = new Map<string, () => void>();
  const endedEarly = new Set<string>();
  runtime.onLine((line) => {
    const match = /^\[states\] (\S+) - Execution(Succeeded|Failed|TimedOut|Aborted)$/.exec(line);
    if (!match) return;
    const waiter = waiters.get(match[1]);
    if (waiter) {
      waiters.delete(match[1]);
      waiter();
    } else endedEarly.add(match[1]);
  });
  return Object.assign(runtime, {
    waitFor(name: string, done: () => void) {
      if (endedEarly.delete(name)) done();
      else waiters.set(name, done);
    },
  });
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} cores, Node ${process.version}`);
  const parts = (process.env.BENCH_DURABLE_PARTS ?? "restore,bytes,e2e").split(",");
  if (parts.includes("restore")) await restoreWaiting();
  if (parts.includes("bytes")) await bytesPerFinishedExecution();
  if (parts.includes("e2e")) await endToEnd();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
