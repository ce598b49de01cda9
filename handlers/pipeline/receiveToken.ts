/**
 * The token receiver of the WaitForCompletion step: it hands the wait's task token to the job SplitDoc
 * recorded, and returns without answering it. If the chunks have already decided the job's outcome (all done,
 * or one failed for good) it sends that outcome itself; if every chunk is counted but nobody has claimed yet,
 * it claims. See resume.ts for why exactly one caller sends.
 *
 * Calls: one UpdateItem (the token), then, only when an outcome is due, the claim (UpdateItem), SendTask* and
 * the signalled mark (UpdateItem). A retry with the same token repeats the first write harmlessly.
 */
import { storeTaskToken } from "./jobStore";
import { type ResumeClients, resumeIfComplete, type ResumeResult } from "./resume";
import type { PipelineSettings } from "./settings";

/** The receiver's event, built by the state's payload: the token and SplitDoc's job id. */
export interface TokenEvent {
  taskToken: string;
  jobId: string;
}

export interface TokenReport {
  jobId: string;
  /** What happened after the hand-over: `not-complete` (the last chunk will send), `signalled`, ... */
  resume: ResumeResult;
}

export async function receiveToken(
  event: TokenEvent,
  clients: ResumeClients,
  settings: PipelineSettings,
  log: (line: string) => void = (line) => console.log(line),
): Promise<TokenReport> {
  if (typeof event?.taskToken !== "string" || !event.taskToken)
    throw new Error(`the token receiver needs the task token in the payload's taskToken field; received ${JSON.stringify(event)}`);
  if (typeof event.jobId !== "string" || !/^[0-9a-f]{32}$/.test(event.jobId))
    throw new Error(`the token receiver needs SplitDoc's jobId (32 hex digits) in the payload; received ${JSON.stringify(event.jobId)}`);
  const job = await storeTaskToken(clients.dynamodb, settings.tableName, event.jobId, event.taskToken);
  const resume = await resumeIfComplete(job, clients, settings, log, { countRecordsWhenDoubtful: false });
  log(`job ${job.jobId}: task token stored (${job.doneCount} of ${job.chunkCount} chunks counted, ${resume})`);
  return { jobId: job.jobId, resume };
}
