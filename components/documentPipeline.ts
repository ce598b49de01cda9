/**
 * `DocumentPipeline`: the callback pattern's real use case, built on `CallbackWorkflow`.
 *
 *   POST /documents {"document": "..."} | {"documentKey": "documents/x.txt"}
 *     → SplitDoc (a Lambda step) records the job in DynamoDB and writes the chunks to s3://bucket/chunks/<jobId>/
 *     → each chunk's ObjectCreated event invokes the chunk processor (any order, at least once)
 *     → WaitForCompletion: its token receiver stores the task token on the job (before, after or while the
 *       chunks finish)
 *     → whoever sees the job both decided and holding its token resumes the workflow exactly once
 *       (SendTaskSuccess), or with ProcessingFailed when a chunk failed for good
 *     → ContinueProcess sums the per-chunk results into s3://bucket/results/<jobId>.json
 *
 * The state machine, its roles, the functions' logs and the start API are CallbackWorkflow's; this component
 * adds the bucket, the job table, the processor and its S3 subscription, and each function's data access,
 * scoped to its own prefix, table and state machine.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { aggregateResultsFactory, processChunkFactory, receiveTokenFactory, splitDocumentFactory } from "../handlers/pipeline/factories";
import { MAX_CHUNKS, PIPELINE_DEFAULTS, type PipelineSettings, SETTINGS_ENVIRONMENT } from "../handlers/pipeline/settings";
import { type ChunkProcessor, MIN_CHUNK_BYTES } from "../handlers/pipeline/textChunks";
import { PROCESSING_FAILED_ERROR, TIMEOUT_ERRORS } from "../workflow/contract";
import { type StartApiArgs, type WorkflowLoggingArgs, DEFAULTS as WORKFLOW_DEFAULTS } from "./args";
import { CallbackWorkflow } from "./callbackWorkflow";
import { LAMBDA_TRANSIENT_RETRY } from "./definition";
import { checkRetentionDays, checkWholeNumber } from "./functionArgs";
import { createLambdaStep } from "./lambdaStep";

export const DOCUMENT_PIPELINE_TYPE = "sfn-callback:index:DocumentPipeline";

/** The pipeline's state names (the docs and the local runtime's tests read executions by them). */
export const PIPELINE_STATE_NAMES = {
  split: "SplitDoc",
  wait: "WaitForCompletion",
  continue: "ContinueProcess",
  processingFailed: "ProcessingFailed",
  unexpectedFailure: "UnexpectedFailure",
  timedOut: "TimedOut",
} as const;

/** The table's TTL attribute (epoch seconds); DynamoDB deletes expired jobs and chunk records in the background. */
export const TTL_ATTRIBUTE = "expiresAt";

export interface DocumentPipelineArgs {
  /** Largest chunk in bytes; chunks end at whitespace where possible. @default 4096 */
  chunkSizeBytes?: number;
  /**
   * The processing step, run on each chunk's bytes; returns named numbers, summed per name over the document.
   * Serialized into the processor function (capture nothing large). Throwing fails the chunk, and the job,
   * on the ProcessingFailed path. @default wc-style counts `{ lines, words, bytes }`, refusing binary data
   */
  processChunk?: ChunkProcessor;
  /**
   * Seconds the workflow waits for all chunks before it fails with States.Timeout. There is no heartbeat
   * option: chunk processors run independently of each other, and one heartbeat per chunk would spend the
   * SendTask* request quota (500/s) that the resume needs. @default 3600
   */
  timeoutSeconds?: number;
  /** Days finished jobs' records are kept before DynamoDB TTL removes them. @default 7 */
  retentionDays?: number;
  /** Key prefix of documents (split reads only here). @default "documents/" */
  documentPrefix?: string;
  /** Key prefix of chunks (the processor's subscription filter). @default "chunks/" */
  chunkPrefix?: string;
  /** Key prefix of results (the aggregation writes only here). @default "results/" */
  resultPrefix?: string;
  /** The start endpoint. @default { type: "http", method: "POST", path: "/documents" } (the body is the input) */
  api?: StartApiArgs;
  /** SplitDoc's memory in MB (it holds the document). @default 512 */
  splitMemorySize?: number;
  /** SplitDoc's timeout in seconds (it writes every chunk). @default 300 */
  splitTimeoutSeconds?: number;
  /** The processor's memory in MB. @default 256 */
  processorMemorySize?: number;
  /** The processor's timeout in seconds. @default 60 */
  processorTimeoutSeconds?: number;
  /** Lambda runtime of every function. @default "nodejs24.x" */
  runtime?: string;
  /** Logging of the state machine and log retention of every function. @default CallbackWorkflow's */
  logging?: WorkflowLoggingArgs;
  /** Delete the bucket even when it holds objects (`pulumi destroy`). @default false */
  forceDestroy?: boolean;
  /** X-Ray tracing. @default false */
  tracing?: boolean;
  /** Tags on every taggable resource. @default {} */
  tags?: Record<string, string>;
}

