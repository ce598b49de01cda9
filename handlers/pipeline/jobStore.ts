/**
 * The pipeline's DynamoDB records, written only with single-item conditional writes and atomic counters
 * (no transactions: they cost double, cap at 100 items, and the local emulator lacks them).
 *
 * One table, hash key `jobId`, range key `sk`:
 * - the job, `sk = "job"`: documentKey, chunkCount, doneCount, overcountSuspects, resumeState
 *   (pending → claimed → signalled), outcome (success | failure), failedChunk, cause, expiresAt, and the
 *   taskToken once the WaitForCompletion step has handed it over (SplitDoc, which records the job, runs
 *   before the wait and never sees a token);
 * - one record per chunk, `sk = "chunk#000042"`: status (done | failed), result or error, counted, expiresAt.
 *
 * Every function does O(1) work except `countDoneChunks` and `chunkRecords`, which read a job's chunk
 * records once: at the end (aggregation), or after a crash made the counter doubtful.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CHUNK_INDEX_DIGITS } from "./settings";
import type { ChunkResult } from "./textChunks";

export type SendsDynamoDbCommands = Pick<DynamoDBClient, "send">;

export const JOB_SORT_KEY = "job";
export const CHUNK_SORT_KEY_PREFIX = "chunk#";

export type ResumeState = "pending" | "claimed" | "signalled";
export type Outcome = "success" | "failure";

export interface JobRecord {
  jobId: string;
  /** Absent until the token receiver stores it; chunks may all finish before that. */
  taskToken?: string;
  documentKey: string;
  chunkCount: number;
  /** Atomic counter of counted chunks; may exceed the true count by at most `overcountSuspects`. */
  doneCount: number;
  /** Counts added by a retry that could not tell whether its crashed attempt had already counted. */
  overcountSuspects: number;
  resumeState: ResumeState;
  outcome?: Outcome;
  failedChunk?: number;
  cause?: string;
  /** "delivered" or "TaskTimedOut" (the token had already closed). */
  signalResult?: string;
}

export type ChunkOutcome = { status: "done"; result: ChunkResult } | { status: "failed"; error: string };
export type ChunkRecord = ChunkOutcome & { chunkIndex: number; counted: boolean };

export function chunkSortKey(chunkIndex: number): string {
  return `${CHUNK_SORT_KEY_PREFIX}${String(chunkIndex).padStart(CHUNK_INDEX_DIGITS, "0")}`;
}

function key(jobId: string, sortKey: string): Record<string, AttributeValue> {
  return { jobId: { S: jobId }, sk: { S: sortKey } };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** Creates the job, without a token; `false` when it already exists (a retried split of the same execution writes nothing new). */
export async function createJob(
  client: SendsDynamoDbCommands,
  tableName: string,
  job: { jobId: string; documentKey: string; chunkCount: number; expiresAt: number },
): Promise<boolean> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          ...key(job.jobId, JOB_SORT_KEY),
          documentKey: { S: job.documentKey },
          chunkCount: { N: String(job.chunkCount) },
          doneCount: { N: "0" },
          overcountSuspects: { N: "0" },
          resumeState: { S: "pending" },
          createdAt: { S: new Date().toISOString() },
          expiresAt: { N: String(job.expiresAt) },
        },
        ConditionExpression: "attribute_not_exists(jobId)",
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function getJob(client: SendsDynamoDbCommands, tableName: string, jobId: string): Promise<JobRecord | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key(jobId, JOB_SORT_KEY), ConsistentRead: true }));
  return Item ? toJob(Item) : undefined;
}

/**
 * Hands the wait's task token to the job: set once (`attribute_not_exists`), or again with the same token (a
 * retried receiver). Returns the job as it is after the write: since DynamoDB serializes the writes of one
 * item, of this write and a claim racing it exactly one sees the other (the claim's result has the token, or
 * this result has the claim), so exactly one of the two callers goes on to signal.
 */
