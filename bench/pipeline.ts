/**
 * The document pipeline end to end on the local runtime: chunks per second for documents of 1,000 and 10,000
 * chunks (POST /documents → SplitDoc → one processor invocation per chunk → resume → ContinueProcess), the
 * ratio of the two times (linear work gives about 10), S3 and DynamoDB requests per chunk, counted by the local
 * services themselves, and where a chunk's time goes (bench/pipelineTimeline.ts).
 *
 * Each size runs first on the floor (bench/pipelineFloor.ts: the same transport, HTTP S3 PUTs, an IPC hand-off
 * per chunk to four worker processes and the same four SDK calls per chunk, answered by a plain server with no
 * emulator logic), then on the runtime, back to back, and the bench prints ours / floor: absolute figures on a
 * shared machine are noise, ratios measured side by side are not. Each also prints the CPU one chunk cost, read
 * from /proc (ours: the runtime's process and its function processes; the floor: its server, splitter and
 * processors): steadier than wall time while other jobs share the cores, and where the gap lies.
 *
 * The runtime runs in this process (the same code `npm start` runs) so the services' counters can be read;
 * everything else goes over HTTP with the unmodified AWS SDK, as a user's would.
 * `npm run bench -- pipeline`; BENCH_PIPELINE_CHUNKS=1000,10000 to choose sizes. The runtime keeps its state on
 * disk (in a temporary folder) as `npm start` does; BENCH_PIPELINE_STATE=memory runs it as `--state memory` does.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from "@aws-sdk/client-sfn";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDbService } from "../local/dynamodb/service";
import { startLocalRuntime } from "../local/host/runtime";
import { S3Service } from "../local/s3/service";
import { type PipelineFloor, startPipelineFloor } from "./pipelineFloor";
import { cpuBetween, treeCpu, type TreeCpu } from "./processCpu";
import { type ChunkPhases, recordChunkTimeline } from "./pipelineTimeline";

const CHUNK_BYTES = 256;
const SIZES = (process.env.BENCH_PIPELINE_CHUNKS ?? "1000,10000").split(",").map(Number);
const WARM_UP_CHUNKS = 100;
const STATE = process.env.BENCH_PIPELINE_STATE === "memory" ? "memory" : "durable";
const credentials = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" };

/** Lines of exactly 32 bytes: 8 lines fill one 256-byte chunk, so the chunk count is exact. */
function documentOfChunks(chunks: number): string {
  return Array.from({ length: chunks * 8 }, (_, index) =>
    `line ${String(index).padStart(7, "0")} of the document.\n`.padStart(32, "-"),
  ).join("");
}

/**
 * The runtime constructs its services itself; recording each instance as it provisions its first resource
 * gives the bench their request counters without changing the runtime.
 */
function captureInstances<T extends { provision: (...args: any[]) => Promise<void> }>(prototype: T): T[] {
  const instances: T[] = [];
  const provision = prototype.provision;
  prototype.provision = function (this: T, ...args: any[]) {
    if (!instances.includes(this)) instances.push(this);
    return provision.apply(this, args);
  };
  return instances;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([operation, count]) => [operation, count - (before[operation] ?? 0)])
      .filter(([, count]) => (count as number) > 0),
  );
}

function perChunk(counts: Record<string, number>, chunks: number): string {
  return Object.entries(counts)
    .sort()
    .map(([operation, count]) => `${operation} ${(count / chunks).toFixed(3)}`)
    .join(", ");
}

/**
 * Where the workflow's time went, from the execution history: split (until SplitDoc returned), wait (from then
 * until the resume; chunks already run while SplitDoc writes the later ones), aggregate. Also the job's id
 * (SplitDoc's output) and when the execution succeeded, on the timeline's clock.
 */
async function phasesOf(sfn: SFNClient, executionArn: string): Promise<{ phases: string; jobId: string; succeededAt: number }> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const at = (type: string) => events.find((event) => event.type === type)?.timestamp?.getTime() ?? NaN;
  const exitedEvent = (state: string) =>
    events.find((event) => event.type === "TaskStateExited" && event.stateExitedEventDetails?.name === state);
  const exited = (state: string) => exitedEvent(state)?.timestamp?.getTime() ?? NaN;
  const started = at("ExecutionStarted");
  const split = exited("SplitDoc");
  const resumed = exited("WaitForCompletion");
  const ended = at("ExecutionSucceeded");
  const span = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
  // SplitDoc's result ({jobId, ...}) is somewhere in its state's output, wherever ResultPath put it.
  const jobId = /"jobId":"([^"]+)"/.exec(exitedEvent("SplitDoc")?.stateExitedEventDetails?.output ?? "")?.[1] ?? "";
  return {
    phases: `split ${span(started, split)}, wait ${span(split, resumed)}, aggregate ${span(resumed, ended)}`,
    jobId,
    succeededAt: ended - performance.timeOrigin,
  };
}

