/**
 * The chunk processor, subscribed to the bucket's ObjectCreated events under the chunk prefix. Events arrive
 * at least once and in any order (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html),
 * and a failed invocation is retried, so every step is safe to repeat:
 *
 * 1. read and process the chunk (pure: the same chunk gives the same result);
 * 2. record the outcome under the idempotency key `jobId` + `chunk#index` (first writer wins);
 * 3. count it: atomic `ADD doneCount :1` on the job, then mark the record counted. A retry that finds the
 *    record written but not marked cannot tell whether its crashed attempt counted, so it counts again and
 *    says so (`overcountSuspects`); completeness is then checked against the records themselves;
 * 4. the one caller that sees the job complete claims and sends the resume (see resume.ts).
 *
 * Each chunk costs one GetObject and three or four single-item DynamoDB writes: O(1), whatever the job's size.
 */
import type { S3Event } from "aws-lambda";
import { countChunkDone, getJob, markChunkCounted, recordChunk, type ChunkOutcome } from "./jobStore";
import { nowSeconds, type PipelineClients, resumeIfComplete, resumeWithFailure, type ResumeResult } from "./resume";
import { parseChunkObjectKey, type PipelineSettings } from "./settings";
import { decodeEventKey, readObject } from "./storage";
import { type ChunkProcessor, countLinesWordsBytes } from "./textChunks";

export interface ChunkReport {
  key: string;
  jobId?: string;
  chunkIndex?: number;
  /** What happened: `ignored` (not a chunk key, or no such job), `duplicate` (already counted), `counted`, `failed`. */
  status: "ignored" | "duplicate" | "counted" | "failed";
  resume?: ResumeResult;
}

export interface ProcessChunkOptions {
  /** The processing step. @default countLinesWordsBytes (wc) */
  processChunk?: ChunkProcessor;
  log?: (line: string) => void;
}

/** Handles one S3 event (S3 sends one record per event; all records are handled in order). */
export async function processChunkEvent(
  event: S3Event,
  clients: PipelineClients,
  settings: PipelineSettings,
  options: ProcessChunkOptions = {},
): Promise<ChunkReport[]> {
  const reports: ChunkReport[] = [];
  for (const record of event.Records ?? []) {
    if (record.s3.bucket.name !== settings.bucketName)
      throw new Error(`event for bucket ${record.s3.bucket.name}; this processor serves ${settings.bucketName}`);
    reports.push(await processChunkObject(decodeEventKey(record.s3.object.key), clients, settings, options));
  }
  return reports;
}

export async function processChunkObject(
  key: string,
  clients: PipelineClients,
  settings: PipelineSettings,
  options: ProcessChunkOptions = {},
): Promise<ChunkReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const chunk = parseChunkObjectKey(settings, key);
  if (!chunk) {
    log(`ignored ${key}: not a chunk key (${settings.chunkPrefix}<jobId>/<index>.txt)`);
    return { key, status: "ignored" };
  }
  const { jobId, chunkIndex } = chunk;
  const { tableName } = settings;

  // 1. Process. A throw from the processing step is the chunk's permanent outcome; a throw reading S3 is
  //    not (it propagates and the invocation is retried).
  const body = await readObject(clients.s3, settings.bucketName, key);
  let outcome: ChunkOutcome;
  try {
    outcome = { status: "done", result: await (options.processChunk ?? countLinesWordsBytes)(body, { jobId, chunkIndex, key }) };
  } catch (error) {
    // Duck-typed: a processing step's own error classes may not survive serialization as Error subclasses.
    const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
    outcome = {
      status: "failed",
      error: typeof message === "string" ? `${typeof name === "string" ? name : "Error"}: ${message}` : String(error),
    };
  }

  // 2. Record. An earlier delivery's record wins, so the chunk's outcome never changes.
  const earlier = await recordChunk(
    clients.dynamodb,
    tableName,
    jobId,
    chunkIndex,
    outcome,
    nowSeconds() + settings.retentionSeconds + settings.waitTimeoutSeconds,
  );
  if (earlier)
    outcome = earlier.status === "done" ? { status: "done", result: earlier.result } : { status: "failed", error: earlier.error };

  if (outcome.status === "failed") {
    const job = await getJob(clients.dynamodb, tableName, jobId);
    if (!job) return ignoreStray(key, jobId, chunkIndex, log);
    const cause = `chunk ${chunkIndex} of ${job.chunkCount} (s3://${settings.bucketName}/${key}) failed: ${outcome.error}`;
    const resume = await resumeWithFailure(job, { chunkIndex, cause }, clients, settings, log);
    return { key, jobId, chunkIndex, status: "failed", resume };
  }

  // 3. Count, exactly once where provable.
  if (earlier?.counted) {
    // A duplicate of a fully counted chunk: only make sure a claimed resume was sent (a crashed claimant's retry lands here).
    const job = await getJob(clients.dynamodb, tableName, jobId);
    if (!job) return ignoreStray(key, jobId, chunkIndex, log);
    return { key, jobId, chunkIndex, status: "duplicate", resume: await resumeIfComplete(job, clients, settings, log) };
  }
  const job = await countChunkDone(clients.dynamodb, tableName, jobId, earlier !== undefined);
  if (!job) return ignoreStray(key, jobId, chunkIndex, log);
  await markChunkCounted(clients.dynamodb, tableName, jobId, chunkIndex);

  // 4. Resume when complete.
  return { key, jobId, chunkIndex, status: "counted", resume: await resumeIfComplete(job, clients, settings, log) };
}

/** An object under the chunk prefix whose job does not exist (never created, or expired): nothing to resume. */
function ignoreStray(key: string, jobId: string, chunkIndex: number, log: (line: string) => void): ChunkReport {
  log(`ignored ${key}: job ${jobId} does not exist`);
  return { key, jobId, chunkIndex, status: "ignored" };
}
