/**
 * The stack: four callback workflows, each started over HTTP.
 *
 * - `callback`, the seed's demo: SplitDoc → WaitForCompletion (a Lambda receives the task token and answers it)
 *   → ContinueProcess, started by `GET /start?input=<URL-encoded JSON>`;
 * - `pipeline`: POST a document; its chunks are processed in parallel from S3 and the job resumes exactly once;
 * - `sqs`: the token goes to a queue; a worker function on the queue answers it;
 * - `approval`: an approver gets a message with approve and reject links (SNS, by email).
 *
 * Config is read here only and passed down as args (see Pulumi.yaml for the keys, types and defaults).
 */
import * as pulumi from "@pulumi/pulumi";
import { type ApiAccess, CallbackWorkflow } from "./components/callbackWorkflow";
import { DocumentPipeline } from "./components/documentPipeline";
import { FAILURE_RATE_ENV, processAndCheckCompletionFactory } from "./handlers/processAndCheckCompletion";
import { splitDocFactory } from "./handlers/splitDoc";
import { tokenQueueWorkerFactory } from "./handlers/sqsWorker";
import { PROCESSING_FAILED_ERROR, REJECTED_ERROR, TIMEOUT_ERRORS } from "./workflow/contract";

const config = new pulumi.Config();
const timeoutSeconds = config.getNumber("timeoutSeconds") ?? 300;
// 0 (the declared default) means no heartbeat is required.
const heartbeatSeconds = config.getNumber("heartbeatSeconds") || undefined;
const failureRate = config.getNumber("failureRate", { min: 0, max: 1 }) ?? 0.5;
const chunkSizeBytes = config.getNumber("pipelineChunkSizeBytes", { min: 1 }) ?? 4096;
const approvalEmail = config.get("approvalEmail") || undefined;
// AWS advises a visibility timeout of at least six times the worker's timeout; a short one (e.g. for a local
// run) brings a crashed worker's message back sooner, and the worker's timeout shrinks with it.
const sqsVisibilityTimeoutSeconds = config.getNumber("sqsVisibilityTimeoutSeconds", { min: 1, max: 43_200 }) ?? 180;
// Public start endpoints are the demo's explicit choice (the component defaults to AWS_IAM), with a tight throttle.
const startApiAccess: ApiAccess =
  (config.getBoolean("publicStartEndpoints") ?? true)
    ? { authorization: "NONE", throttle: { burstLimit: 10, rateLimit: 5 } }
    : { authorization: "AWS_IAM" };
const tags = { project: pulumi.getProject(), stack: pulumi.getStack() };

/** Where a callback's failure, crash and timeout lead, as the seed's demo named them. */
const outcomeCatches = [
  { errors: [PROCESSING_FAILED_ERROR], next: "ProcessingFailed" },
  { errors: ["States.TaskFailed"], next: "UnexpectedFailure" },
  { errors: [...TIMEOUT_ERRORS], next: "TimedOut" },
];
const outcomeFailures = [
  { type: "fail", name: "ProcessingFailed", error: PROCESSING_FAILED_ERROR, causePath: "$.Cause" },
  { type: "fail", name: "UnexpectedFailure", error: "UnexpectedFailure", causePath: "$.Cause" },
  { type: "fail", name: "TimedOut", error: "TimedOut", causePath: "$.Cause" },
] as const;

const workflow = new CallbackWorkflow("callback", {
  steps: [
    {
      type: "lambda",
      name: "SplitDoc",
      function: { callbackFactory: splitDocFactory, description: "SplitDoc: splits the input document into chunks." },
    },
    {
      type: "callback",
      name: "WaitForCompletion",
      channel: {
        type: "lambda",
        tokenReceiver: {
          callbackFactory: processAndCheckCompletionFactory,
          description: "ProcessAndCheckCompletion: receives the task token and answers it.",
          environment: { [FAILURE_RATE_ENV]: String(failureRate) },
        },
      },
      timeoutSeconds,
      heartbeatSeconds,
      catch: outcomeCatches,
    },
    { type: "pass", name: "ContinueProcess", comment: "The callback succeeded; its output is the execution's output.", end: true },
    ...outcomeFailures,
  ],
  api: { ...startApiAccess },
  tags,
});

