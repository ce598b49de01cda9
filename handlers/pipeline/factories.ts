/**
 * The Lambda entry points of the document pipeline, as `aws.lambda.CallbackFunction` callback factories: each
 * runs once per container, creating the SDK clients and reading the settings from the environment, and
 * returns the handler. The SDK clients are imported statically so Pulumi's serializer emits `require(...)`
 * (the Node.js Lambda runtimes ship AWS SDK v3; locally the runtime provides it through NODE_PATH).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import type { S3Event } from "aws-lambda";
import { aggregateResults, type JobResult } from "./aggregateResults";
import { type ChunkReport, processChunkEvent } from "./processChunk";
import { receiveToken, type TokenEvent, type TokenReport } from "./receiveToken";
import type { JobCompletion } from "./resume";
import { settingsFromEnvironment } from "./settings";
import { type SplitEvent, type SplitResult, splitDocument } from "./splitDocument";
import type { ChunkProcessor } from "./textChunks";

/** SplitDoc, the step before the wait: records the job and writes the chunks. */
export function splitDocumentFactory(): (event: SplitEvent) => Promise<SplitResult> {
  const clients = { s3: new S3Client({}), dynamodb: new DynamoDBClient({}) };
  const settings = settingsFromEnvironment(process.env);
  return (event) => splitDocument(event, clients, settings);
}

/** The WaitForCompletion step's token receiver: hands the task token to the job. */
export function receiveTokenFactory(): (event: TokenEvent) => Promise<TokenReport> {
  const clients = { dynamodb: new DynamoDBClient({}), sfn: new SFNClient({}) };
  const settings = settingsFromEnvironment(process.env);
  return (event) => receiveToken(event, clients, settings);
}

/** The chunk processor, with the processing step to apply (default: wc counts). */
export function processChunkFactory(processChunk?: ChunkProcessor): () => (event: S3Event) => Promise<ChunkReport[]> {
  return () => {
    const clients = { s3: new S3Client({}), dynamodb: new DynamoDBClient({}), sfn: new SFNClient({}) };
    const settings = settingsFromEnvironment(process.env);
    return (event) => processChunkEvent(event, clients, settings, { processChunk });
  };
}

/** ContinueProcess: sums the chunk results once the job has resumed. */
export function aggregateResultsFactory(): (completion: JobCompletion) => Promise<JobResult> {
  const clients = { s3: new S3Client({}), dynamodb: new DynamoDBClient({}) };
  const settings = settingsFromEnvironment(process.env);
  return (completion) => aggregateResults(completion, clients, settings);
}
