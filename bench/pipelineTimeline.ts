/**
 * Where a chunk's time goes in the local runtime, for bench/pipeline.ts: each chunk's PUT received by S3 → its
 * notification queued as an asynchronous invocation → a function process starting it → its result back (the
 * processor's four SDK calls and its work), and per job the last result → the execution's success.
 *
 * The runtime runs in the bench's process, so the timeline wraps the methods those moments pass through
 * (prototype methods of the S3 service, the function and its processes) instead of adding hooks to the runtime
 * for a benchmark's sake. bench/pipelineFloor.ts times the same phases in the floor.
 */
import type { IncomingMessage } from "node:http";
import { FunctionProcess, type InvocationRequest } from "../local/lambda/functionProcess";
import { LocalFunction } from "../local/lambda/localFunction";
import { S3Service } from "../local/s3/service";

/** Mean milliseconds per chunk in each phase, and the job's completion (its last chunk done → succeeded). */
export interface ChunkPhases {
  chunks: number;
  /** The chunk's PUT received → its event queued (S3: checks, storing, durability, the notification). */
  putToEventMs: number;
  /** Event queued → a process starts it (waiting for a free process: grows with the backlog). */
  eventToStartMs: number;
  /** Started → result back: the processor's four SDK calls, its work, and the IPC both ways. */
  invocationMs: number;
  /** The last chunk's result → the execution succeeded (the token, the resume, the aggregation; once per job). */
  completionMs: number;
}

interface ChunkTimes {
  received: number;
  queued: number;
  started: number;
  finished: number;
}

/** Starts recording; call before the runtime starts. Times are `performance.now()` milliseconds. */
export function recordChunkTimeline(chunkPrefix = "chunks/"): {
  /** The phases of the chunks under `jobPrefix` (e.g. `chunks/<jobId>/`), with the job's succeeded time. */
  phases(jobPrefix: string, succeededAt: number): ChunkPhases;
} {
  const chunks = new Map<string, ChunkTimes>();
  const keyOfRequest = new Map<string, string>();
  const chunkOf = (key: string) => {
    let times = chunks.get(key);
    if (!times) chunks.set(key, (times = { received: NaN, queued: NaN, started: NaN, finished: NaN }));
    return times;
  };

  const handle = S3Service.prototype.handle;
  S3Service.prototype.handle = function (this: S3Service, req: IncomingMessage, ...rest: [any, Buffer]) {
    if (req.method === "PUT") {
      const path = decodeURIComponent((req.url ?? "").split("?")[0]);
      const key = path.slice(path.indexOf("/", 1) + 1);
      if (key.startsWith(chunkPrefix)) chunkOf(key).received = performance.now();
    }
    return handle.call(this, req, ...rest);
  };

  const invokeAsync = LocalFunction.prototype.invokeAsync;
  LocalFunction.prototype.invokeAsync = function (this: LocalFunction, payload: string) {
    const requestId = invokeAsync.call(this, payload);
    const key = /"key":"([^"]*)"/.exec(payload)?.[1];
    if (key !== undefined) {
      const decoded = decodeURIComponent(key.replace(/\+/g, " "));
      if (decoded.startsWith(chunkPrefix)) {
        chunkOf(decoded).queued = performance.now();
        keyOfRequest.set(requestId, decoded);
      }
    }
    return requestId;
  };

  const invoke = FunctionProcess.prototype.invoke;
  FunctionProcess.prototype.invoke = async function (this: FunctionProcess, request: InvocationRequest) {
    const key = keyOfRequest.get(request.requestId);
    if (key !== undefined) chunkOf(key).started = performance.now();
    const done = await invoke.call(this, request);
    if (key !== undefined) chunkOf(key).finished = performance.now();
    return done;
  };

  return {
    phases(jobPrefix, succeededAt) {
      const times = [...chunks].filter(([key]) => key.startsWith(jobPrefix)).map(([, chunk]) => chunk);
      const mean = (measure: (chunk: ChunkTimes) => number) => times.reduce((sum, chunk) => sum + measure(chunk), 0) / times.length;
      const lastFinished = Math.max(...times.map((chunk) => chunk.finished));
      return {
        chunks: times.length,
        putToEventMs: mean((chunk) => chunk.queued - chunk.received),
        eventToStartMs: mean((chunk) => chunk.started - chunk.queued),
        invocationMs: mean((chunk) => chunk.finished - chunk.started),
        completionMs: succeededAt - lastFinished,
      };
    },
  };
}
