/**
 * Resuming a job's workflow through its task token, exactly once, from whichever chunk processor or token
 * receiver gets there. The token reaches the job only after SplitDoc has returned (the wait step starts then),
 * so chunks may all finish, or one may fail, before, after or while the token is stored.
 *
 * Why it is exactly once:
 * - Deciding and sending are separate. Only a caller that has established completeness (or a permanent chunk
 *   failure) may claim, token or not, and the claim is a conditional write (`resumeState` pending → claimed)
 *   that one caller wins; the outcome it records (success, or failure naming the chunk) is final.
 * - Sending needs the claim and the token. The claim and the token are each set by a single-item write that
 *   returns the job after it; DynamoDB serializes the two, so the later of them sees both and its caller sends
 *   (the claimant if the token was there, else the receiver). A claim without a token answers `awaiting-token`.
 * - Whoever later finds the job claimed, with its token, but not yet signalled (a claimant's retry after a
 *   crash, a duplicate event, a retried receiver) sends the recorded outcome again. Step Functions accepts the
 *   first answer to a token and answers every later one with TaskTimedOut, which therefore means "done".
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

export type ResumeResult = "not-complete" | "claimed-elsewhere" | "awaiting-token" | "signalled" | "already-signalled" | "token-closed";

/** What deciding and signalling need: the job table and Step Functions (the chunks are not read). */
export type ResumeClients = Pick<PipelineClients, "dynamodb" | "sfn">;

export interface ResumeOptions {
  /**
   * Count the chunk records when the counter is doubtful (after a crash). The token receiver passes false:
   * it may not Query, and need not, since the processor that counted doubtfully checks the records itself.
   * @default true
   */
  countRecordsWhenDoubtful?: boolean;
}

/**
 * Called with the job as one write returned it (a chunk's count, or the token's hand-over). Claims a success
 * resume when the count proves completeness, and (re)sends the outcome of a claimed job whose token is known.
 */
export async function resumeIfComplete(
  job: JobRecord,
  clients: ResumeClients,
  settings: PipelineSettings,
  log: (line: string) => void,
  options: ResumeOptions = {},
): Promise<ResumeResult> {
  if (job.resumeState === "signalled") return "already-signalled";
  if (job.resumeState === "pending") {
    if (job.doneCount < job.chunkCount) return "not-complete";
    // The counter is exact unless a retry had to count a chunk it could not prove uncounted. Then (only
    // then: after a crash) the records themselves are counted, once.
    if (job.overcountSuspects > 0 || job.doneCount > job.chunkCount) {
      if (options.countRecordsWhenDoubtful === false) return "not-complete";
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
  clients: ResumeClients,
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
  clients: ResumeClients,
  settings: PipelineSettings,
  log: (line: string) => void,
): Promise<ResumeResult> {
  const { taskToken } = job;
  if (taskToken === undefined) {
    // The wait has not handed its token over yet; the receiver's write will find this claim and send it.
    log(`job ${job.jobId}: ${job.outcome} decided; the token receiver will send it`);
    return "awaiting-token";
  }
  const signaller = createSignaller(clients.sfn);
  const result =
    job.outcome === "failure"
      ? await signaller.failure(taskToken, { error: PROCESSING_FAILED_ERROR, cause: job.cause ?? `chunk ${job.failedChunk} failed` })
      : await signaller.success(taskToken, {
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