export interface ResolvedPipelineArgs {
  chunkSizeBytes: number;
  processChunk?: ChunkProcessor;
  timeoutSeconds: number;
  retentionDays: number;
  documentPrefix: string;
  chunkPrefix: string;
  resultPrefix: string;
  api: StartApiArgs;
  splitMemorySize: number;
  splitTimeoutSeconds: number;
  processorMemorySize: number;
  processorTimeoutSeconds: number;
  runtime: string;
  logging: WorkflowLoggingArgs;
  forceDestroy: boolean;
  tracing: boolean;
  tags: Record<string, string>;
}

export const PIPELINE_ARG_DEFAULTS = {
  chunkSizeBytes: PIPELINE_DEFAULTS.chunkSizeBytes,
  timeoutSeconds: 3600,
  retentionDays: 7,
  api: { type: "http", method: "POST", path: "/documents" } as StartApiArgs,
  splitMemorySize: 512,
  splitTimeoutSeconds: 300,
  processorMemorySize: 256,
  processorTimeoutSeconds: 60,
} as const;

/**
 * Defaults and checks of the pipeline's own args; throws one Error listing every problem. The workflow's args
 * (timeouts, runtime, API, logging) are checked again by CallbackWorkflow's `resolveArgs`.
 */
export function resolvePipelineArgs(args: DocumentPipelineArgs = {}): ResolvedPipelineArgs {
  const problems: string[] = [];
  const resolved: ResolvedPipelineArgs = {
    chunkSizeBytes: args.chunkSizeBytes ?? PIPELINE_ARG_DEFAULTS.chunkSizeBytes,
    processChunk: args.processChunk,
    timeoutSeconds: args.timeoutSeconds ?? PIPELINE_ARG_DEFAULTS.timeoutSeconds,
    retentionDays: args.retentionDays ?? PIPELINE_ARG_DEFAULTS.retentionDays,
    documentPrefix: args.documentPrefix ?? PIPELINE_DEFAULTS.documentPrefix,
    chunkPrefix: args.chunkPrefix ?? PIPELINE_DEFAULTS.chunkPrefix,
    resultPrefix: args.resultPrefix ?? PIPELINE_DEFAULTS.resultPrefix,
    api: { ...PIPELINE_ARG_DEFAULTS.api, ...args.api },
    splitMemorySize: args.splitMemorySize ?? PIPELINE_ARG_DEFAULTS.splitMemorySize,
    splitTimeoutSeconds: args.splitTimeoutSeconds ?? PIPELINE_ARG_DEFAULTS.splitTimeoutSeconds,
    processorMemorySize: args.processorMemorySize ?? PIPELINE_ARG_DEFAULTS.processorMemorySize,
    processorTimeoutSeconds: args.processorTimeoutSeconds ?? PIPELINE_ARG_DEFAULTS.processorTimeoutSeconds,
    runtime: args.runtime ?? WORKFLOW_DEFAULTS.runtime,
    logging: args.logging ?? {},
    forceDestroy: args.forceDestroy ?? false,
    tracing: args.tracing ?? false,
    tags: args.tags ?? {},
  };
  // S3 PutObject takes at most 5 GB in one request; a chunk is one PutObject.
  if (!Number.isInteger(resolved.chunkSizeBytes) || resolved.chunkSizeBytes < MIN_CHUNK_BYTES || resolved.chunkSizeBytes > 5 * 1024 ** 3) {
    problems.push(
      `chunkSizeBytes (${JSON.stringify(resolved.chunkSizeBytes)}) must be a whole number of bytes from ${MIN_CHUNK_BYTES} to 5368709120`,
    );
  }
  if (resolved.processChunk !== undefined && typeof resolved.processChunk !== "function") {
    problems.push(
      `processChunk must be a function (chunk: Buffer, info) => Record<string, number>; received ${typeof resolved.processChunk}`,
    );
  }
  // Finished jobs must outlive the longest wait, and TTL is measured in seconds.
  if (!Number.isInteger(resolved.retentionDays) || resolved.retentionDays < 1 || resolved.retentionDays > 3650) {
    problems.push(`retentionDays (${JSON.stringify(resolved.retentionDays)}) must be a whole number of days from 1 to 3650`);
  }
  const prefixes = { documentPrefix: resolved.documentPrefix, chunkPrefix: resolved.chunkPrefix, resultPrefix: resolved.resultPrefix };
  for (const [key, prefix] of Object.entries(prefixes)) {
    if (typeof prefix !== "string" || !/^[A-Za-z0-9!_.'()-][A-Za-z0-9!_.'()/-]*\/$/.test(prefix)) {
      problems.push(`${key} (${JSON.stringify(prefix)}) must be a key prefix ending in "/" made of letters, digits and !_.'()-/`);
    }
  }
  // Overlapping prefixes would let a function reach another's objects, or make chunks of documents.
  const entries = Object.entries(prefixes);
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, b] = [entries[i], entries[j]];
      if (a[1].startsWith(b[1]) || b[1].startsWith(a[1]))
        problems.push(`${a[0]} (${JSON.stringify(a[1])}) and ${b[0]} (${JSON.stringify(b[1])}) must not overlap`);
    }
  }
  checkWholeNumber("splitMemorySize", resolved.splitMemorySize, 128, 10_240, problems);
  checkWholeNumber("processorMemorySize", resolved.processorMemorySize, 128, 10_240, problems);
  checkWholeNumber("splitTimeoutSeconds", resolved.splitTimeoutSeconds, 1, 900, problems);
  checkWholeNumber("processorTimeoutSeconds", resolved.processorTimeoutSeconds, 1, 900, problems);
  if (resolved.logging.retentionInDays !== undefined) checkRetentionDays(resolved.logging.retentionInDays, problems);
  if (problems.length > 0) throw new Error(`Invalid DocumentPipeline args:\n- ${problems.join("\n- ")}`);
  return resolved;
}