interface Run {
  seconds: number;
  executionArn: string;
  /** CPU seconds the run cost: the server process (the runtime; the floor's server) and its children (function processes; the floor's splitter and processors). */
  cpu?: TreeCpu;
}

/**
 * The runtime's CPU: this process (the runtime runs in it; the bench's own polling is a few requests a second)
 * and its function processes, which are its children beside the floor's process tree, left out here.
 */
function ourCpu(floor: PipelineFloor): TreeCpu | undefined {
  const all = treeCpu(process.pid);
  const floorTree = treeCpu(floor.pid);
  if (!all || !floorTree) return undefined;
  return { own: all.own, descendants: all.descendants - floorTree.own - floorTree.descendants };
}

function cpuPerChunk(cpu: TreeCpu | undefined, chunks: number, parent: string, children: string): string {
  if (!cpu) return "not measured (no /proc)";
  const ms = (seconds: number) => ((seconds * 1000) / chunks).toFixed(2);
  return `${ms(cpu.own + cpu.descendants)} = ${ms(cpu.own)} ${parent} + ${ms(cpu.descendants)} ${children}`;
}

/** Polls DescribeExecution every 50 ms (ours and the floor alike) until the execution is no longer running. */
async function waitForSuccess(sfn: SFNClient, executionArn: string, chunks: number, started: bigint): Promise<Run> {
  let status = "RUNNING";
  let output = "";
  while (status === "RUNNING") {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    status = described.status!;
    output = described.output ?? `${described.error}: ${described.cause}`;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (status !== "SUCCEEDED") throw new Error(`${chunks} chunks: execution ${status}: ${output}`);
  const result = JSON.parse(output);
  if (result.chunkCount !== chunks) throw new Error(`expected ${chunks} chunks, the job had ${result.chunkCount}`);
  return { seconds, executionArn };
}

async function runOnFloor(floor: PipelineFloor, chunks: number): Promise<Run & { phases: ChunkPhases }> {
  const sfn = new SFNClient({ endpoint: floor.origin, region: "us-east-1", credentials });
  try {
    const cpuBefore = treeCpu(floor.pid);
    const started = process.hrtime.bigint();
    const executionArn = await floor.startJob(chunks, CHUNK_BYTES);
    const run = await waitForSuccess(sfn, executionArn, chunks, started);
    const cpu = cpuBetween(cpuBefore, treeCpu(floor.pid));
    return { ...run, cpu, phases: await floor.phases(executionArn) };
  } finally {
    sfn.destroy();
  }
}

function describePhases(phases: ChunkPhases): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `PUT → event ${ms(phases.putToEventMs)}, event → Lambda start ${ms(phases.eventToStartMs)}, Lambda (4 SDK calls) ${ms(phases.invocationMs)}; completion ${ms(phases.completionMs)} once`;
}

const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(" ");

