/**
 * Task states: the optimized Lambda integration (`arn:aws:states:::lambda:invoke`), its callback form
 * (`...lambda:invoke.waitForTaskToken`), plain function ARNs, and SQS sendMessage / SNS publish, each plain
 * or `.waitForTaskToken`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
import type { TaskState } from "../asl/types";
import { readRequiredPath } from "../asl/paths";
import type { ContextObject } from "../context";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateRun } from "../interpreter";
import type { InvocationType } from "../../common/invoker";
import type { Principal } from "../../common/access";
import { callFunction, invokeResponse, parsePayload } from "../lambda";
import { callMessaging } from "../messaging";
import { DEFAULT_TASK_TIMEOUT_SECONDS, exceedsPayloadLimit } from "../limits";
import { parseTaskResource, type MessagingAction } from "../resources";
import { TaskCancellation } from "../signals";
import { integerField } from "./fieldValues";
import type { StateHandler } from "./handler";

interface TaskSettings {
  /** As given in the definition (recorded in TaskScheduled only when given). */
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

/** The abort reason of a task whose TimeoutSeconds elapsed (as opposed to a stopped execution). */
class TaskTimeoutReached extends Error {
  constructor(readonly timeoutSeconds: number) {
    super(`The task did not finish within TimeoutSeconds (${timeoutSeconds} s)`);
  }
}

export const taskState: StateHandler<TaskState> = {
  eventPrefix: "Task",
  output: "result",
  recordsExit: true,
  countsRetries: true,
  async execute(state, input, run) {
    const resource = parseTaskResource(state.Resource);
    if (!resource) throw new StatesError(STATES_ERRORS.Runtime, `Unsupported Resource '${state.Resource}'`);
    // Awaited only when a JSONata expression made them promises: the JSONPath path stays synchronous.
    let timeoutSetting = secondsSetting(state.TimeoutSeconds, "TimeoutSeconds", state.TimeoutSecondsPath, input, run);
    let heartbeatSetting = secondsSetting(state.HeartbeatSeconds, "HeartbeatSeconds", state.HeartbeatSecondsPath, input, run);
    if (timeoutSetting instanceof Promise) timeoutSetting = await timeoutSetting;
    if (heartbeatSetting instanceof Promise) heartbeatSetting = await heartbeatSetting;
    const settings: TaskSettings = { timeoutSeconds: timeoutSetting, heartbeatSeconds: heartbeatSetting };
    const timeoutSeconds = settings.timeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
    if (settings.heartbeatSeconds !== undefined && settings.heartbeatSeconds >= timeoutSeconds) {
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `HeartbeatSeconds (${settings.heartbeatSeconds}) must be smaller than TimeoutSeconds (${timeoutSeconds})`,
      );
    }
    const task = new TaskCancellation(run.signal);
    // An absolute deadline, kept across restarts: a task whose time ran out while the runtime was down times out at once.
    const timeoutAt = run.scope.deadline(timeoutSeconds * 1000);
    const { clock } = run.services;
    const timer = clock.setTimer(() => task.cancel(new TaskTimeoutReached(timeoutSeconds)), timeoutAt - clock.now());
    try {
      switch (resource.kind) {
        case "lambdaInvoke":
          return await invokeTask(state, input, run, settings, task);
        case "lambdaInvokeWaitForTaskToken":
          return await callbackTask(state, input, run, settings, task, timeoutAt, lambdaSubmission);
        case "messaging":
          return resource.waitForTaskToken
            ? await callbackTask(state, input, run, settings, task, timeoutAt, messagingSubmission(resource.action))
            : await messagingTask(resource.action, state, input, run, settings, task);
        case "lambdaFunction":
          return await functionArnTask(resource.functionArn, state, input, run, settings, task);
      }
    } finally {
      timer.cancel();
      task.dispose();
    }
  },
};

