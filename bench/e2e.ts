/**
 * End-to-end callback executions on the local runtime, as a user drives them: `GET /start` → SplitDoc (Lambda)
 * → WaitForCompletion (Lambda gets the token, calls SendTaskSuccess over HTTP) → ContinueProcess → succeeded.
 * The runtime is `npm start`'s command in its own process, with its default log output; completion is read from
 * its live log (`[states] <name> - ExecutionSucceeded`), so measuring adds no polling load.
 *
 * Beside it, in the same run, the floor (`bench/floor.ts`): the same hops and handlers with no emulator logic. Each level
 * runs the floor, then ours, back to back, and prints ours / floor: the throughput ratio, and p99 ours / floor.
 * Each row also gives the CPU one execution cost: the server process (the runtime; the floor's server) plus its
 * children (function processes; the floor's two workers), read from /proc, so a gap can be placed, and the load's
 * own (this process: fetch, and reading each side's log for the ends), which runs on the same cores: the runtime's
 * default log (about 22 lines, 2 KB per execution) costs its reader more than the floor's one line does.
 * Targets (issue 11): throughput ≥ 0.6 of the floor at 1, 10 and 100 concurrent; p99 at 100 ≤ 2× the floor's.
 * `BENCH_FLOOR_LAMBDA=1 npm run bench -- e2e` gives the floor the runtime's Lambda process model (see bench/floor.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startFloor } from "./floor";
import { cpuBetween, treeCpu, type TreeCpu } from "./processCpu";
import { startRuntime } from "../tests/local/e2e/runtimeProcess";

/** An execution that has not ended after this long is reported as lost instead of waited for forever. */
const EXECUTION_DEADLINE_MS = 120_000;

/** What each side runs before the timed levels, once its processes are up: long enough for V8 to compile its hot code. */
const WARM_UP = { concurrency: 100, executions: 3000 };

const LEVELS: Array<{ concurrency: number; executions: number }> = [
  { concurrency: 1, executions: 200 },
  { concurrency: 10, executions: 1000 },
  { concurrency: 100, executions: 2000 },
];

export interface Figures {
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

/** A load driver over any server that answers `GET startUrl` with an execution ARN and logs its end. */
export function driver(startUrl: string, onLine: (listener: (line: string) => void) => void) {
  type Ended = { at: number; succeeded: boolean };
  const waiters = new Map<string, (ended: Ended) => void>();
  // The log line can arrive before the HTTP answer that names the execution: keep it until asked for.
  const endedEarly = new Map<string, Ended>();
  onLine((line) => {
    const match = /^\[states\] (\S+) - (Execution\w+)$/.exec(line);
    if (!match || match[2] === "ExecutionStarted") return;
    const ended = { at: performance.now(), succeeded: match[2] === "ExecutionSucceeded" };
    const waiter = waiters.get(match[1]);
    if (waiter) waiter(ended);
    else endedEarly.set(match[1], ended);
  });
  const url = `${startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`;

  async function oneExecution(): Promise<number> {
    const started = performance.now();
    const response = await fetch(url);
    const { executionArn } = (await response.json()) as { executionArn: string };
    if (!executionArn) throw new Error(`start failed: ${response.status}`);
    const name = executionArn.split(":").pop()!;
    let timer: NodeJS.Timeout | undefined;
    const ended =
      endedEarly.get(name) ??
      (await new Promise<Ended>((resolve, reject) => {
        waiters.set(name, resolve);
        timer = setTimeout(
          () => reject(new Error(`${executionArn} did not end within ${EXECUTION_DEADLINE_MS / 1000} s`)),
          EXECUTION_DEADLINE_MS,
        );
      }));
    clearTimeout(timer);
    endedEarly.delete(name);
    waiters.delete(name);
    if (!ended.succeeded) throw new Error(`${executionArn} did not succeed`);
    return ended.at - started;
  }

  async function run(concurrency: number, executions: number): Promise<Figures> {
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
    return { perSecond: executions / seconds, p50: at(0.5), p99: at(0.99), max: latencies.at(-1)! };
  }
  return { run };
}

/**
 * CPU milliseconds per execution: the server process itself + its children (function processes, workers); then
 * this process's own (the load: fetch, and reading the server's log for each end), which shares the same cores.
 */
function cpuCells(cpu: TreeCpu | undefined, driver: NodeJS.CpuUsage, executions: number): string {
  const perExecution = (seconds: number) => ((seconds * 1000) / executions).toFixed(2);
  const load = perExecution((driver.user + driver.system) / 1e6);
  return cpu ? `${perExecution(cpu.own)} + ${perExecution(cpu.descendants)}; load ${load}` : `(no /proc); load ${load}`;
}

/** Runs `level` and reads the CPU it cost the server's process tree and this process. */
async function measured<T>(pid: number, level: () => Promise<T>): Promise<{ figures: T; cpu?: TreeCpu; driver: NodeJS.CpuUsage }> {
  const before = treeCpu(pid);
  const driverBefore = process.cpuUsage();
  const figures = await level();
  return { figures, driver: process.cpuUsage(driverBefore), cpu: cpuBetween(before, treeCpu(pid)) };
}

/** Median fdatasync of a 4 KB overwrite in the temporary folder: what one durable acknowledgement waits for. */
function fdatasyncMs(): number {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-sync-")), "probe");
  const descriptor = fs.openSync(file, "w");
  const block = Buffer.alloc(4096, 1);
  fs.writeSync(descriptor, block);
  fs.fsyncSync(descriptor);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    fs.writeSync(descriptor, block, 0, block.length, 0);
    fs.fdatasyncSync(descriptor);
    times.push(performance.now() - started);
  }
  fs.closeSync(descriptor);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return times.sort((a, b) => a - b)[times.length >> 1];
}