type Arn = pulumi.Input<string>;

/** Object ARNs under one prefix of the bucket: `arn:aws:s3:::bucket/prefix*`. */
function objectsUnder(bucketArn: Arn, prefix: string): pulumi.Output<string> {
  return pulumi.interpolate`${bucketArn}/${prefix}*`;
}

/** SplitDoc: read documents, store inline documents and write chunks, and record jobs. */
export function splitStatements(
  bucketArn: Arn,
  tableArn: Arn,
  args: Pick<ResolvedPipelineArgs, "documentPrefix" | "chunkPrefix">,
): aws.iam.PolicyStatement[] {
  return [
    { Sid: "ReadDocuments", Effect: "Allow", Action: ["s3:GetObject"], Resource: [objectsUnder(bucketArn, args.documentPrefix)] },
    {
      Sid: "WriteDocumentsAndChunks",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [objectsUnder(bucketArn, args.documentPrefix), objectsUnder(bucketArn, args.chunkPrefix)],
    },
    { Sid: "RecordJobs", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [tableArn] },
  ];
}

/**
 * The token receiver: store the token on the job, claim and mark it (UpdateItem), and read it to explain a
 * refused hand-over (GetItem). SendTask* on this state machine comes from the workflow's receiver grant.
 */
export function receiverStatements(tableArn: Arn): aws.iam.PolicyStatement[] {
  return [{ Sid: "HandTokenToJob", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [tableArn] }];
}

/** The chunk processor: read chunks; record, count and claim in the job table. (SendTask* comes from the workflow.) */
export function processorStatements(
  bucketArn: Arn,
  tableArn: Arn,
  args: Pick<ResolvedPipelineArgs, "chunkPrefix">,
): aws.iam.PolicyStatement[] {
  return [
    { Sid: "ReadChunks", Effect: "Allow", Action: ["s3:GetObject"], Resource: [objectsUnder(bucketArn, args.chunkPrefix)] },
    {
      Sid: "TrackCompletion",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      Resource: [tableArn],
    },
  ];
}

/** ContinueProcess: read a job's chunk records and write its result. */
export function aggregateStatements(
  bucketArn: Arn,
  tableArn: Arn,
  args: Pick<ResolvedPipelineArgs, "resultPrefix">,
): aws.iam.PolicyStatement[] {
  return [
    { Sid: "ReadChunkResults", Effect: "Allow", Action: ["dynamodb:Query"], Resource: [tableArn] },
    { Sid: "WriteResults", Effect: "Allow", Action: ["s3:PutObject"], Resource: [objectsUnder(bucketArn, args.resultPrefix)] },
  ];
}