/** TimeoutSeconds/HeartbeatSeconds: a number, a JSONata expression, or the value at its `...Path` field. */
function secondsSetting(
  value: number | string | undefined,
  field: string,
  path: string | undefined,
  input: unknown,
  run: StateRun,
): number | undefined | Promise<number> {
  if (typeof value === "string") return integerField(run, value, field, 1);
  if (value !== undefined || path === undefined) return value;
  const seconds = readRequiredPath(path, input, run.context);
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The ${field}Path field refers to value ${JSON.stringify(seconds)} which is not a valid positive integer: ${path}`,
    );
  }
  return seconds;
}

/** What the task sends: Parameters (JSONPath) or Arguments (JSONata); the input when neither is given. */
function taskPayload(state: TaskState, input: unknown, run: StateRun, extraContext?: Partial<ContextObject>): unknown {
  return run.payload(run.isJsonata ? state.Arguments : state.Parameters, input, "Arguments", extraContext);
}

function isTimeout(cancellation: TaskCancellation, run: StateRun): boolean {
  return cancellation.aborted && cancellation.reason instanceof TaskTimeoutReached && !run.signal.aborted;
}

interface LambdaParameters {
  functionName: string;
  qualifier?: string;
  payload: string;
  invocationType: InvocationType;
}

function lambdaParameters(parameters: unknown): LambdaParameters {
  const fields = (parameters ?? {}) as Record<string, unknown>;
  if (typeof fields.FunctionName !== "string" || fields.FunctionName === "") {
    throw new StatesError(STATES_ERRORS.Runtime, "The Parameters of a lambda:invoke task must give FunctionName as a string");
  }
  const invocationType = fields.InvocationType ?? "RequestResponse";
  if (invocationType !== "RequestResponse" && invocationType !== "Event") {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `Unsupported InvocationType ${JSON.stringify(invocationType)}: use RequestResponse or Event`,
    );
  }
  if (fields.Qualifier !== undefined && typeof fields.Qualifier !== "string") {
    throw new StatesError(STATES_ERRORS.Runtime, "The Qualifier of a lambda:invoke task must be a string");
  }
  return {
    functionName: fields.FunctionName,
    qualifier: fields.Qualifier as string | undefined,
    // Lambda receives `{}` when Invoke is called without a Payload.
    payload: fields.Payload === undefined ? "{}" : JSON.stringify(fields.Payload),
    invocationType,
  };
}

/**
 * Step Functions invokes as a session of the state machine's role, assumed by states.amazonaws.com on behalf of
 * this state machine (what the role's trust conditions see as aws:SourceArn).
 */
function stateMachineCaller(run: StateRun): { caller: Principal; executionArn: string } {
  const { Execution, StateMachine } = run.scope.contextBase;
  return {
    caller: {
      kind: "role",
      roleArn: Execution.RoleArn,
      sessionName: Execution.Name.slice(0, 64),
      assumedBy: "states.amazonaws.com",
      sourceArn: StateMachine.Id,
    },
    executionArn: run.scope.executionArn,
  };
}

function scheduledDetails(
  resourceType: string,
  resource: string,
  run: StateRun,
  parameters: unknown,
  settings: TaskSettings,
): Record<string, unknown> {
  return {
    resourceType,
    resource,
    region: run.services.region,
    parameters: JSON.stringify(parameters),
    timeoutInSeconds: settings.timeoutSeconds,
    heartbeatInSeconds: settings.heartbeatSeconds,
  };
}

function checkResultSize(text: string, run: StateRun): void {
  if (exceedsPayloadLimit(text)) {
    throw new StatesError(
      STATES_ERRORS.DataLimitExceeded,
      `The state/task '${run.stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    );
  }
}

/** `arn:aws:states:::lambda:invoke`: the result is the Invoke response (`Payload`, `StatusCode`, ...). */
async function invokeTask(state: TaskState, input: unknown, run: StateRun, settings: TaskSettings, cancellation: TaskCancellation) {
  const resource = "invoke";
  let parameters = taskPayload(state, input, run);
  if (parameters instanceof Promise) parameters = await parameters;
  const call = lambdaParameters(parameters);
  run.record("TaskScheduled", scheduledDetails("lambda", resource, run, parameters, settings));
  run.record("TaskStarted", { resourceType: "lambda", resource });
  try {
    let output: string | undefined;
    // The response is kept once, in TaskSucceeded (not also as the effect's value): replayed, that event gives it back.
    // A response over the payload limit is the effect's error, so a replay does not invoke the function again either.
    const response = await run.scope.effect(
      async () => {
        const invoked = invokeResponse(
          await callFunction(run.services.lambda, { ...call, cancellation, ...stateMachineCaller(run) }),
          run.services.clock.now(),
        );
        output = JSON.stringify(invoked);
        checkResultSize(output, run);
        return invoked;
      },
      { type: "TaskSucceeded", value: (succeeded) => JSON.parse(String(succeeded.details?.output)) },
    );
    output ??= JSON.stringify(response);
    run.record("TaskSucceeded", { resourceType: "lambda", resource, output, outputDetails: { truncated: false } });
    return { result: response };
  } catch (thrown) {
    throw recordTaskEnd(thrown, "lambda", resource, run, cancellation);
  }
}

