/**
 * A workflow's Amazon States Language definition, built from its resolved steps as a typed object by a pure
 * function (no Pulumi, no I/O) so tests can parse and validate it. `Arn` is `string` in tests; the component
 * builds it once every ARN and URL is known.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
import { PAYLOAD_KEYS, TASK_TOKEN_PATH } from "../workflow/contract";
import type { ResolvedCallbackStep, ResolvedLambdaStep, ResolvedStep } from "./resolveSteps";
import type { RetryArgs } from "./steps";

/**
 * Transient Lambda service errors AWS recommends retrying on every `lambda:invoke` task.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/**
 * AWS's retrier for those errors (the Step Functions console's default on a Lambda Invoke state): every Lambda
 * step gets it. A callback step may ask for it (`retry`) when its receiver copes with a retry, which hands it a
 * new token (the old one is dead), as the document pipeline's WaitForCompletion does.
 */
export const LAMBDA_TRANSIENT_RETRY: Readonly<RetryArgs> = Object.freeze({
  errors: [...LAMBDA_TRANSIENT_ERRORS],
  intervalSeconds: 1,
  maxAttempts: 3,
  backoffRate: 2,
});

/** The approval channel's notifier gets the token, the execution's ARN (named in the message) and the step's input. */
export const APPROVAL_NOTIFIER_PAYLOAD: Readonly<Record<string, string>> = Object.freeze({
  [`${PAYLOAD_KEYS.taskToken}.$`]: TASK_TOKEN_PATH,
  [`${PAYLOAD_KEYS.executionId}.$`]: "$$.Execution.Id",
  [`${PAYLOAD_KEYS.input}.$`]: "$",
});

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

export interface TaskState<Arn> {
  Type: "Task";
  Comment?: string;
  Resource: string;
  Parameters: Record<string, unknown> & { FunctionName?: Arn; QueueUrl?: Arn; TopicArn?: Arn };
  OutputPath?: string;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Next?: string;
  End?: true;
}

export interface PassState {
  Type: "Pass";
  Comment?: string;
  Result?: unknown;
  Next?: string;
  End?: true;
}

export interface SucceedState {
  Type: "Succeed";
  Comment?: string;
}

export interface FailState {
  Type: "Fail";
  Comment?: string;
  Error: string;
  Cause?: string;
  /** JSONPath to the cause in the state's input (a Catch's error output has it in `$.Cause`). */
  CausePath?: string;
}

export type State<Arn> = TaskState<Arn> | PassState | SucceedState | FailState;

export interface StateMachineDefinition<Arn> {
  Comment: string;
  StartAt: string;
  States: Record<string, State<Arn>>;
}

/** What each task step calls: the function (lambda steps, lambda and approval channels), the queue or the topic. */
export interface StepTarget<Arn> {
  functionArn?: Arn;
  queueUrl?: Arn;
  topicArn?: Arn;
}

export interface DefinitionOptions<Arn> {
  steps: ResolvedStep[];
  /** By step name, for every lambda and callback step. */
  targets: Record<string, StepTarget<Arn>>;
  /** `aws`, `aws-cn`, `aws-us-gov`: service integration ARNs are built from it. */
  partition: string;
  /** @default a description of the callback pattern */
  comment?: string;
}

/** `arn:<partition>:states:::<service>:<action>`, the ARN of a Step Functions service integration. */
export function integrationArn(partition: string, action: string): string {
  return `arn:${partition}:states:::${action}`;
}

/** Builds the definition. Pure: the same options always give the same definition. */
export function buildDefinition<Arn>(options: DefinitionOptions<Arn>): StateMachineDefinition<Arn> {
  const states: Record<string, State<Arn>> = {};
  for (const step of options.steps) {
    states[step.name] = buildState(step, options);
  }
  return {
    Comment: options.comment ?? "Step Functions callback pattern: hand out a task token and wait until it comes back (waitForTaskToken).",
    StartAt: options.steps[0].name,
    States: states,
  };
}

function buildState<Arn>(step: ResolvedStep, options: DefinitionOptions<Arn>): State<Arn> {
  const comment = step.comment !== undefined ? { Comment: step.comment } : {};
  switch (step.type) {
    case "pass":
      return { Type: "Pass", ...comment, ...(step.result !== undefined ? { Result: step.result } : {}), ...transition(step.next) };
    case "succeed":
      return { Type: "Succeed", ...comment };
    case "fail":
      return {
        Type: "Fail",
        ...comment,
        Error: step.error,
        ...(step.cause !== undefined ? { Cause: step.cause } : {}),
        ...(step.causePath !== undefined ? { CausePath: step.causePath } : {}),
      };
    case "lambda":
      return lambdaState(step, target(options, step.name), options.partition, comment);
    case "callback":
      return callbackState(step, target(options, step.name), options.partition, comment);
  }
}