const pipeline = new DocumentPipeline("pipeline", { chunkSizeBytes, timeoutSeconds, api: { ...startApiAccess }, forceDestroy: true, tags });

const sqsWorkflow = new CallbackWorkflow("sqs", {
  steps: [
    {
      type: "callback",
      name: "DispatchWork",
      comment: 'A worker on the queue answers; input {"outcome": "failure"} makes it report ProcessingFailed.',
      channel: {
        type: "sqs",
        worker: {
          function: {
            callbackFactory: tokenQueueWorkerFactory,
            description: "Does the work each queue message asks for and answers its token.",
            timeoutSeconds: Math.min(30, sqsVisibilityTimeoutSeconds),
          },
          batchSize: 10,
          deadLetter: { maxReceiveCount: 3 },
        },
        queueSettings: { visibilityTimeoutSeconds: sqsVisibilityTimeoutSeconds },
      },
      timeoutSeconds,
      catch: outcomeCatches,
    },
    { type: "succeed", name: "WorkDone" },
    ...outcomeFailures,
  ],
  api: { ...startApiAccess, path: "/sqs/start" },
  tags,
});

const approvalWorkflow = new CallbackWorkflow("approval", {
  steps: [
    {
      type: "callback",
      name: "RequestApproval",
      comment: "An approver follows the approve or the reject link of the message.",
      channel: { type: "approval", email: approvalEmail },
      timeoutSeconds,
      catch: [
        { errors: [REJECTED_ERROR], next: "RequestRejected" },
        { errors: [...TIMEOUT_ERRORS], next: "TimedOut" },
      ],
    },
    { type: "succeed", name: "Approved" },
    { type: "fail", name: "RequestRejected", error: REJECTED_ERROR, causePath: "$.Cause" },
    { type: "fail", name: "TimedOut", error: "TimedOut", causePath: "$.Cause" },
  ],
  api: { ...startApiAccess, path: "/approval/start" },
  tags,
});

/** `curl "$(pulumi stack output startUrl)"` starts an execution of the seed's demo. */
export const startUrl = workflow.startUrl;
export const stateMachineArn = workflow.stateMachineArn;
export const stateMachineName = workflow.stateMachineName;
/** Physical Lambda function names of the demo: `split`, `handler`. */
export const functionNames = workflow.functionNames.apply((names) => ({
  split: names.SplitDoc,
  handler: names["WaitForCompletion.receiver"],
}));

/** `curl -X POST "$(pulumi stack output pipelineStartUrl)" -d '{"document": "..."}'` starts a job. */
export const pipelineStartUrl = pipeline.startUrl;
export const pipelineBucket = pipeline.bucketName;
export const pipelineTable = pipeline.tableName;
export const pipelineStateMachineArn = pipeline.stateMachineArn;
/** Physical Lambda function names of the pipeline: `split`, `receiver` (the wait's token receiver), `processor`, `aggregate`. */
export const pipelineFunctionNames = pipeline.functionNames;

/** `curl "$(pulumi stack output sqsStartUrl)"` succeeds; `?input={"outcome":"failure"}` takes the failure path. */
export const sqsStartUrl = sqsWorkflow.startUrl;
export const sqsStateMachineArn = sqsWorkflow.stateMachineArn;
export const sqsQueueUrl = sqsWorkflow.channels.DispatchWork.queueUrl;
export const sqsDeadLetterQueueUrl = sqsWorkflow.channels.DispatchWork.deadLetterQueueUrl;

/** `curl "$(pulumi stack output approvalStartUrl)"` sends an approval request to the topic's subscribers. */
export const approvalStartUrl = approvalWorkflow.startUrl;
export const approvalStateMachineArn = approvalWorkflow.stateMachineArn;
export const approvalTopicArn = approvalWorkflow.channels.RequestApproval.topicArn;
export const approvalLinksUrl = approvalWorkflow.channels.RequestApproval.approvalUrl;
