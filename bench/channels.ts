/**
 * The Lambda channel and the SQS channel side by side, in one run of `npm start`'s command:
 * - Lambda: `GET /start` → SplitDoc → WaitForCompletion (a function gets the token in its Payload and answers it);
 * - SQS: `GET /sqs/start` → DispatchWork (`sqs:sendMessage.waitForTaskToken`; the worker on the queue, through its
 *   event source mapping, answers it).
 * At 1, 10 and 100 concurrent executions, each level runs both channels one after the other, so the ratio compares
 * figures taken under the same machine load. Completion is read from the runtime's live log (no polling load).
 */
import { cpus } from "node:os";
import { startRuntime, type RuntimeProcess } from "../tests/local/e2e/runtimeProcess";

const LEVELS: Array<{ concurrency: number; executions: number }> = [
  { concurrency: 1, executions: 50 },
  { concurrency: 10, executions: 300 },
  { concurrency: 100, executions: 600 },
];

interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
}

type Ended = { at: number; succeeded: boolean };

/** Resolves an execution's end from the `[states] <name> - Execution...` log lines. */
function executionEnds(runtime: RuntimeProcess): (name: string) => Promise<Ended> {
  const waiters = new Map<string, (ended: Ended) => void>();
  // The log line can arrive before the HTTP answer that names the execution: keep it until asked for.
  const endedEarly = new Map<string, Ended>();
  runtime.onLine((line) => {
    const match = /^\[states\] (\S+) - (Execution\w+)/.exec(line);
    if (!match || match[2] === "ExecutionStarted") return;
    const ended = { at: performance.now(), succeeded: match[2] === "ExecutionSucceeded" };
    const waiter = waiters.get(match[1]);
    if (waiter) waiter(ended);
    else endedEarly.set(match[1], ended);
  });
  return async (name) => {
    const early = endedEarly.get(name);
    endedEarly.delete(name);
    const ended = early ?? (await new Promise<Ended>((resolve) => waiters.set(name, resolve)));
    waiters.delete(name);
    return ended;
  };
}

async function measure(oneExecution: () => Promise<number>, concurrency: number, executions: number): Promise<Figures> {
  const latencies: number[] = [];
  let remaining = executions;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        remaining--;
        latencies.push(await oneExecution());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { perSecond: executions / seconds, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const runtime = await startRuntime(["-c", "failureRate=0", "-c", "timeoutSeconds=120", "-c", "heartbeatSeconds=0"]);
  const endOf = executionEnds(runtime);
  const execution = (url: string) => async (): Promise<number> => {
    const started = performance.now();
    const response = await fetch(url);
    const { executionArn } = (await response.json()) as { executionArn?: string };
    if (!executionArn) throw new Error(`start at ${url} failed: ${response.status}`);
    const ended = await endOf(executionArn.split(":").pop()!);
    if (!ended.succeeded) throw new Error(`${executionArn} did not succeed`);
    return ended.at - started;
  };
  const input = `?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`;
  const channels = { lambda: execution(`${runtime.outputs.startUrl}${input}`), sqs: execution(`${runtime.outputs.sqsStartUrl}${input}`) };

  try {
    // Warm-up: function processes start cold (Node start + SDK load), as a Lambda's first invocations do.
    await Promise.all([channels.lambda, channels.sqs].flatMap((one) => Array.from({ length: 10 }, () => one())));
    console.log(`local runtime at ${runtime.origin}; machine: ${cpus().length} cores, Node ${process.version}`);
    console.log("concurrency  executions  lambda/s  p50 ms  p99 ms   sqs/s  p50 ms  p99 ms  sqs÷lambda (exec/s)");
    for (const { concurrency, executions } of LEVELS) {
      const lambda = await measure(channels.lambda, concurrency, executions);
      const sqs = await measure(channels.sqs, concurrency, executions);
      const cells = [lambda, sqs].flatMap((figures) => [
        figures.perSecond.toFixed(0).padStart(8),
        figures.p50.toFixed(1).padStart(6),
        figures.p99.toFixed(1).padStart(6),
      ]);
      console.log(
        `${String(concurrency).padStart(11)}  ${String(executions).padStart(10)}  ${cells.join("  ")}  ${(sqs.perSecond / lambda.perSecond).toFixed(2).padStart(18)}x`,
      );
    }
  } finally {
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