export class DocumentPipeline extends pulumi.ComponentResource {
  /** The bucket for documents, chunks and results. */
  public readonly bucket: aws.s3.Bucket;
  public readonly bucketName: pulumi.Output<string>;
  /** Jobs and per-chunk records (hash key `jobId`, range key `sk`, TTL on `expiresAt`). */
  public readonly table: aws.dynamodb.Table;
  public readonly tableName: pulumi.Output<string>;
  /** The underlying callback workflow (state machine, SplitDoc, the token receiver, ContinueProcess, start API). */
  public readonly workflow: CallbackWorkflow;
  /** The chunk processor, invoked by the bucket's ObjectCreated events under the chunk prefix. */
  public readonly processorFunction: aws.lambda.Function;
  public readonly processorRole: aws.iam.Role;
  public readonly stateMachineArn: pulumi.Output<string>;
  /** `POST` a document here: `{"document": "text"}` or `{"documentKey": "documents/x.txt"}`. */
  public readonly startUrl: pulumi.Output<string | undefined>;
  /** Physical function names by step: `split`, `receiver` (WaitForCompletion's token receiver), `processor`, `aggregate`. */
  public readonly functionNames: pulumi.Output<Record<string, string>>;
  public readonly resolvedArgs: ResolvedPipelineArgs;

