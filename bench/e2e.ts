/**
 * End-to-end callback executions on the local runtime, as a user drives them: `GET /start` → SplitDoc (Lambda)
 * → WaitForCompletion (Lambda gets the token, calls SendTaskSuccess over HTTP) → ContinueProcess → succeeded.
 * The runtime is `npm start`'s command in its own process; completion is read from its live log
 * (`[states] <name> - ExecutionSucceeded`), so measuring adds no polling load.
 * Prints executions/s and p50/p99 latency at 1, 10 and 100 concurrent executions. Targets: p50 ≤ 10 ms, ≥ 200/s.
 */
import { startRuntime } from "../tests/local/e2e/runtimeProcess";

const LEVELS: Array<{ concurrency: number; executions: number }> = [
  { concurrency: 1, executions: 200 },
  { concurrency: 10, executions: 1000 },
  { concurrency: 100, executions: 2000 },
];

async function main(): Promise<void> {
  const runtime = await startRuntime(["-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"]);
  type Ended = { at: number; succeeded: boolean };
  const waiters = new Map<string, (ended: Ended) => void>();
  // The log line can arrive before the HTTP answer that names the execution: keep it until asked for.
  const endedEarly = new Map<string, Ended>();
  runtime.onLine((line) => {
    const match = /^\[states\] (\S+) - (Execution\w+)$/.exec(line);
    if (!match || match[2] === "ExecutionStarted") return;
    const ended = { at: performance.now(), succeeded: match[2] === "ExecutionSucceeded" };
    const waiter = waiters.get(match[1]);
    if (waiter) waiter(ended);
    else endedEarly.set(match[1], ended);
  });
  const startUrl = `${runtime.outputs.startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`;

  async function oneExecution(): Promise<number> {
    const started = performance.now();
    const response = await fetch(startUrl);
    const { executionArn } = (await response.json()) as { executionArn: string };
    if (!executionArn) throw new Error(`start failed: ${response.status}`);
    const name = executionArn.split(":").pop()!;
    const ended = endedEarly.get(name) ?? (await new Promise<Ended>((resolve) => waiters.set(name, resolve)));
    endedEarly.delete(name);
    waiters.delete(name);
    if (!ended.succeeded) throw new Error(`${executionArn} did not succeed`);
    return ended.at - started;
  }

  try {
    // Warm-up: function processes start cold (Node start + SDK load), as a Lambda's first invocations do.
    await Promise.all(Array.from({ length: 20 }, () => oneExecution()));
    console.log(`local runtime at ${runtime.origin}; machine: ${require("node:os").cpus().length} cores, Node ${process.version}`);
    console.log("concurrency  executions  executions/s   p50 ms   p99 ms   max ms");
    for (const { concurrency, executions } of LEVELS) {
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
      console.log(
        `${String(concurrency).padStart(11)}  ${String(executions).padStart(10)}  ${(executions / seconds).toFixed(0).padStart(12)}  ${at(0.5).toFixed(1).padStart(7)}  ${at(0.99).toFixed(1).padStart(7)}  ${latencies.at(-1)!.toFixed(1).padStart(7)}`,
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
