/**
 * SplitDoc, the task that receives the task token: reads the document, records the job (with its token and
 * chunk count) and writes the chunks under the job's prefix, whose ObjectCreated events start the processors.
 * It returns without answering the token; the chunk that completes the job does (resume.ts).
 *
 * The job is recorded before any chunk exists, so every chunk event finds its job. The job id is derived from
 * the token, so a retried invocation with the same token re-creates nothing and rewrites identical chunks
 * (their duplicate events are absorbed by the processors), while a retried task (new token) is a new job.
 */
import { createHash } from "node:crypto";
import { createJob, type SendsDynamoDbCommands } from "./jobStore";
import { PROCESSING_FAILED_ERROR } from "../../workflow/contract";
import { nowSeconds } from "./resume";
import { chunkObjectKey, MAX_CHUNKS, type PipelineSettings } from "./settings";
import { forEachWithConcurrency, readObject, type SendsS3Commands, writeObject } from "./storage";
import { splitIntoChunks } from "./textChunks";
import { createSignaller, type SendsCommands } from "../signal";

/** The execution input: the document itself, or the key of a document already in the bucket. */
export interface DocumentInput {
  /** The text (at most what an execution input holds: 256 KB). Stored under the document prefix first. */
  document?: string;
  /** Key of a document under the document prefix, e.g. "documents/report.txt". */
  documentKey?: string;
}

export interface SplitEvent {
  taskToken: string;
  input: DocumentInput;
}

export interface SplitResult {
  jobId: string;
  documentKey: string;
  chunkCount: number;
}

/** Chunk uploads in flight at once: enough to keep S3 busy, few enough for a 128 MB function. */
const UPLOAD_CONCURRENCY = 16;

export function jobIdForToken(taskToken: string): string {
  return createHash("sha256").update(taskToken).digest("hex").slice(0, 32);
}

export async function splitDocument(
  event: SplitEvent,
  clients: { s3: SendsS3Commands; dynamodb: SendsDynamoDbCommands; sfn: SendsCommands },
  settings: PipelineSettings,
  log: (line: string) => void = (line) => console.log(line),
): Promise<SplitResult | { rejected: string }> {
  if (typeof event?.taskToken !== "string" || !event.taskToken)
    throw new Error("SplitDoc needs the task token in the payload's taskToken field");
  const jobId = jobIdForToken(event.taskToken);
  const input = event.input ?? {};

  // Bad input is the caller's mistake, not a crash: the workflow fails on the ProcessingFailed path with the reason.
  const reject = async (reason: string) => {
    log(`job ${jobId}: rejected: ${reason}`);
    await createSignaller(clients.sfn).failure(event.taskToken, { error: PROCESSING_FAILED_ERROR, cause: reason });
    return { rejected: reason };
  };

  let documentKey: string;
  let document: Buffer;
  if (typeof input.document === "string" && input.documentKey === undefined) {
    documentKey = `${settings.documentPrefix}${jobId}.txt`;
    document = Buffer.from(input.document, "utf8");
    await writeObject(clients.s3, settings.bucketName, documentKey, document, "text/plain; charset=utf-8");
  } else if (typeof input.documentKey === "string" && input.document === undefined) {
    documentKey = input.documentKey;
    if (!documentKey.startsWith(settings.documentPrefix) || documentKey.length === settings.documentPrefix.length) {
      return reject(`documentKey ${JSON.stringify(documentKey)} must name an object under ${JSON.stringify(settings.documentPrefix)}`);
    }
    try {
      document = await readObject(clients.s3, settings.bucketName, documentKey);
    } catch (error) {
      // Without s3:ListBucket (not granted: the function may read only its prefix) S3 answers a missing key
      // with AccessDenied instead of NoSuchKey. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
      if (error instanceof Error && (error.name === "NoSuchKey" || error.name === "AccessDenied")) {
        return reject(`document s3://${settings.bucketName}/${documentKey} does not exist or is not readable (${error.name})`);
      }
      throw error;
    }
  } else {
    return reject(
      `the input must have exactly one of "document" (the text) or "documentKey" (an S3 key under ${settings.documentPrefix}); received keys: ${Object.keys(input).join(", ") || "none"}`,
    );
  }

  const chunks = splitIntoChunks(document, settings.chunkSizeBytes);
  if (chunks.length > MAX_CHUNKS) {
    return reject(
      `the document is ${document.length} bytes: ${chunks.length} chunks of at most ${settings.chunkSizeBytes} bytes, more than ${MAX_CHUNKS}; raise chunkSizeBytes`,
    );
  }
  const created = await createJob(clients.dynamodb, settings.tableName, {
    jobId,
    taskToken: event.taskToken,
    documentKey,
    chunkCount: chunks.length,
    expiresAt: nowSeconds() + settings.waitTimeoutSeconds + settings.retentionSeconds,
  });
  await forEachWithConcurrency(chunks, UPLOAD_CONCURRENCY, (chunk, index) =>
    writeObject(clients.s3, settings.bucketName, chunkObjectKey(settings, jobId, index), chunk, "text/plain; charset=utf-8"),
  );
  log(
    `job ${jobId}: ${documentKey} (${document.length} bytes) → ${chunks.length} chunks under ${settings.chunkPrefix}${jobId}/${created ? "" : " (retry: job already recorded)"}`,
  );
  return { jobId, documentKey, chunkCount: chunks.length };
}
