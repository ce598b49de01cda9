/**
 * The floor of the document pipeline's per-chunk path: the same transport as the local runtime with no emulator
 * logic, so `bench/pipeline.ts` can print ours / floor measured side by side in one run (as bench/floor.ts does
 * for e2e).
 *
 * - a plain `node:http` server in its own process answers `POST /documents` with an execution ARN and hands the
 *   job over IPC to a splitter process, as the runtime invokes SplitDoc;
 * - the splitter PUTs every chunk with the real AWS SDK v3 `S3Client` over HTTP, 16 in flight (SplitDoc's
 *   upload concurrency);
 * - the server answers each PUT (keeping the bytes, so a GET can return them), then hands the chunk's event over
 *   IPC to one of four processor processes (the runtime's processes per function), one event per process at a
 *   time (one invocation per Lambda environment), queueing the rest;
 * - a processor makes the chunk's other four SDK calls over HTTP (S3 GetObject, DynamoDB PutItem and two
 *   UpdateItems, as handlers/pipeline/processChunk.ts does), which the server answers with `{}` or the bytes, then
 *   reports "done" over IPC;
 * - `DescribeExecution` (the SFN SDK's JSON protocol) answers SUCCEEDED once every chunk is done.
 *
 * The server also times each chunk's phases (PUT received → event queued → handed to a processor → done), the
 * same phases bench/pipelineTimeline.ts reads from the runtime. `startPipelineFloor()` starts it;
 * `node -r ts-node/register bench/pipelineFloor.ts` serves it on its own (port from $PORT).
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ChunkPhases } from "./pipelineTimeline";

const PROCESSORS = 4;
const UPLOAD_CONCURRENCY = 16;
const BUCKET = "floor-bucket";
const TABLE = "floor-table";
const credentials = { accessKeyId: "AKIDFLOOR", secretAccessKey: "floor" };

export interface PipelineFloor {
  origin: string;
  /** The floor server's process id (its splitter and processors are its children), for CPU readings. */
  pid: number;
  /** Starts a job of `chunks` chunks of `chunkBytes` bytes; resolves with its execution ARN. */
  startJob(chunks: number, chunkBytes: number): Promise<string>;
  /** The job's chunks' mean phases, once it is done. */
  phases(executionArn: string): Promise<ChunkPhases>;
  stop(): Promise<void>;
}

