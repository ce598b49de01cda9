/**
 * Memory under sustained load: the runtime (`npm start`'s command, its own process, its durable store, default log
 * output) runs executions at 100 concurrent for 5 minutes, and every 15 s this prints the runtime's resident set
 * size next to what the histories it keeps explain (executions ended so far × one history's size on the wire, as
 * GetExecutionHistory returns it), and the growth per execution ended. Flat means RSS grows no faster than that
 * line. On the durable store a finished execution's history leaves memory once it is committed, so what is left
 * per execution is its record (ARN, name, input, output, dates) and the store's page cache.
 *
 * `npm run bench -- soak`; BENCH_SOAK_SECONDS=60 shortens it, BENCH_SOAK_CONCURRENCY=10 changes the load.
 */
import { readFileSync } from "node:fs";
import { driver } from "./e2e";
import { historyOf, startRuntime } from "../tests/local/e2e/runtimeProcess";

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 100);
const SAMPLE_EVERY_MS = 15_000;

/** Resident set size of a process, from Linux's /proc (the runtime is another process). */
function residentMegabytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const runtime = await startRuntime(["-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"]);
  try {
    const load = driver(runtime.outputs.startUrl, runtime.onLine);
    await load.run(20, 20);
    const sample = await fetch(`${runtime.outputs.startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`);
    const { executionArn } = (await sample.json()) as { executionArn: string };
    await load.run(1, 1);
    const historyBytes = JSON.stringify(await historyOf(runtime, executionArn)).length;
    const baseline = residentMegabytes(runtime.pid);
    console.log(
      `${CONCURRENCY} concurrent for ${SECONDS} s; one history ≈ ${historyBytes} bytes on the wire; RSS at start ${baseline.toFixed(0)} MB`,
    );
    console.log("seconds  executions  executions/s  RSS MB  RSS growth MB  kept histories MB  growth bytes/execution");
    let ended = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let nextSample = started + SAMPLE_EVERY_MS;
    while (performance.now() < deadline) {
      const batch = CONCURRENCY * 10;
      await load.run(CONCURRENCY, batch);
      ended += batch;
      const now = performance.now();
      if (now < nextSample && now < deadline) continue;
      nextSample = now + SAMPLE_EVERY_MS;
      const rss = residentMegabytes(runtime.pid);
      const seconds = (now - started) / 1000;
      const kept = (ended * historyBytes) / 1024 / 1024;
      console.log(
        `${seconds.toFixed(0).padStart(7)}  ${String(ended).padStart(10)}  ${(ended / seconds).toFixed(0).padStart(12)}  ${rss.toFixed(0).padStart(6)}  ${(rss - baseline).toFixed(0).padStart(13)}  ${kept.toFixed(0).padStart(17)}  ${(((rss - baseline) * 1024 * 1024) / ended).toFixed(0).padStart(22)}`,
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