export async function storeTaskToken(
  client: SendsDynamoDbCommands,
  tableName: string,
  jobId: string,
  taskToken: string,
): Promise<JobRecord> {
  try {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key(jobId, JOB_SORT_KEY),
        UpdateExpression: "SET taskToken = :token, tokenStoredAt = if_not_exists(tokenStoredAt, :now)",
        ConditionExpression: "attribute_exists(jobId) AND (attribute_not_exists(taskToken) OR taskToken = :token)",
        ExpressionAttributeValues: { ":token": { S: taskToken }, ":now": { S: new Date().toISOString() } },
        ReturnValues: "ALL_NEW",
      }),
    );
    return toJob(Attributes!);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  // The condition failed: say which way (a read only on this error path).
  const job = await getJob(client, tableName, jobId);
  if (!job) throw new Error(`job ${jobId} does not exist: SplitDoc did not record it, or it expired`);
  throw new Error(`job ${jobId} already holds another task token; a job's wait is answered through the first token only`);
}

/**
 * The chunk's idempotency record: the first writer wins (`attribute_not_exists`), so a chunk has exactly one
 * outcome however many times its event is delivered. Returns `undefined` when this call created the record,
 * or the record an earlier delivery wrote.
 */
export async function recordChunk(
  client: SendsDynamoDbCommands,
  tableName: string,
  jobId: string,
  chunkIndex: number,
  outcome: ChunkOutcome,
  expiresAt: number,
): Promise<ChunkRecord | undefined> {
  const item: Record<string, AttributeValue> = {
    ...key(jobId, chunkSortKey(chunkIndex)),
    chunkIndex: { N: String(chunkIndex) },
    status: { S: outcome.status },
    counted: { BOOL: false },
    expiresAt: { N: String(expiresAt) },
  };
  if (outcome.status === "done")
    item.result = { M: Object.fromEntries(Object.entries(outcome.result).map(([name, value]) => [name, { N: String(value) }])) };
  else item.error = { S: outcome.error };
  try {
    await client.send(new PutItemCommand({ TableName: tableName, Item: item, ConditionExpression: "attribute_not_exists(sk)" }));
    return undefined;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: key(jobId, chunkSortKey(chunkIndex)), ConsistentRead: true }),
  );
  if (!Item) throw new Error(`chunk record ${jobId}/${chunkIndex} vanished between a failed conditional put and the read after it`);
  return toChunk(Item);
}

/**
 * Counts one chunk done: atomic `ADD doneCount :1` (plus `overcountSuspects :1` when the caller cannot rule
 * out that a crashed attempt already counted this chunk), returning the whole job as it is after the add.
 * Serialized per item by DynamoDB, so of two "last" chunks finishing together exactly one sees the final
 * count. The job must exist: a stray object under the chunk prefix creates nothing. Returns undefined then.
 */
export async function countChunkDone(
  client: SendsDynamoDbCommands,
  tableName: string,
  jobId: string,
  suspect: boolean,
): Promise<JobRecord | undefined> {
  try {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key(jobId, JOB_SORT_KEY),
        UpdateExpression: suspect ? "ADD doneCount :one, overcountSuspects :one" : "ADD doneCount :one",
        ConditionExpression: "attribute_exists(jobId)",
        ExpressionAttributeValues: { ":one": { N: "1" } },
        ReturnValues: "ALL_NEW",
      }),
    );
    return toJob(Attributes!);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

export async function markChunkCounted(client: SendsDynamoDbCommands, tableName: string, jobId: string, chunkIndex: number): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: key(jobId, chunkSortKey(chunkIndex)),
      UpdateExpression: "SET counted = :true",
      ExpressionAttributeValues: { ":true": { BOOL: true } },
    }),
  );
}

/**
 * Claims the right to resume the job with `outcome`: `resumeState` moves pending → claimed only once, so
 * success and failure can never both be decided. Returns the job after the claim, or `undefined` when
 * another caller had claimed it first.
 */