function row(label: string, concurrency: number, executions: number, figures: Figures): string {
  const cells = [
    figures.perSecond.toFixed(0).padStart(12),
    ...[figures.p50, figures.p99, figures.max].map((ms) => ms.toFixed(1).padStart(7)),
  ];
  return `${label.padEnd(6)} ${String(concurrency).padStart(11)}  ${String(executions).padStart(10)}  ${cells.join("  ")}`;
}

async function main(): Promise<void> {
  const runtime = await startRuntime(["-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"]);
  const floor = await startFloor();
  try {
    const ours = driver(runtime.outputs.startUrl, runtime.onLine);
    const bare = driver(floor.startUrl, floor.onLine);
    // Warm-up, the same on both sides: the function processes (and the floor's workers) start cold, Node start and
    // SDK load, as a Lambda's first invocations do; then 3,000 more, so V8 has compiled each side's hot code before
    // anything is timed. With 20 only, the first level mostly timed the compiler: in one run on 2026-11-27,
    // 1 concurrent went from 220 to 478 executions/s on the floor and from 84 to 214 on the runtime between the
    // first level and the same level after the others. Warm, the floor gains more than the runtime does.
    await ours.run(20, 20);
    await bare.run(20, 20);
    await ours.run(WARM_UP.concurrency, WARM_UP.executions);
    await bare.run(WARM_UP.concurrency, WARM_UP.executions);
    console.log(`local runtime at ${runtime.origin}; machine: ${require("node:os").cpus().length} cores, Node ${process.version}`);
    console.log(`floor's workers: ${floor.workers}`);
    console.log(`one fdatasync on this disk (a durable acknowledgement waits for one): median ${fdatasyncMs().toFixed(2)} ms`);
    console.log("       concurrency  executions  executions/s   p50 ms   p99 ms   max ms  CPU ms per execution: process + children; load");
    const ratios: string[] = [];
    for (const { concurrency, executions } of LEVELS) {
      const onFloor = await measured(floor.pid, () => bare.run(concurrency, executions));
      const floorFigures = onFloor.figures;
      console.log(`${row("floor", concurrency, executions, floorFigures)}  ${cpuCells(onFloor.cpu, onFloor.driver, executions)}`);
      const onOurs = await measured(runtime.pid, () => ours.run(concurrency, executions));
      const ourFigures = onOurs.figures;
      console.log(`${row("ours", concurrency, executions, ourFigures)}  ${cpuCells(onOurs.cpu, onOurs.driver, executions)}`);
      ratios.push(
        `${String(concurrency).padStart(11)}  ${(ourFigures.perSecond / floorFigures.perSecond).toFixed(2).padStart(16)}  ${(ourFigures.p99 / floorFigures.p99).toFixed(2).padStart(16)}`,
      );
    }
    console.log("ours / floor, measured side by side in this run:");
    console.log("concurrency  throughput ratio  p99 ratio (≤ 2)");
    for (const line of ratios) console.log(line);
  } finally {
    await floor.stop();
    await runtime.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