async function main(): Promise<void> {
  const s3Services = captureInstances(S3Service.prototype);
  const dynamoDbServices = captureInstances(DynamoDbService.prototype);
  const timeline = recordChunkTimeline();
  let logLines = 0;
  const floor = await startPipelineFloor();
  const stateDirectory = STATE === "durable" ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-pipeline-state-")) : undefined;
  const runtime = await startLocalRuntime({
    projectDirectory: path.resolve(__dirname, ".."),
    stack: "dev",
    configOverrides: [`pipelineChunkSizeBytes=${CHUNK_BYTES}`, "timeoutSeconds=3600"],
    port: 0,
    nodePolicy: "machine",
    // On disk by default, as `npm start` runs (the durable store is on every chunk's path), in a folder of its own.
    state: STATE,
    stateDirectory,
    log: () => logLines++,
  });
  const s3Service = s3Services[0];
  const dynamoDbService = dynamoDbServices[0];
  const outputs = runtime.program.outputs as Record<string, string>;
  // Clients per size: one kept across the floor's run would sit idle past the server's keep-alive timeout and
  // could reuse a socket the runtime had just closed (ECONNRESET, "socket hang up").
  let s3: S3Client | undefined;
  let sfn: SFNClient | undefined;
  console.log(
    `local runtime at ${runtime.origin} (state: ${STATE}); floor at ${floor.origin}; ${CHUNK_BYTES}-byte chunks; functions on Node ${process.version}; ${os.cpus().length} cores; load average ${load()}`,
  );

  const seconds: Record<number, number> = {};
  try {
    // A first, unreported job on each starts every process, so the first measured size is not charged for cold starts.
    for (const [run, chunks] of [WARM_UP_CHUNKS, ...SIZES].entries()) {
      const floorRun = await runOnFloor(floor, chunks);
      s3?.destroy();
      sfn?.destroy();
      s3 = new S3Client({ endpoint: runtime.origin, region: "us-east-1", credentials });
      sfn = new SFNClient({ endpoint: runtime.origin, region: "us-east-1", credentials });
      const key = `documents/bench-${chunks}.txt`;
      await s3.send(new PutObjectCommand({ Bucket: outputs.pipelineBucket, Key: key, Body: documentOfChunks(chunks) }));
      const s3Before = { ...s3Service.requestCounts };
      const dynamoDbBefore = { ...dynamoDbService.requestCounts };
      const cpuBefore = ourCpu(floor);
      const started = process.hrtime.bigint();
      const response = await fetch(outputs.pipelineStartUrl, { method: "POST", body: JSON.stringify({ documentKey: key }) });
      const { executionArn } = (await response.json()) as { executionArn: string };
      const ours = await waitForSuccess(sfn, executionArn, chunks, started);
      const ourCpuUsed = cpuBetween(cpuBefore, ourCpu(floor));
      seconds[chunks] = ours.seconds;
      if (run === 0) {
        console.log(`warm-up: ${chunks} chunks in ${ours.seconds.toFixed(1)} s, floor ${floorRun.seconds.toFixed(1)} s (not counted)`);
        continue;
      }
      const { phases, jobId, succeededAt } = await phasesOf(sfn, executionArn);
      const ourPhases = timeline.phases(`chunks/${jobId}/`, succeededAt);
      const s3Requests = difference(s3Service.requestCounts, s3Before);
      const dynamoDbRequests = difference(dynamoDbService.requestCounts, dynamoDbBefore);
      const ourRate = chunks / ours.seconds;
      const floorRate = chunks / floorRun.seconds;
      console.log(`\n${chunks.toLocaleString("en-US")} chunks (load average ${load()}):`);
      console.log(`  ours:  ${ours.seconds.toFixed(1)} s end to end, ${ourRate.toFixed(0)} chunks/s`);
      console.log(`  floor: ${floorRun.seconds.toFixed(1)} s end to end, ${floorRate.toFixed(0)} chunks/s`);
      console.log(`  ratio ours / floor: ${(ourRate / floorRate).toFixed(2)}`);
      console.log(`  CPU ms per chunk, ours:  ${cpuPerChunk(ourCpuUsed, chunks, "runtime", "function processes")}`);
      console.log(`                    floor: ${cpuPerChunk(floorRun.cpu, chunks, "server", "splitter and processors")}`);
      if (ourCpuUsed && floorRun.cpu) {
        const cpuTotal = (cpu: TreeCpu) => cpu.own + cpu.descendants;
        console.log(
          `  CPU ratio floor / ours: ${(cpuTotal(floorRun.cpu) / cpuTotal(ourCpuUsed)).toFixed(2)} (≈ the throughput ratio on a saturated machine)`,
        );
      }
      console.log(`  where a chunk's time goes (mean per chunk), ours:  ${describePhases(ourPhases)}`);
      console.log(`                                              floor: ${describePhases(floorRun.phases)}`);
      console.log(`  workflow phases: ${phases}`);
      console.log(`  S3 requests per chunk:       ${(total(s3Requests) / chunks).toFixed(3)}  (${perChunk(s3Requests, chunks)})`);
      console.log(
        `  DynamoDB requests per chunk: ${(total(dynamoDbRequests) / chunks).toFixed(3)}  (${perChunk(dynamoDbRequests, chunks)})`,
      );
    }
    if (SIZES.length === 2) {
      const [small, large] = SIZES;
      console.log(
        `\ntime ratio ${large.toLocaleString("en-US")} / ${small.toLocaleString("en-US")} chunks: ${(seconds[large] / seconds[small]).toFixed(2)} (linear work: ${large / small})`,
      );
    }
    console.log(`(${logLines} runtime log lines)`);
  } finally {
    s3?.destroy();
    sfn?.destroy();
    await runtime.close();
    await floor.stop();
    if (stateDirectory) fs.rmSync(stateDirectory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
