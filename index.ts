/**
 * The stack: the demo callback workflow. SplitDoc → WaitForCompletion (ProcessAndCheckCompletion receives the
 * task token and answers it) → ContinueProcess, started by `GET /start?input=<URL-encoded JSON>`.
 *
 * Config is read here only and passed down as args (see Pulumi.yaml for the keys, types and defaults).
 */
import * as pulumi from "@pulumi/pulumi";
import { CallbackWorkflow } from "./components/callbackWorkflow";
import { FAILURE_RATE_ENV, processAndCheckCompletionFactory } from "./handlers/processAndCheckCompletion";
import { splitDocFactory } from "./handlers/splitDoc";

const config = new pulumi.Config();
const timeoutSeconds = config.getNumber("timeoutSeconds") ?? 300;
// 0 (the declared default) means no heartbeat is required.
const heartbeatSeconds = config.getNumber("heartbeatSeconds") || undefined;
const failureRate = config.getNumber("failureRate", { min: 0, max: 1 }) ?? 0.5;

const workflow = new CallbackWorkflow("callback", {
  split: { callbackFactory: splitDocFactory, description: "SplitDoc: splits the input document into chunks." },
  handler: {
    callbackFactory: processAndCheckCompletionFactory,
    description: "ProcessAndCheckCompletion: receives the task token and answers it.",
    environment: { [FAILURE_RATE_ENV]: String(failureRate) },
  },
  timeoutSeconds,
  heartbeatSeconds,
  tags: { project: pulumi.getProject(), stack: pulumi.getStack() },
});

/** `curl "$(pulumi stack output startUrl)"` starts an execution. */
export const startUrl = workflow.startUrl;
export const stateMachineArn = workflow.stateMachineArn;
export const stateMachineName = workflow.stateMachineName;
/** Physical Lambda function names by step: `split`, `handler`. */
export const functionNames = workflow.functionNames;

// ---- Document pipeline (issue 5): POST a document, chunks processed in parallel from S3, resumed exactly once ----
// Owned by the pipeline; see docs/pipeline.md. Config: pipelineChunkSizeBytes (default 4096).
import { DocumentPipeline } from "./components/documentPipeline";

const pipeline = new DocumentPipeline("pipeline", {
  chunkSizeBytes: config.getNumber("pipelineChunkSizeBytes", { min: 1 }) ?? 4096,
  timeoutSeconds,
  tags: { project: pulumi.getProject(), stack: pulumi.getStack() },
});

/** `curl -X POST "$(pulumi stack output pipelineStartUrl)" -d '{"document": "..."}'` starts a job. */
export const pipelineStartUrl = pipeline.startUrl;
export const pipelineBucket = pipeline.bucketName;
export const pipelineTable = pipeline.tableName;
export const pipelineStateMachineArn = pipeline.stateMachineArn;
/** Physical Lambda function names of the pipeline: `split`, `processor`, `aggregate`. */
export const pipelineFunctionNames = pipeline.functionNames;
// ---- end of document pipeline ----
