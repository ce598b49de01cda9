/**
 * The steps a `CallbackWorkflow` is made of, and the channels over which a callback step hands out its task
 * token. A workflow is a chain of steps: each goes to the next one in the list unless it names its `next`, and
 * `catch` branches lead elsewhere. Types only; `resolveSteps.ts` checks them and `definition.ts` turns them into ASL.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { WorkflowFunctionArgs } from "./functionArgs";

/** A function defined here (a magic function: `callbackFactory`), or one that already exists (by ARN or resource). */
export type FunctionRef = WorkflowFunctionArgs | ExistingFunction;

/**
 * A Lambda function the workflow does not create. The workflow's role gets `lambda:InvokeFunction` on it; a token
 * receiver given this way must be granted the task response itself (`workflow.grantTaskResponse(name, role)`).
 */
export type ExistingFunction = { arn: pulumi.Input<string> } | aws.lambda.Function;

/** An SQS queue the workflow does not create. */
export interface ExistingQueue {
  arn: pulumi.Input<string>;
  url: pulumi.Input<string>;
  /**
   * The KMS key the queue is encrypted with (key ARN, key id, alias name or alias ARN): the roles that send or
   * read get `kms:GenerateDataKey`/`kms:Decrypt` on the key's ARN, or nothing for an AWS managed key. @default not encrypted
   */
  kmsKeyArn?: pulumi.Input<string>;
}

/** An SNS topic the workflow does not create. */
export interface ExistingTopic {
  arn: pulumi.Input<string>;
  /** The KMS key the topic is encrypted with (as for ExistingQueue). @default not encrypted */
  kmsKeyArn?: pulumi.Input<string>;
}

/** Routes named errors of a task step to another step. */
export interface CatchArgs {
  /** Error names to match (`ProcessingFailed`, `States.TaskFailed`, `States.Timeout`, `States.ALL` last and alone). */
  errors: string[];
  /** The step to go to. */
  next: string;
  /** Where the error output `{Error, Cause}` goes in the step's input. @default "$" (it replaces the input) */
  resultPath?: string | null;
}

/** Retries a task step on named errors. AWS's defaults apply to omitted fields. */
export interface RetryArgs {
  errors: string[];
  /** @default 1 */
  intervalSeconds?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 2 */
  backoffRate?: number;
}

interface StepBase {
  /** The state's name: unique in the workflow, at most 80 characters. */
  name: string;
  /** A description kept in the definition. @default none */
  comment?: string;
}

interface TaskStepBase extends StepBase {
  /** The step after this one. @default the following step in the list; after the last, the execution ends */
  next?: string;
  /** End the execution after this step even if steps follow in the list. @default false */
  end?: boolean;
  /** Named errors to other steps, in order (the first match wins). @default none: an error fails the execution */
  catch?: CatchArgs[];
  /** Retries on named errors, in order. @default lambda steps retry Lambda's transient errors; callback steps none */
  retry?: RetryArgs[];
  /** Where the step's result goes in its input. @default "$" (the result replaces the input) */
  resultPath?: string | null;
}

/** Invokes a Lambda function and continues with its result (the invocation's `Payload`). */
export interface LambdaStepArgs extends TaskStepBase {
  type: "lambda";
  function: FunctionRef;
  /** The function's event. @default the step's whole input (`"Payload.$": "$"`) */
  payload?: Record<string, unknown>;
  /** Seconds before the step fails with States.Timeout. @default none (the function's own timeout bounds it) */
  timeoutSeconds?: number;
}

/** Hands a task token out over a channel and waits until someone answers it (`.waitForTaskToken`). */
export interface CallbackStepArgs extends TaskStepBase {
  type: "callback";
  channel: ChannelArgs;
  /**
   * Seconds the wait may last before it fails with States.Timeout. AWS's own default is 99,999,999 s (an
   * execution stuck for a year), so every wait here is finite. @default 3600
   */
  timeoutSeconds?: number;
  /** Seconds allowed between SendTaskHeartbeat calls; must be less than `timeoutSeconds`. @default none */
  heartbeatSeconds?: number;
}

/** Passes its input on, optionally replaced by a fixed `result`. */
export interface PassStepArgs extends StepBase {
  type: "pass";
  /** @default the input */
  result?: unknown;
  /** @default the following step; after the last, the execution ends */
  next?: string;
  /** @default false */
  end?: boolean;
}

/** Ends the execution successfully with its input as output. */
export interface SucceedStepArgs extends StepBase {
  type: "succeed";
}

/** Ends the execution as failed with an error name and a cause. */
export interface FailStepArgs extends StepBase {
  type: "fail";
  /** The execution's error name. */
  error: string;
  /** A fixed cause. @default none */
  cause?: string;
  /** A path to the cause in the input, e.g. "$.Cause" after a catch. Exclusive with `cause`. @default none */
  causePath?: string;
}

export type StepArgs = LambdaStepArgs | CallbackStepArgs | PassStepArgs | SucceedStepArgs | FailStepArgs;