/** Starts the floor server (and its splitter and processors) in a child process, as the runtime is a process of its own. */
export async function startPipelineFloor(): Promise<PipelineFloor> {
  const child = spawn(process.execPath, ["-r", "ts-node/register", __filename, "--serve"], {
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", PORT: "0" },
    // The IPC channel only tells the floor when the bench has gone (it then stops, even after a kill -9 of the bench).
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const origin = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      text += chunk;
      const match = /Floor origin: (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`the pipeline floor exited before serving:\n${text}`)));
  });
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${origin}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`floor ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    origin,
    pid: child.pid!,
    startJob: async (chunks, chunkBytes) => ((await post("/documents", { chunks, chunkBytes })) as { executionArn: string }).executionArn,
    phases: async (executionArn) => (await post("/_floor/phases", { executionArn })) as ChunkPhases,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Job {
  executionArn: string;
  chunks: number;
  done: number;
  /** Per chunk: PUT received, event queued, handed to a processor, done (ms, performance.now()). */
  times: Map<string, { received: number; queued: number; started: number; finished: number }>;
  finishedAt?: number;
  succeededAt?: number;
}

function serve(): void {
  let origin = "";
  const objects = new Map<string, Buffer>();
  const jobs = new Map<string, Job>();
  const jobOfKey = (key: string) => jobs.get(key.split("/")[1]);
  const splitter = fork(__filename, ["--splitter"]);
  const processors = Array.from({ length: PROCESSORS }, () => fork(__filename, ["--processor"]));
  const idle: ChildProcess[] = [...processors];
  const queue: string[] = [];
  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) {
      const key = queue.shift()!;
      const timing = jobOfKey(key)?.times.get(key);
      if (timing) timing.started = performance.now();
      idle.pop()!.send({ origin, key });
    }
  };
  for (const processor of processors) {
    processor.on("message", (message: { done: string }) => {
      const job = jobOfKey(message.done);
      const timing = job?.times.get(message.done);
      if (job && timing) {
        timing.finished = performance.now();
        // Nothing follows the last chunk here: the job has succeeded.
        if (++job.done === job.chunks) job.finishedAt = job.succeededAt = timing.finished;
      }
      idle.push(processor);
      dispatch();
    });
  }

  const server = http.createServer((request, response) => {
    const received = performance.now();
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = Buffer.concat(parts);
      const target = String(request.headers["x-amz-target"] ?? "");
      const path = decodeURIComponent((request.url ?? "/").split("?")[0]);
      if (request.method === "POST" && path === "/documents") {
        const { chunks, chunkBytes } = JSON.parse(body.toString("utf8")) as { chunks: number; chunkBytes: number };
        const jobId = `job${jobs.size + 1}`;
        const executionArn = `arn:aws:states:us-east-1:000000000000:execution:FloorPipeline:${jobId}`;
        jobs.set(jobId, { executionArn, chunks, done: 0, times: new Map() });
        splitter.send({ origin, jobId, chunks, chunkBytes });
        return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ executionArn }));
      }
      if (request.method === "POST" && path === "/_floor/phases") {
        const { executionArn } = JSON.parse(body.toString("utf8")) as { executionArn: string };
        const job = jobs.get(executionArn.slice(executionArn.lastIndexOf(":") + 1))!;
        return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(phasesOf(job)));
      }
      if (target === "AWSStepFunctions.DescribeExecution") {
        const { executionArn } = JSON.parse(body.toString("utf8")) as { executionArn: string };
        const job = jobs.get(executionArn.slice(executionArn.lastIndexOf(":") + 1));
        const status = job?.finishedAt === undefined ? "RUNNING" : "SUCCEEDED";
        const output = JSON.stringify({ chunkCount: job?.done ?? 0 });
        return response
          .writeHead(200, { "content-type": "application/x-amz-json-1.0" })
          .end(JSON.stringify({ executionArn, status, output, startDate: 0, stateMachineArn: "arn" }));
      }
      if (target.startsWith("DynamoDB_20120810."))
        return response.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      const key = path.split("/").slice(2).join("/");
      if (request.method === "PUT") {
        objects.set(key, body);
        response.writeHead(200, { ETag: '"floor"' }).end();
        const job = jobOfKey(key);
        job?.times.set(key, { received, queued: performance.now(), started: NaN, finished: NaN });
        queue.push(key);
        return dispatch();
      }
      const object = objects.get(key) ?? Buffer.alloc(0);
      response.writeHead(200, { "content-type": "text/plain", "content-length": object.length, ETag: '"floor"' }).end(object);
    });
  });
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.stdout.write(`Floor origin: ${origin}\n`);
  });
  const stop = () => {
    for (const worker of [splitter, ...processors]) worker.kill("SIGTERM");
    server.close();
    server.closeAllConnections();
    if (process.connected) process.disconnect();
  };
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
}

function phasesOf(job: Job): ChunkPhases {
  const chunks = [...job.times.values()];
  const mean = (measure: (chunk: (typeof chunks)[number]) => number) =>
    chunks.reduce((sum, chunk) => sum + measure(chunk), 0) / chunks.length;
  return {
    chunks: chunks.length,
    putToEventMs: mean((chunk) => chunk.queued - chunk.received),
    eventToStartMs: mean((chunk) => chunk.started - chunk.queued),
    invocationMs: mean((chunk) => chunk.finished - chunk.started),
    completionMs: (job.succeededAt ?? NaN) - (job.finishedAt ?? NaN),
  };
}

function split(): void {
  let s3: S3Client | undefined;
  process.on("message", async (message: { origin: string; jobId: string; chunks: number; chunkBytes: number }) => {
    s3 ??= new S3Client({ endpoint: message.origin, region: "us-east-1", credentials, forcePathStyle: true, maxAttempts: 1 });
    const body = Buffer.alloc(message.chunkBytes, "a");
    let next = 0;
    const upload = async () => {
      while (next < message.chunks) {
        const index = next++;
        const Key = `chunks/${message.jobId}/${String(index).padStart(6, "0")}.txt`;
        await s3!.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: body, ContentType: "text/plain; charset=utf-8" }));
      }
    };
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, upload));
  });
  process.once("SIGTERM", () => process.exit());
  process.once("disconnect", () => process.exit());
}

function processChunks(): void {
  let s3: S3Client | undefined;
  let dynamodb: DynamoDBClient | undefined;
  process.on("message", async (message: { origin: string; key: string }) => {
    s3 ??= new S3Client({ endpoint: message.origin, region: "us-east-1", credentials, forcePathStyle: true, maxAttempts: 1 });
    dynamodb ??= new DynamoDBClient({ endpoint: message.origin, region: "us-east-1", credentials, maxAttempts: 1 });
    const [, jobId, name] = message.key.split("/");
    const key = (sortKey: string) => ({ jobId: { S: jobId }, sk: { S: sortKey } });
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: message.key }));
    const text = await object.Body!.transformToString();
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...key(`chunk#${name}`), bytes: { N: String(text.length) }, counted: { BOOL: false } },
        ConditionExpression: "attribute_not_exists(sk)",
      }),
    );
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key("job"),
        UpdateExpression: "ADD doneCount :one",
        ExpressionAttributeValues: { ":one": { N: "1" } },
        ReturnValues: "ALL_NEW",
      }),
    );
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key(`chunk#${name}`),
        UpdateExpression: "SET counted = :true",
        ExpressionAttributeValues: { ":true": { BOOL: true } },
      }),
    );
    process.send!({ done: message.key });
  });
  process.once("SIGTERM", () => process.exit());
  process.once("disconnect", () => process.exit());
}

if (require.main === module) {
  if (process.argv.includes("--splitter")) split();
  else if (process.argv.includes("--processor")) processChunks();
  else serve();
}