function target<Arn>(options: DefinitionOptions<Arn>, name: string): StepTarget<Arn> {
  const found = options.targets[name];
  if (!found) throw new Error(`buildDefinition: no target (function, queue or topic) for step ${name}`);
  return found;
}

function transition(next: string | undefined): { Next: string } | { End: true } {
  return next !== undefined ? { Next: next } : { End: true };
}

function errorHandling(step: ResolvedLambdaStep | ResolvedCallbackStep, defaultRetry: readonly RetryArgs[]) {
  const retry: Retrier[] = [...defaultRetry, ...step.retry].map((retrier) => ({
    ErrorEquals: [...retrier.errors],
    ...(retrier.intervalSeconds !== undefined ? { IntervalSeconds: retrier.intervalSeconds } : {}),
    ...(retrier.maxAttempts !== undefined ? { MaxAttempts: retrier.maxAttempts } : {}),
    ...(retrier.backoffRate !== undefined ? { BackoffRate: retrier.backoffRate } : {}),
  }));
  const catchers: Catcher[] = step.catch.map((catcher) => ({
    ErrorEquals: [...catcher.errors],
    Next: catcher.next,
    ...(catcher.resultPath !== undefined ? { ResultPath: catcher.resultPath } : {}),
  }));
  return {
    ...(step.resultPath !== undefined ? { ResultPath: step.resultPath } : {}),
    ...(retry.length > 0 ? { Retry: retry } : {}),
    ...(catchers.length > 0 ? { Catch: catchers } : {}),
  };
}

function lambdaState<Arn>(step: ResolvedLambdaStep, to: StepTarget<Arn>, partition: string, comment: object): TaskState<Arn> {
  return {
    Type: "Task",
    ...comment,
    Resource: integrationArn(partition, "lambda:invoke"),
    Parameters: { FunctionName: to.functionArn, ...(step.payload !== undefined ? { Payload: { ...step.payload } } : { "Payload.$": "$" }) },
    // Unwraps the Lambda Invoke response (StatusCode, ExecutedVersion, Payload, ...) to the function's own result.
    OutputPath: "$.Payload",
    ...(step.timeoutSeconds !== undefined ? { TimeoutSeconds: step.timeoutSeconds } : {}),
    // Lambda's transient service errors are retried first, as AWS advises for every Lambda task.
    ...errorHandling(step, [LAMBDA_TRANSIENT_RETRY]),
    ...transition(step.next),
  };
}

/** A message template as Parameters fields: an object is sent as JSON, a string is a path or intrinsic (`Field.$`). */
function messageField(field: string, template: unknown): Record<string, unknown> {
  return typeof template === "string" ? { [`${field}.$`]: template } : { [field]: template };
}

function callbackState<Arn>(step: ResolvedCallbackStep, to: StepTarget<Arn>, partition: string, comment: object): TaskState<Arn> {
  const { channel } = step;
  let resource: string;
  let parameters: TaskState<Arn>["Parameters"];
  switch (channel.type) {
    case "lambda":
      resource = integrationArn(partition, "lambda:invoke.waitForTaskToken");
      parameters = {
        FunctionName: to.functionArn,
        Payload: { ...channel.payload },
        ...(channel.invocationType === "Event" ? { InvocationType: "Event" } : {}),
      };
      break;
    case "approval":
      resource = integrationArn(partition, "lambda:invoke.waitForTaskToken");
      parameters = { FunctionName: to.functionArn, Payload: { ...APPROVAL_NOTIFIER_PAYLOAD } };
      break;
    case "sqs":
      resource = integrationArn(partition, "sqs:sendMessage.waitForTaskToken");
      parameters = { QueueUrl: to.queueUrl, ...messageField("MessageBody", channel.messageBody) };
      break;
    case "sns":
      resource = integrationArn(partition, "sns:publish.waitForTaskToken");
      parameters = {
        TopicArn: to.topicArn,
        ...messageField("Message", channel.message),
        ...(channel.subject !== undefined ? { Subject: channel.subject } : {}),
      };
      break;
  }
  return {
    Type: "Task",
    ...comment,
    Resource: resource,
    Parameters: parameters,
    TimeoutSeconds: step.timeoutSeconds,
    ...(step.heartbeatSeconds !== undefined ? { HeartbeatSeconds: step.heartbeatSeconds } : {}),
    ...errorHandling(step, []),
    ...transition(step.next),
  };
}