/** `arn:aws:states:::sqs:sendMessage` / `...sns:publish`: the result is the service's response (`MessageId`, ...). */
async function messagingTask(
  action: MessagingAction,
  state: TaskState,
  input: unknown,
  run: StateRun,
  settings: TaskSettings,
  cancellation: TaskCancellation,
) {
  const [resourceType, resource] = action.split(":");
  let parameters = taskPayload(state, input, run);
  if (parameters instanceof Promise) parameters = await parameters;
  run.record("TaskScheduled", scheduledDetails(resourceType, resource, run, parameters, settings));
  run.record("TaskStarted", { resourceType, resource });
  try {
    // Replayed after a restart: the recorded response, so a message already sent is not sent again.
    const response = await run.scope.effect(() =>
      cancellation.race(callMessaging(action, parameters, run.services, run.services.clock.now(), stateMachineCaller(run))),
    );
    const output = JSON.stringify(response);
    checkResultSize(output, run);
    run.record("TaskSucceeded", { resourceType, resource, output, outputDetails: { truncated: false } });
    return { result: response };
  } catch (thrown) {
    throw recordTaskEnd(thrown, resourceType, resource, run, cancellation);
  }
}

/** How a callback task hands its token out; the result is what TaskSubmitted records. */
interface CallbackSubmission {
  resourceType: string;
  resource: string;
  /** Sends the resolved Parameters; calls `startHeartbeatClock` when AWS starts it for this integration. */
  submit(parameters: unknown, run: StateRun, cancellation: TaskCancellation, startHeartbeatClock: () => void): Promise<unknown>;
}

const lambdaSubmission: CallbackSubmission = {
  resourceType: "lambda",
  resource: "invoke.waitForTaskToken",
  async submit(parameters, run, cancellation, startHeartbeatClock) {
    const call = lambdaParameters(parameters);
    // AWS starts the heartbeat clock at once for asynchronous invocations, after the function returns otherwise.
    if (call.invocationType === "Event") startHeartbeatClock();
    const result = await callFunction(run.services.lambda, { ...call, cancellation, ...stateMachineCaller(run) });
    if (call.invocationType === "RequestResponse") startHeartbeatClock();
    return invokeResponse(result, run.services.clock.now());
  },
};

/** SQS and SNS: the heartbeat clock starts once the message is accepted. */
function messagingSubmission(action: MessagingAction): CallbackSubmission {
  const [resourceType, resource] = action.split(":");
  return {
    resourceType,
    resource: `${resource}.waitForTaskToken`,
    async submit(parameters, run, cancellation, startHeartbeatClock) {
      const response = await cancellation.race(
        callMessaging(action, parameters, run.services, run.services.clock.now(), stateMachineCaller(run)),
      );
      startHeartbeatClock();
      return response;
    },
  };
}

/**
 * `.waitForTaskToken`: a fresh token per attempt, the function is invoked with it, and the
 * task's result is exactly the output given to SendTaskSuccess.
 */