export async function claimResume(
  client: SendsDynamoDbCommands,
  tableName: string,
  jobId: string,
  claim: { outcome: "success" } | { outcome: "failure"; failedChunk: number; cause: string },
): Promise<JobRecord | undefined> {
  const values: Record<string, AttributeValue> = {
    ":pending": { S: "pending" },
    ":claimed": { S: "claimed" },
    ":outcome": { S: claim.outcome },
  };
  let update = "SET resumeState = :claimed, outcome = :outcome, claimedAt = :now";
  values[":now"] = { S: new Date().toISOString() };
  if (claim.outcome === "failure") {
    update += ", failedChunk = :failedChunk, cause = :cause";
    values[":failedChunk"] = { N: String(claim.failedChunk) };
    values[":cause"] = { S: claim.cause };
  }
  try {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key(jobId, JOB_SORT_KEY),
        UpdateExpression: update,
        ConditionExpression: "resumeState = :pending",
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return toJob(Attributes!);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Records that the token was answered (or had already closed), and starts the finished job's retention. */
export async function markSignalled(
  client: SendsDynamoDbCommands,
  tableName: string,
  jobId: string,
  signalResult: string,
  expiresAt: number,
): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: key(jobId, JOB_SORT_KEY),
      UpdateExpression: "SET resumeState = :signalled, signalResult = :result, expiresAt = :expiresAt",
      ExpressionAttributeValues: {
        ":signalled": { S: "signalled" },
        ":result": { S: signalResult },
        ":expiresAt": { N: String(expiresAt) },
      },
    }),
  );
}

/** Every chunk record of a job, page by page (consistent reads): O(chunks), run once per job. */
export async function* chunkRecords(client: SendsDynamoDbCommands, tableName: string, jobId: string): AsyncGenerator<ChunkRecord> {
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "jobId = :jobId AND begins_with(sk, :chunk)",
        ExpressionAttributeValues: { ":jobId": { S: jobId }, ":chunk": { S: CHUNK_SORT_KEY_PREFIX } },
        ConsistentRead: true,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) yield toChunk(item);
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
}

/** How many chunks of the job are recorded done: the exact count, when the counter may have been inflated. */
export async function countDoneChunks(client: SendsDynamoDbCommands, tableName: string, jobId: string): Promise<number> {
  let count = 0;
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "jobId = :jobId AND begins_with(sk, :chunk)",
        FilterExpression: "#status = :done",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":jobId": { S: jobId }, ":chunk": { S: CHUNK_SORT_KEY_PREFIX }, ":done": { S: "done" } },
        Select: "COUNT",
        ConsistentRead: true,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    count += page.Count ?? 0;
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
  return count;
}

function toJob(item: Record<string, AttributeValue>): JobRecord {
  return {
    jobId: item.jobId.S!,
    taskToken: item.taskToken?.S,
    documentKey: item.documentKey?.S ?? "",
    chunkCount: Number(item.chunkCount?.N ?? 0),
    doneCount: Number(item.doneCount?.N ?? 0),
    overcountSuspects: Number(item.overcountSuspects?.N ?? 0),
    resumeState: (item.resumeState?.S ?? "pending") as ResumeState,
    outcome: item.outcome?.S as Outcome | undefined,
    failedChunk: item.failedChunk?.N !== undefined ? Number(item.failedChunk.N) : undefined,
    cause: item.cause?.S,
    signalResult: item.signalResult?.S,
  };
}

function toChunk(item: Record<string, AttributeValue>): ChunkRecord {
  const base = { chunkIndex: Number(item.chunkIndex.N), counted: item.counted?.BOOL === true };
  if (item.status.S === "failed") return { ...base, status: "failed", error: item.error?.S ?? "" };
  const result: ChunkResult = {};
  for (const [name, value] of Object.entries(item.result?.M ?? {})) result[name] = Number(value.N);
  return { ...base, status: "done", result };
}
