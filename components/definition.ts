/**
 * The callback workflow's Amazon States Language definition, built as a typed object by a pure function
 * (no Pulumi, no I/O) so tests can parse and validate it, and the component serializes it with
 * `pulumi.jsonStringify`. `Arn` is `string` in tests and `pulumi.Output<string>` in the component.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */

/** State names, fixed: the local runtime, the docs and the pipeline all refer to them. */
export const STATE_NAMES = {
  split: "SplitDoc",
  wait: "WaitForCompletion",
  continue: "ContinueProcess",
  processingFailed: "ProcessingFailed",
  unexpectedFailure: "UnexpectedFailure",
  timedOut: "TimedOut",
} as const;

/** The error name a token receiver sends with SendTaskFailure when the work itself failed. */
export const PROCESSING_FAILED_ERROR = "ProcessingFailed";

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** The default payload of the waitForTaskToken task: the token (key `taskToken`) and the state's input. */
export const DEFAULT_WAIT_PAYLOAD: Readonly<Record<string, unknown>> = Object.freeze({
  "taskToken.$": "$$.Task.Token",
  "input.$": "$",
});

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
  Parameters: { FunctionName: Arn; Payload?: Record<string, unknown>; "Payload.$"?: string };
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
  End: true;
}

export interface FailState {
  Type: "Fail";
  Comment?: string;
  Error: string;
  /** JSONPath to the cause in the state's input (the Catch's error output). */
  CausePath?: string;
  Cause?: string;
}

export type State<Arn> = TaskState<Arn> | PassState | FailState;

export interface StateMachineDefinition<Arn> {
  Comment: string;
  StartAt: string;
  States: Record<string, State<Arn>>;
}

export interface DefinitionOptions<Arn> {
  /** ARN of the optional step before the wait (`SplitDoc`); omitted: the workflow starts at the wait. */
  splitFunctionArn?: Arn;
  /** ARN of the function that receives the task token (`WaitForCompletion`). */
  handlerFunctionArn: Arn;
  /** ARN of the optional step run on success (`ContinueProcess`); omitted: a Pass state that ends the execution. */
  continueFunctionArn?: Arn;
  /** `TimeoutSeconds` of the wait. */
  timeoutSeconds: number;
  /** `HeartbeatSeconds` of the wait; omitted: none. */
  heartbeatSeconds?: number;
  /** The wait's Lambda payload; must carry `$$.Task.Token`. @default DEFAULT_WAIT_PAYLOAD */
  waitPayload?: Record<string, unknown>;
}

/** Builds the callback workflow. Pure: the same options always give the same definition. */
export function buildDefinition<Arn>(options: DefinitionOptions<Arn>): StateMachineDefinition<Arn> {
  const { splitFunctionArn, handlerFunctionArn, continueFunctionArn, timeoutSeconds, heartbeatSeconds } = options;
  const states: Record<string, State<Arn>> = {};

  if (splitFunctionArn !== undefined) {
    states[STATE_NAMES.split] = {
      Type: "Task",
      Comment: "Prepares the work; its Lambda response Payload becomes the wait's input.",
      Resource: LAMBDA_INVOKE,
      Parameters: { FunctionName: splitFunctionArn, "Payload.$": "$" },
      // Unwraps the Lambda Invoke response (StatusCode, ExecutedVersion, Payload, ...) to the function's own result.
      OutputPath: "$.Payload",
      Retry: [transientLambdaRetrier()],
      Next: STATE_NAMES.wait,
    };
  }

  states[STATE_NAMES.wait] = {
    Type: "Task",
    Comment: "Invokes the handler with a task token and waits until someone calls SendTaskSuccess or SendTaskFailure with it.",
    Resource: LAMBDA_INVOKE_WAIT_FOR_TASK_TOKEN,
    Parameters: { FunctionName: handlerFunctionArn, Payload: { ...(options.waitPayload ?? DEFAULT_WAIT_PAYLOAD) } },
    TimeoutSeconds: timeoutSeconds,
    ...(heartbeatSeconds !== undefined ? { HeartbeatSeconds: heartbeatSeconds } : {}),
    // Order matters: the first catcher whose ErrorEquals matches wins, and States.TaskFailed would also match
    // ProcessingFailed. States.TaskFailed does not match States.Timeout, hence its own catcher.
    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    Catch: [
      { ErrorEquals: [PROCESSING_FAILED_ERROR], Next: STATE_NAMES.processingFailed },
      { ErrorEquals: ["States.TaskFailed"], Next: STATE_NAMES.unexpectedFailure },
      { ErrorEquals: ["States.Timeout"], Next: STATE_NAMES.timedOut },
    ],
    Next: STATE_NAMES.continue,
  };

  states[STATE_NAMES.continue] =
    continueFunctionArn !== undefined
      ? {
          Type: "Task",
          Comment: "Runs after a successful callback, on the output given to SendTaskSuccess.",
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: continueFunctionArn, "Payload.$": "$" },
          OutputPath: "$.Payload",
          Retry: [transientLambdaRetrier()],
          End: true,
        }
      : { Type: "Pass", Comment: "The callback succeeded; its output is the execution's output.", End: true };

  // A Catch hands the next state {"Error", "Cause"}; CausePath keeps the signal's cause in the execution's failure.
  states[STATE_NAMES.processingFailed] = {
    Type: "Fail",
    Comment: "The handler reported SendTaskFailure with error ProcessingFailed.",
    Error: PROCESSING_FAILED_ERROR,
    CausePath: "$.Cause",
  };
  states[STATE_NAMES.unexpectedFailure] = {
    Type: "Fail",
    Comment: "The handler crashed, or a callback failed with an error other than ProcessingFailed.",
    Error: "UnexpectedFailure",
    CausePath: "$.Cause",
  };
  states[STATE_NAMES.timedOut] = {
    Type: "Fail",
    Comment: "No callback (or heartbeat) arrived in time.",
    Error: "TimedOut",
    CausePath: "$.Cause",
  };

  return {
    Comment: "Step Functions callback pattern: wait for a task token to come back (waitForTaskToken).",
    StartAt: splitFunctionArn !== undefined ? STATE_NAMES.split : STATE_NAMES.wait,
    States: states,
  };
}

function transientLambdaRetrier(): Retrier {
  return { ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };
}

/** Whether a payload passes `$$.Task.Token` somewhere in a `.$` field (the AWS CDK's check, made structural). */
export function referencesTaskToken(payload: unknown): boolean {
  if (Array.isArray(payload)) return payload.some(referencesTaskToken);
  if (payload === null || typeof payload !== "object") return false;
  return Object.entries(payload as Record<string, unknown>).some(
    ([key, value]) => (key.endsWith(".$") && typeof value === "string" && value.includes("$$.Task.Token")) || referencesTaskToken(value),
  );
}
