/**
 * SplitDoc, the pipeline's first step (a Lambda task, before the wait): reads the document, records the job
 * (its chunk count; no token yet) and writes the chunks under the job's prefix, whose ObjectCreated events
 * start the processors. It returns `{jobId, documentKey, chunkCount}`, and the WaitForCompletion step then
 * hands its task token to that job (receiveToken.ts).
 *
 * The job is recorded before any chunk exists, so every chunk event finds its job, even one processed before
 * this function has returned. The job id is derived from the execution (its ARN and start time), so a retried
 * invocation in the same execution re-creates nothing and rewrites identical chunks (their duplicate events
 * are absorbed by the processors), while every execution is a new job.
 */
import { createHash } from "node:crypto";
import { createJob, type SendsDynamoDbCommands } from "./jobStore";
import { PROCESSING_FAILED_ERROR } from "../../workflow/contract";
import { nowSeconds } from "./resume";
import { chunkObjectKey, MAX_CHUNKS, type PipelineSettings } from "./settings";
import { forEachWithConcurrency, readObject, type SendsS3Commands, writeObject } from "./storage";
import { splitIntoChunks } from "./textChunks";

/** The execution input: the document itself, or the key of a document already in the bucket. */
export interface DocumentInput {
  /** The text (at most what an execution input holds: 256 KB). Stored under the document prefix first. */
  document?: string;
  /** Key of a document under the document prefix, e.g. "documents/report.txt". */
  documentKey?: string;
}

/** SplitDoc's event, built by the state's payload from the Context Object and the execution input. */
export interface SplitEvent {
  /** `$$.Execution.Id`, the execution's ARN. */
  executionId: string;
  /** `$$.Execution.StartTime`: with the ARN, unique even when an execution name is reused after 90 days. */
  startTime: string;
  input: DocumentInput;
}

/**
 * Bad input: the caller's mistake, not a crash. Lambda reports the error's name as its `errorType`, which
 * reaches the state's Catch as the error name, so the execution fails on the ProcessingFailed path.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html
 * A plain Error with a name, not a subclass: Pulumi serializes classes as functions, and an Error subclass
 * then loses its message (see textChunks.ts).
 */
export function processingFailed(message: string): Error {
  const error = new Error(message);
  error.name = PROCESSING_FAILED_ERROR;
  return error;
}

export interface SplitResult {
  jobId: string;
  documentKey: string;
  chunkCount: number;
}

/** Chunk uploads in flight at once: enough to keep S3 busy, few enough for a 128 MB function. */
const UPLOAD_CONCURRENCY = 16;

export function jobIdForExecution(executionId: string, startTime: string): string {
  return createHash("sha256").update(`${executionId}\n${startTime}`).digest("hex").slice(0, 32);
}

export async function splitDocument(
  event: SplitEvent,
  clients: { s3: SendsS3Commands; dynamodb: SendsDynamoDbCommands },
  settings: PipelineSettings,
  log: (line: string) => void = (line) => console.log(line),
): Promise<SplitResult> {
  if (typeof event?.executionId !== "string" || !event.executionId || typeof event.startTime !== "string" || !event.startTime)
    throw new Error(
      `SplitDoc needs the execution's executionId ($$.Execution.Id) and startTime ($$.Execution.StartTime) in its payload; received ${JSON.stringify(
        { executionId: event?.executionId, startTime: event?.startTime },
      )}`,
    );
  const jobId = jobIdForExecution(event.executionId, event.startTime);
  const input = event.input ?? {};

  const rejection = (reason: string): Error => {
    log(`job ${jobId}: rejected: ${reason}`);
    return processingFailed(reason);
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
      throw rejection(`documentKey ${JSON.stringify(documentKey)} must name an object under ${JSON.stringify(settings.documentPrefix)}`);
    }
    try {
      document = await readObject(clients.s3, settings.bucketName, documentKey);
    } catch (error) {
      // Without s3:ListBucket (not granted: the function may read only its prefix) S3 answers a missing key
      // with AccessDenied instead of NoSuchKey. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
      if (error instanceof Error && (error.name === "NoSuchKey" || error.name === "AccessDenied")) {
        throw rejection(`document s3://${settings.bucketName}/${documentKey} does not exist or is not readable (${error.name})`);
      }
      throw error;
    }
  } else {
    throw rejection(
      `the input must have exactly one of "document" (the text) or "documentKey" (an S3 key under ${settings.documentPrefix}); received keys: ${Object.keys(input).join(", ") || "none"}`,
    );
  }

  const chunks = splitIntoChunks(document, settings.chunkSizeBytes);
  if (chunks.length > MAX_CHUNKS) {
    throw rejection(
      `the document is ${document.length} bytes: ${chunks.length} chunks of at most ${settings.chunkSizeBytes} bytes, more than ${MAX_CHUNKS}; raise chunkSizeBytes`,
    );
  }
  const created = await createJob(clients.dynamodb, settings.tableName, {
    jobId,
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