/**
 * How the task token leaves the state machine. Whatever carries it (`payload`, `messageBody`, `message`) must
 * reference `$$.Task.Token` in a `.$` field (directly or in an intrinsic such as States.Format), or `$$.Task` or
 * `$$` as the AWS CDK accepts: otherwise nothing could ever answer.
 */
export type ChannelArgs = LambdaChannelArgs | SqsChannelArgs | SnsChannelArgs | ApprovalChannelArgs;

/** `lambda:invoke.waitForTaskToken`: a function receives the token in its event. */
export interface LambdaChannelArgs {
  type: "lambda";
  /** The function that receives the token. One defined here is granted the task response on this workflow. */
  tokenReceiver: FunctionRef;
  /** The function's event. @default {"taskToken.$": "$$.Task.Token", "input.$": "$"} */
  payload?: Record<string, unknown>;
  /**
   * `RequestResponse` waits for the function to return before the heartbeat clock starts; `Event` invokes it
   * asynchronously and the clock starts at once. @default "RequestResponse"
   */
  invocationType?: "RequestResponse" | "Event";
}

/** `sqs:sendMessage.waitForTaskToken`: the token travels in a queue message. */
export interface SqsChannelArgs {
  type: "sqs";
  /** An existing queue; an `aws.sqs.Queue`'s `kmsMasterKeyId` is granted as ExistingQueue's `kmsKeyArn`. @default a new queue */
  queue?: ExistingQueue | aws.sqs.Queue;
  /** Settings of the queue the workflow creates (not allowed with `queue`). */
  queueSettings?: {
    /** @default 6 × the worker's timeout when there is a worker (AWS's advice), else 30 */
    visibilityTimeoutSeconds?: number;
    /** @default 345600 (4 days, SQS's default) */
    messageRetentionSeconds?: number;
    /** Encrypt with this KMS key (ARN, id or alias); the roles get the key rights they need. @default SQS-managed encryption */
    kmsKeyArn?: pulumi.Input<string>;
  };
  /** The message body (an object is sent as JSON). @default {"taskToken.$": "$$.Task.Token", "input.$": "$"} */
  messageBody?: unknown;
  /** A function that consumes the queue through an event source mapping and answers the tokens. @default none */
  worker?: SqsWorkerArgs;
}

export interface SqsWorkerArgs {
  /** The worker; it is granted receive/delete on the queue and the task response on this workflow. */
  function: WorkflowFunctionArgs;
  /** Messages per invocation, 1 to 10. @default 10 */
  batchSize?: number;
  /** The worker returns `{batchItemFailures}` so only the failed messages come back. @default true */
  reportBatchItemFailures?: boolean;
  /** A dead-letter queue for messages received `maxReceiveCount` times (created queues only). @default none */
  deadLetter?: { maxReceiveCount: number };
}

/** `sns:publish.waitForTaskToken`: the token travels in a topic message to its subscribers. */
export interface SnsChannelArgs {
  type: "sns";
  /** An existing topic; an `aws.sns.Topic`'s `kmsMasterKeyId` is granted as ExistingTopic's `kmsKeyArn`. @default a new topic */
  topic?: ExistingTopic | aws.sns.Topic;
  /** Encrypt the created topic with this KMS key (ARN, id or alias). @default not encrypted */
  kmsKeyArn?: pulumi.Input<string>;
  /** The message (an object is sent as JSON). @default {"taskToken.$": "$$.Task.Token", "input.$": "$"} */
  message?: unknown;
  /** The message's subject (email subscribers see it), at most 100 characters. @default none */
  subject?: string;
  /** Subscribers the workflow declares on the topic. @default none */
  subscriptions?: SubscriptionArgs[];
}

export type SubscriptionArgs =
  /** A function the topic invokes; one defined here is granted the task response on this workflow. */
  | { protocol: "lambda"; function: FunctionRef }
  /** A queue the topic sends to; the workflow sets the queue's policy to let this topic send. */
  | { protocol: "sqs"; queue: ExistingQueue | aws.sqs.Queue; rawMessageDelivery?: boolean }
  /** An address that must confirm the subscription by email before it receives anything. */
  | { protocol: "email" | "email-json"; endpoint: pulumi.Input<string> };

/**
 * The approval-email pattern: a message naming the execution, with approve and reject links, goes to an SNS
 * topic; the links' API routes call SendTaskSuccess, or SendTaskFailure with `REJECTED_ERROR`. Each link carries
 * its own task token (base64url), which is the secret: it answers that task and no other.
 * https://aws.amazon.com/blogs/compute/implementing-serverless-manual-approval-steps-in-aws-step-functions-and-amazon-api-gateway/
 */
export interface ApprovalChannelArgs {
  type: "approval";
  /** An address subscribed to the topic (it must confirm the subscription once). @default none */
  email?: pulumi.Input<string>;
  /** An existing topic; omitted, the workflow creates one. @default a new topic */
  topic?: ExistingTopic | aws.sns.Topic;
  /** The message's subject. @default "Approval requested: <execution name>" */
  subject?: string;
}