  constructor(name: string, args: DocumentPipelineArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(DOCUMENT_PIPELINE_TYPE, name, {}, opts);
    const resolved = (this.resolvedArgs = resolvePipelineArgs(args));
    const { tags } = resolved;
    const parent = { parent: this };

    const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: resolved.forceDestroy, tags }, parent);
    new aws.s3.BucketPublicAccessBlock(
      `${name}-bucket-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    const table = new aws.dynamodb.Table(
      `${name}-jobs`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "jobId",
        rangeKey: "sk",
        attributes: [
          { name: "jobId", type: "S" },
          { name: "sk", type: "S" },
        ],
        ttl: { enabled: true, attributeName: TTL_ATTRIBUTE },
        tags,
      },
      parent,
    );

    const settings: Record<keyof PipelineSettings, pulumi.Input<string>> = {
      bucketName: bucket.bucket,
      tableName: table.name,
      documentPrefix: resolved.documentPrefix,
      chunkPrefix: resolved.chunkPrefix,
      resultPrefix: resolved.resultPrefix,
      chunkSizeBytes: String(resolved.chunkSizeBytes),
      retentionSeconds: String(resolved.retentionDays * 24 * 3600),
      waitTimeoutSeconds: String(resolved.timeoutSeconds),
    };
    const environment = Object.fromEntries(
      Object.entries(settings).map(([key, value]) => [SETTINGS_ENVIRONMENT[key as keyof PipelineSettings], value]),
    );

    const workflow = new CallbackWorkflow(
      `${name}-workflow`,
      {
        steps: [
          {
            type: "lambda",
            name: PIPELINE_STATE_NAMES.split,
            comment: "Records the job and writes the document's chunks; each chunk's S3 event starts a processor.",
            function: {
              callbackFactory: splitDocumentFactory,
              description: `SplitDoc: records the job and writes the document's chunks (at most ${MAX_CHUNKS}).`,
              environment,
              policyStatements: splitStatements(bucket.arn, table.arn, resolved),
              memorySize: resolved.splitMemorySize,
              timeoutSeconds: resolved.splitTimeoutSeconds,
            },
            // The execution's ARN and start time name the job, so a retried invocation finds the same job.
            payload: { "executionId.$": "$$.Execution.Id", "startTime.$": "$$.Execution.StartTime", "input.$": "$" },
            catch: [
              { errors: [PROCESSING_FAILED_ERROR], next: PIPELINE_STATE_NAMES.processingFailed },
              { errors: ["States.TaskFailed"], next: PIPELINE_STATE_NAMES.unexpectedFailure },
            ],
          },
          {
            type: "callback",
            name: PIPELINE_STATE_NAMES.wait,
            comment: "The receiver stores the task token on the job; whoever then sees the job decided and holding the token answers it.",
            channel: {
              type: "lambda",
              tokenReceiver: {
                callbackFactory: receiveTokenFactory,
                description:
                  "Hands WaitForCompletion's task token to the job SplitDoc recorded (and sends an outcome the chunks already decided).",
                environment,
                policyStatements: receiverStatements(table.arn),
                memorySize: 128,
                timeoutSeconds: 30,
              },
              payload: { "taskToken.$": "$$.Task.Token", "jobId.$": "$.jobId" },
            },
            timeoutSeconds: resolved.timeoutSeconds,
            // Lambda's transient errors mostly mean the receiver never ran (throttled, or refused by the service):
            // the retry hands it the new token and the job goes on. Had it run and stored the first token, the
            // retry's token is refused (jobStore.storeTaskToken) and the step fails as it would without a retry.
            retry: [LAMBDA_TRANSIENT_RETRY],
            catch: [
              { errors: [PROCESSING_FAILED_ERROR], next: PIPELINE_STATE_NAMES.processingFailed },
              { errors: ["States.TaskFailed"], next: PIPELINE_STATE_NAMES.unexpectedFailure },
              { errors: [...TIMEOUT_ERRORS], next: PIPELINE_STATE_NAMES.timedOut },
            ],
          },
          {
            type: "lambda",
            name: PIPELINE_STATE_NAMES.continue,
            comment: "Sums the per-chunk results into the job's result object.",
            function: {
              callbackFactory: aggregateResultsFactory,
              description: "ContinueProcess: sums the per-chunk results and writes the job's result.",
              environment,
              policyStatements: aggregateStatements(bucket.arn, table.arn, resolved),
              memorySize: 256,
              timeoutSeconds: 300,
            },
            end: true,
          },
          { type: "fail", name: PIPELINE_STATE_NAMES.processingFailed, error: PROCESSING_FAILED_ERROR, causePath: "$.Cause" },
          { type: "fail", name: PIPELINE_STATE_NAMES.unexpectedFailure, error: "UnexpectedFailure", causePath: "$.Cause" },
          { type: "fail", name: PIPELINE_STATE_NAMES.timedOut, error: "TimedOut", causePath: "$.Cause" },
        ],
        runtime: resolved.runtime,
        api: resolved.api,
        logging: resolved.logging,
        tracing: resolved.tracing,
        tags,
      },
      parent,
    );

    // The processor is not a state of the machine (S3 invokes it), so it is built here, with the same builder
    // as the workflow's steps; it may answer this workflow's task tokens (on this state machine only).
    const processorStep = createLambdaStep(
      `${name}-processor`,
      {
        callbackFactory: processChunkFactory(resolved.processChunk),
        environment,
        policyStatements: processorStatements(bucket.arn, table.arn, resolved),
        memorySize: resolved.processorMemorySize,
        timeoutSeconds: resolved.processorTimeoutSeconds,
      },
      {
        parent: this,
        runtime: resolved.runtime,
        tracing: resolved.tracing,
        logRetentionInDays: resolved.logging.retentionInDays ?? WORKFLOW_DEFAULTS.logging.retentionInDays,
        tags,
        description: `Processes one chunk of a ${name} document per S3 event and resumes the job when it is complete.`,
        roleDescription: `Lambda: processes the chunks of ${name}'s documents.`,
        grants: (role) => [workflow.grantTaskResponse("processor", role)],
      },
    );
    const processor = processorStep.function;

    // What `bucket.onObjectCreated(...)` declares (a Permission for s3.amazonaws.com and a BucketNotification),
    // declared directly: onObjectCreated defers the BucketNotification to the process's `beforeExit`, which
    // the mock runtime (unit tests, the local runtime) never reaches while the program is being evaluated.
    const invokePermission = new aws.lambda.Permission(
      `${name}-processor-s3-invoke`,
      {
        function: processor.name,
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        sourceArn: bucket.arn,
        // Bucket names are global: the account pins the permission to this account's bucket.
        sourceAccount: aws.getCallerIdentityOutput({}, parent).accountId,
      },
      parent,
    );
    new aws.s3.BucketNotification(
      `${name}-chunk-notification`,
      {
        bucket: bucket.id,
        lambdaFunctions: [
          { events: ["s3:ObjectCreated:*"], filterPrefix: resolved.chunkPrefix, filterSuffix: ".txt", lambdaFunctionArn: processor.arn },
        ],
      },
      // S3 checks the permission when the notification is written.
      { parent: this, dependsOn: [invokePermission] },
    );

    this.bucket = bucket;
    this.bucketName = bucket.bucket;
    this.table = table;
    this.tableName = table.name;
    this.workflow = workflow;
    this.processorFunction = processor;
    this.processorRole = processorStep.role;
    this.stateMachineArn = workflow.stateMachineArn;
    this.startUrl = workflow.startUrl;
    this.functionNames = pulumi.all([workflow.functionNames, processor.name]).apply(([names, processorName]): Record<string, string> => ({
      split: names[PIPELINE_STATE_NAMES.split],
      receiver: names[`${PIPELINE_STATE_NAMES.wait}.receiver`],
      processor: processorName,
      aggregate: names[PIPELINE_STATE_NAMES.continue],
    }));
    this.registerOutputs({
      bucketName: this.bucketName,
      tableName: this.tableName,
      stateMachineArn: this.stateMachineArn,
      startUrl: this.startUrl,
      functionNames: this.functionNames,
    });
  }
}
