/**
 * ContinueProcess: runs once the job has resumed with success. Sums the per-chunk results (one read of the
 * job's chunk records: O(chunks), once per job), writes the total to `results/<jobId>.json`, and returns it
 * as the execution's output. Safe to retry: it writes the same result again.
 */
import { chunkRecords, type SendsDynamoDbCommands } from "./jobStore";
import type { JobCompletion } from "./resume";
import { resultObjectKey, type PipelineSettings } from "./settings";
import { type SendsS3Commands, writeObject } from "./storage";
import type { ChunkResult } from "./textChunks";

export interface JobResult {
  jobId: string;
  documentKey: string;
  chunkCount: number;
  /** Each processing result name summed over all chunks, e.g. `{ lines, words, bytes }`. */
  totals: ChunkResult;
  /** Where the result was written: s3://bucket/results/<jobId>.json */
  resultLocation: string;
}

export async function aggregateResults(
  completion: JobCompletion,
  clients: { s3: SendsS3Commands; dynamodb: SendsDynamoDbCommands },
  settings: PipelineSettings,
): Promise<JobResult> {
  if (typeof completion?.jobId !== "string" || typeof completion.chunkCount !== "number") {
    throw new Error(
      `ContinueProcess expects the job completion {jobId, bucket, documentKey, chunkCount}; received ${JSON.stringify(completion)}`,
    );
  }
  const totals: ChunkResult = {};
  let counted = 0;
  for await (const record of chunkRecords(clients.dynamodb, settings.tableName, completion.jobId)) {
    if (record.status !== "done") continue;
    counted++;
    for (const [name, value] of Object.entries(record.result)) totals[name] = (totals[name] ?? 0) + value;
  }
  // The resume is only claimed once every chunk is recorded done, so a shortfall here is a bug, not a race.
  if (counted !== completion.chunkCount) {
    throw new Error(`job ${completion.jobId}: ${counted} of ${completion.chunkCount} chunk results found after the job resumed`);
  }
  const key = resultObjectKey(settings, completion.jobId);
  const result: JobResult = {
    jobId: completion.jobId,
    documentKey: completion.documentKey,
    chunkCount: completion.chunkCount,
    totals,
    resultLocation: `s3://${settings.bucketName}/${key}`,
  };
  await writeObject(clients.s3, settings.bucketName, key, JSON.stringify(result, null, 2), "application/json");
  return result;
}
