/**
 * Resuming a job's workflow through its task token, exactly once, from whichever chunk processor gets there.
 *
 * Why it is exactly once:
 * - Only a caller that has established completeness (or a permanent chunk failure) may claim, and the claim
 *   is a conditional write (`resumeState` pending → claimed) that one caller wins; the outcome it records
 *   (success, or failure naming the chunk) is final.
 * - Whoever then finds the job claimed but not yet signalled (the claimant, or its retry after a crash, or a
 *   duplicate event) sends the recorded outcome. Step Functions accepts the first answer to a token and
 *   answers every later one with TaskTimedOut, which therefore means "done": the workflow resumes once.
 * - A token that already timed out answers TaskTimedOut too; the job is marked signalled and left alone.
 */
// The state machine's Catch matches this error name verbatim: one definition for both sides.
import { PROCESSING_FAILED_ERROR } from "../../workflow/contract";
import type { SendsCommands } from "../signal";
import { createSignaller } from "../signal";
import { claimResume, countDoneChunks, type JobRecord, markSignalled, type SendsDynamoDbCommands } from "./jobStore";
import type { PipelineSettings } from "./settings";

export interface PipelineClients {
  s3: import("./storage").SendsS3Commands;
  dynamodb: SendsDynamoDbCommands;
  sfn: SendsCommands;
}

/** What the workflow receives on success, and hands to the aggregation step. */
export interface JobCompletion {
  jobId: string;
  bucket: string;
  documentKey: string;
  chunkCount: number;
}

export type ResumeResult = "not-complete" | "claimed-elsewhere" | "signalled" | "already-signalled" | "token-closed";

/**
 * Called with the job as one counting write returned it. Claims a success resume when the count proves
 * completeness, and (re)sends the outcome of a claimed job.
 */
export async function resumeIfComplete(
  job: JobRecord,
  clients: PipelineClients,
  settings: PipelineSettings,
  log: (line: string) => void,
): Promise<ResumeResult> {
  if (job.resumeState === "signalled") return "already-signalled";
  if (job.resumeState === "pending") {
    if (job.doneCount < job.chunkCount) return "not-complete";
    // The counter is exact unless a retry had to count a chunk it could not prove uncounted. Then (only
    // then: after a crash) the records themselves are counted, once.
    if (job.overcountSuspects > 0 || job.doneCount > job.chunkCount) {
      const done = await countDoneChunks(clients.dynamodb, settings.tableName, job.jobId);
      if (done < job.chunkCount) return "not-complete";
    }
    const claimed = await claimResume(clients.dynamodb, settings.tableName, job.jobId, { outcome: "success" });
    if (!claimed) return "claimed-elsewhere";
    job = claimed;
  }
  return sendClaimedOutcome(job, clients, settings, log);
}

/** A chunk failed for good: claim the failure resume (unless an outcome is already decided) and send it. */
export async function resumeWithFailure(
  job: JobRecord,
  failure: { chunkIndex: number; cause: string },
  clients: PipelineClients,
  settings: PipelineSettings,
  log: (line: string) => void,
): Promise<ResumeResult> {
  if (job.resumeState === "signalled") return "already-signalled";
  if (job.resumeState === "pending") {
    const claimed = await claimResume(clients.dynamodb, settings.tableName, job.jobId, {
      outcome: "failure",
      failedChunk: failure.chunkIndex,
      cause: failure.cause,
    });
    if (!claimed) return "claimed-elsewhere";
    job = claimed;
  }
  return sendClaimedOutcome(job, clients, settings, log);
}

async function sendClaimedOutcome(
  job: JobRecord,
  clients: PipelineClients,
  settings: PipelineSettings,
  log: (line: string) => void,
): Promise<ResumeResult> {
  const signaller = createSignaller(clients.sfn);
  const result =
    job.outcome === "failure"
      ? await signaller.failure(job.taskToken, { error: PROCESSING_FAILED_ERROR, cause: job.cause ?? `chunk ${job.failedChunk} failed` })
      : await signaller.success(job.taskToken, {
          jobId: job.jobId,
          bucket: settings.bucketName,
          documentKey: job.documentKey,
          chunkCount: job.chunkCount,
        } satisfies JobCompletion);
  const signalResult = result.delivered ? "delivered" : result.reason;
  await markSignalled(clients.dynamodb, settings.tableName, job.jobId, signalResult, nowSeconds() + settings.retentionSeconds);
  if (!result.delivered) {
    log(`job ${job.jobId}: ${job.outcome} not delivered, the task had already closed (TaskTimedOut: ${result.message}); treated as done`);
    return "token-closed";
  }
  log(
    `job ${job.jobId}: resumed with ${job.outcome}${job.outcome === "failure" ? ` (chunk ${job.failedChunk})` : ` (${job.chunkCount} chunks)`}`,
  );
  return "signalled";
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