async function callbackTask(
  state: TaskState,
  input: unknown,
  run: StateRun,
  settings: TaskSettings,
  cancellation: TaskCancellation,
  timeoutAt: number,
  submission: CallbackSubmission,
) {
  const { resourceType, resource } = submission;
  const { tokens } = run.services;
  // The same token after a restart: the callback a function already scheduled still finds its task.
  const token = run.scope.once(() => tokens.mint());
  const opened = tokens.open(run.scope.executionArn, { heartbeatSeconds: settings.heartbeatSeconds, stateName: run.stateName }, token);
  try {
    let parameters = taskPayload(state, input, run, { Task: { Token: opened.token } });
    if (parameters instanceof Promise) parameters = await parameters;
    run.record("TaskScheduled", scheduledDetails(resourceType, resource, run, parameters, settings));
    run.record("TaskStarted", { resourceType, resource });
    try {
      // Replayed after a restart: the recorded response. A submission still in flight when the runtime died is made
      // again (at least once; see docs/local-runtime.md), with the same token, unless its callback was acknowledged
      // meanwhile: then the task's outcome is known and nothing is sent again (the response was lost with the runtime).
      // The response is kept once, in TaskSubmitted (not also as the effect's value).
      const submitted = await run.scope.effect(
        async () =>
          opened.closedBeforeRestart
            ? { note: "the submission's response was lost with the stopped runtime; its callback had arrived" }
            : await submission.submit(parameters, run, cancellation, () => tokens.startHeartbeatClock(opened.token)),
        { type: "TaskSubmitted", value: (taskSubmitted) => JSON.parse(String(taskSubmitted.details?.output)) },
      );
      run.record("TaskSubmitted", { resourceType, resource, output: JSON.stringify(submitted), outputDetails: { truncated: false } });
      tokens.handedOut(opened.token, { thread: run.scope.key, taskDeadline: timeoutAt });
      const outcome = await cancellation.race(opened.outcome);
      switch (outcome.kind) {
        case "success":
          run.record("TaskSucceeded", { resourceType, resource, output: outcome.output, outputDetails: { truncated: false } });
          return { result: JSON.parse(outcome.output) };
        case "failure":
          run.record("TaskFailed", { resourceType, resource, error: outcome.error, cause: outcome.cause });
          throw new RecordedFailure(new StatesError(outcome.error ?? "", outcome.cause ?? ""));
        case "heartbeatTimeout": {
          const cause = `The task sent no heartbeat within HeartbeatSeconds (${settings.heartbeatSeconds} s)`;
          run.record("TaskTimedOut", { resourceType, resource, error: STATES_ERRORS.Timeout, cause });
          throw new RecordedFailure(new StatesError(STATES_ERRORS.Timeout, cause));
        }
      }
    } catch (thrown) {
      throw recordTaskEnd(thrown, resourceType, resource, run, cancellation);
    }
  } finally {
    tokens.close(opened.token, isTimeout(cancellation, run) ? "timedOut" : "cancelled");
  }
}

/** A plain function ARN: the result is the function's response; history uses the LambdaFunction* events. */
async function functionArnTask(
  functionArn: string,
  state: TaskState,
  input: unknown,
  run: StateRun,
  settings: TaskSettings,
  cancellation: TaskCancellation,
) {
  let payload = taskPayload(state, input, run);
  if (payload instanceof Promise) payload = await payload;
  // Often the state's input itself, whose text its Entered event holds already.
  const payloadText = run.scope.jsonText(payload);
  run.record("LambdaFunctionScheduled", {
    resource: functionArn,
    input: payloadText,
    inputDetails: { truncated: false },
    timeoutInSeconds: settings.timeoutSeconds,
  });
  run.record("LambdaFunctionStarted");
  try {
    const result = await run.scope.effect(() =>
      callFunction(run.services.lambda, {
        functionName: functionArn,
        payload: payloadText,
        invocationType: "RequestResponse",
        cancellation,
        ...stateMachineCaller(run),
      }),
    );
    checkResultSize(result.payload, run);
    run.record("LambdaFunctionSucceeded", { output: result.payload, outputDetails: { truncated: false } });
    return { result: parsePayload(result.payload) };
  } catch (thrown) {
    if (isTimeout(cancellation, run)) {
      const cause = (cancellation.reason as TaskTimeoutReached).message;
      run.record("LambdaFunctionTimedOut", { error: STATES_ERRORS.Timeout, cause });
      throw new StatesError(STATES_ERRORS.Timeout, cause);
    }
    if (run.signal.aborted) throw run.signal.reason;
    const error = thrown instanceof StatesError ? thrown : new StatesError(STATES_ERRORS.Runtime, String(thrown));
    run.record("LambdaFunctionFailed", { error: error.error, cause: error.cause });
    throw error;
  }
}

/** A failure whose Task* event is already in the history. */
class RecordedFailure extends Error {
  constructor(readonly error: StatesError) {
    super(error.message);
  }
}

/** Records how a started task ended (TaskTimedOut or TaskFailed) unless already recorded; returns what to throw. */
function recordTaskEnd(thrown: unknown, resourceType: string, resource: string, run: StateRun, cancellation: TaskCancellation): unknown {
  if (thrown instanceof RecordedFailure) return thrown.error;
  if (isTimeout(cancellation, run)) {
    const cause = (cancellation.reason as TaskTimeoutReached).message;
    run.record("TaskTimedOut", { resourceType, resource, error: STATES_ERRORS.Timeout, cause });
    return new StatesError(STATES_ERRORS.Timeout, cause);
  }
  if (run.signal.aborted) return run.signal.reason;
  const error = thrown instanceof StatesError ? thrown : new StatesError(STATES_ERRORS.Runtime, String(thrown));
  run.record("TaskFailed", { resourceType, resource, error: error.error, cause: error.cause });
  return error;
}
