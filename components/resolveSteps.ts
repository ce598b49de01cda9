/**
 * Defaults and checks of a workflow's steps and channels, as one pure function (`resolveSteps`) that adds every
 * problem it finds to one list, so a user sees them all at once and tests need no Pulumi.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { isStatesErrorName, PAYLOAD_KEYS, referencesTaskToken, TASK_TOKEN_PATH } from "../workflow/contract";
import { checkWholeNumber, describe, type ResolvedFunctionArgs, isDefinedHere, resolveFunction } from "./functionArgs";
import type {
  CatchArgs,
  ExistingQueue,
  ExistingTopic,
  FunctionRef,
  RetryArgs,
  StepArgs,
  SubscriptionArgs,
  SqsChannelArgs,
  SnsChannelArgs,
  ApprovalChannelArgs,
  LambdaChannelArgs,
} from "./steps";

/** AWS's ceiling for TimeoutSeconds/HeartbeatSeconds (and its default). */
export const MAX_TASK_SECONDS = 99_999_999;

export const STEP_DEFAULTS = {
  callbackTimeoutSeconds: 3600,
  batchSize: 10,
  visibilityTimeoutSeconds: 30,
  messageRetentionSeconds: 345_600,
} as const;

/** What a callback channel sends by default: the token under `taskToken` and the step's input under `input`. */
export const DEFAULT_TOKEN_PAYLOAD: Readonly<Record<string, string>> = Object.freeze({
  [`${PAYLOAD_KEYS.taskToken}.$`]: TASK_TOKEN_PATH,
  [`${PAYLOAD_KEYS.input}.$`]: "$",
});

/** A function reference after checks: defined here (with its resolved args) or existing (by ARN). */
export type ResolvedFunctionRef = { definedHere: ResolvedFunctionArgs } | { existingArn: pulumi.Input<string> };

export interface ResolvedTaskBase {
  name: string;
  comment?: string;
  /** The step after this one; undefined: the execution ends here. */
  next?: string;
  catch: CatchArgs[];
  retry: RetryArgs[];
  resultPath?: string | null;
}

export interface ResolvedLambdaStep extends ResolvedTaskBase {
  type: "lambda";
  function: ResolvedFunctionRef;
  payload?: Record<string, unknown>;
  timeoutSeconds?: number;
}

export interface ResolvedLambdaChannel {
  type: "lambda";
  tokenReceiver: ResolvedFunctionRef;
  payload: Record<string, unknown>;
  invocationType: "RequestResponse" | "Event";
}

export interface ResolvedSqsChannel {
  type: "sqs";
  queue?: ExistingQueue | aws.sqs.Queue;
  queueSettings: { visibilityTimeoutSeconds: number; messageRetentionSeconds: number; kmsKeyArn?: pulumi.Input<string> };
  messageBody: unknown;
  worker?: {
    function: ResolvedFunctionArgs;
    batchSize: number;
    reportBatchItemFailures: boolean;
    deadLetter?: { maxReceiveCount: number };
  };
}

export type ResolvedSubscription =
  | { protocol: "lambda"; function: ResolvedFunctionRef }
  | { protocol: "sqs"; queue: ExistingQueue | aws.sqs.Queue; rawMessageDelivery: boolean }
  | { protocol: "email" | "email-json"; endpoint: pulumi.Input<string> };

export interface ResolvedSnsChannel {
  type: "sns";
  topic?: ExistingTopic | aws.sns.Topic;
  kmsKeyArn?: pulumi.Input<string>;
  message: unknown;
  subject?: string;
  subscriptions: ResolvedSubscription[];
}

export interface ResolvedApprovalChannel {
  type: "approval";
  email?: pulumi.Input<string>;
  topic?: ExistingTopic | aws.sns.Topic;
  subject?: string;
}

export type ResolvedChannel = ResolvedLambdaChannel | ResolvedSqsChannel | ResolvedSnsChannel | ResolvedApprovalChannel;

export interface ResolvedCallbackStep extends ResolvedTaskBase {
  type: "callback";
  channel: ResolvedChannel;
  timeoutSeconds: number;
  heartbeatSeconds?: number;
}

export interface ResolvedPassStep {
  type: "pass";
  name: string;
  comment?: string;
  result?: unknown;
  next?: string;
}

export interface ResolvedSucceedStep {
  type: "succeed";
  name: string;
  comment?: string;
}

export interface ResolvedFailStep {
  type: "fail";
  name: string;
  comment?: string;
  error: string;
  cause?: string;
  causePath?: string;
}

export type ResolvedStep = ResolvedLambdaStep | ResolvedCallbackStep | ResolvedPassStep | ResolvedSucceedStep | ResolvedFailStep;

/** `WaitForCompletion` → `wait-for-completion`: step names in child resource names. */
export function stepSlug(stepName: string): string {
  return stepName
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase();
}

/** Checks the steps and applies defaults; problems are added to `problems`. */
export function resolveSteps(steps: StepArgs[], problems: string[]): ResolvedStep[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    problems.push(`steps must be a non-empty list of steps; received ${describe(steps)}`);
    return [];
  }
  const names = new Set<string>();
  steps.forEach((step, index) => {
    const name = step?.name;
    if (typeof name !== "string" || name.length < 1 || name.length > 80) {
      problems.push(`steps[${index}].name (${describe(name)}) must be a string of 1 to 80 characters`);
    } else if (names.has(name)) {
      problems.push(`steps[${index}].name (${describe(name)}) is not unique: every step needs its own name`);
    }
    names.add(name);
  });
  // Lambda and callback steps name their resources `<workflow>-<slug>` and `<workflow>-<slug>-<suffix>` (role, logs,
  // receiver, queue, ...). Two slugs that are equal, or one the other's prefix up to a "-", could declare two
  // resources under one name, which Pulumi refuses only at deploy time, with a message about URNs.
  const slugs = new Map<string, string>();
  steps.forEach((step, index) => {
    if ((step?.type !== "lambda" && step?.type !== "callback") || typeof step.name !== "string" || step.name.length === 0) return;
    const slug = stepSlug(step.name);
    if (slug === "") {
      problems.push(
        `steps[${index}].name (${describe(step.name)}) needs a letter or digit: a ${step.type} step's resources are named after it`,
      );
      return;
    }
    const clash = [...slugs].find(([other]) => other === slug || slug.startsWith(`${other}-`) || other.startsWith(`${slug}-`));
    if (clash) {
      problems.push(
        `steps[${index}].name (${describe(step.name)}) names its resources "${slug}…", which can clash with step ${describe(clash[1])}'s ("${clash[0]}…"): rename one`,
      );
    } else slugs.set(slug, step.name);
  });

  const resolved: ResolvedStep[] = [];
  steps.forEach((step, index) => {
    const key = `steps[${index}] (${step?.name})`;
    const following = steps[index + 1]?.name;
    const checkTarget = (field: string, target: unknown) => {
      if (typeof target !== "string" || !names.has(target)) {
        problems.push(`${key}.${field} (${describe(target)}) names no step; steps are: ${[...names].join(", ")}`);
      }
    };
    const nextOf = (next: string | undefined, end: boolean | undefined): string | undefined => {
      if (next !== undefined && end) problems.push(`${key} has both next (${describe(next)}) and end: true; give one`);
      if (next !== undefined) checkTarget("next", next);
      return end ? undefined : (next ?? following);
    };
    switch (step?.type) {
      case "lambda": {
        const base = resolveTaskBase(key, step, problems, checkTarget);
        if (step.payload !== undefined && (step.payload === null || typeof step.payload !== "object" || Array.isArray(step.payload))) {
          problems.push(`${key}.payload must be an object (a payload template); received ${describe(step.payload)}`);
        }
        if (step.timeoutSeconds !== undefined)
          checkWholeNumber(`${key}.timeoutSeconds`, step.timeoutSeconds, 1, MAX_TASK_SECONDS, problems);
        resolved.push({
          type: "lambda",
          ...base,
          next: nextOf(step.next, step.end),
          function: resolveFunctionRef(`${key}.function`, step.function, problems),
          payload: step.payload,
          timeoutSeconds: step.timeoutSeconds,
        });
        break;
      }
      case "callback": {
        const base = resolveTaskBase(key, step, problems, checkTarget);
        const timeoutSeconds = step.timeoutSeconds ?? STEP_DEFAULTS.callbackTimeoutSeconds;
        const timeoutValid = checkWholeNumber(`${key}.timeoutSeconds`, timeoutSeconds, 1, MAX_TASK_SECONDS, problems);
        if (step.heartbeatSeconds !== undefined) {
          const heartbeatValid = checkWholeNumber(`${key}.heartbeatSeconds`, step.heartbeatSeconds, 1, MAX_TASK_SECONDS, problems);
          if (timeoutValid && heartbeatValid && step.heartbeatSeconds >= timeoutSeconds) {
            problems.push(`${key}.heartbeatSeconds (${step.heartbeatSeconds}) must be less than timeoutSeconds (${timeoutSeconds})`);
          }
        }
        resolved.push({
          type: "callback",
          ...base,
          next: nextOf(step.next, step.end),
          channel: resolveChannel(`${key}.channel`, step.channel, problems),
          timeoutSeconds,
          heartbeatSeconds: step.heartbeatSeconds,
        });
        break;
      }
      case "pass":
        resolved.push({ type: "pass", name: step.name, comment: step.comment, result: step.result, next: nextOf(step.next, step.end) });
        break;
      case "succeed":
        resolved.push({ type: "succeed", name: step.name, comment: step.comment });
        break;
      case "fail":
        if (typeof step.error !== "string" || step.error.length === 0)
          problems.push(`${key}.error (${describe(step.error)}) must be a non-empty error name`);
        if (step.cause !== undefined && step.causePath !== undefined) problems.push(`${key} has both cause and causePath; give one`);
        resolved.push({
          type: "fail",
          name: step.name,
          comment: step.comment,
          error: step.error,
          cause: step.cause,
          causePath: step.causePath,
        });
        break;
      default:
        problems.push(`${key}.type (${describe((step as { type?: unknown })?.type)}) must be one of lambda, callback, pass, succeed, fail`);
    }
  });
  checkReachable(resolved, problems);
  return resolved;
}

function resolveTaskBase(
  key: string,
  step: { name: string; comment?: string; catch?: CatchArgs[]; retry?: RetryArgs[]; resultPath?: string | null },
  problems: string[],
  checkTarget: (field: string, target: unknown) => void,
): Omit<ResolvedTaskBase, "next"> {
  const catchers = step.catch ?? [];
  const retriers = step.retry ?? [];
  catchers.forEach((catcher, index) => {
    checkErrorNames(`${key}.catch[${index}].errors`, catcher?.errors, index === catchers.length - 1, problems);
    checkTarget(`catch[${index}].next`, catcher?.next);
  });
  retriers.forEach((retrier, index) => {
    const at = `${key}.retry[${index}]`;
    checkErrorNames(`${at}.errors`, retrier?.errors, index === retriers.length - 1, problems);
    if (retrier?.intervalSeconds !== undefined)
      checkWholeNumber(`${at}.intervalSeconds`, retrier.intervalSeconds, 1, MAX_TASK_SECONDS, problems);
    if (retrier?.maxAttempts !== undefined) checkWholeNumber(`${at}.maxAttempts`, retrier.maxAttempts, 0, 99_999_999, problems);
    if (retrier?.backoffRate !== undefined && !(typeof retrier.backoffRate === "number" && retrier.backoffRate >= 1)) {
      problems.push(`${at}.backoffRate (${describe(retrier.backoffRate)}) must be a number of at least 1`);
    }
  });
  return { name: step.name, comment: step.comment, catch: catchers, retry: retriers, resultPath: step.resultPath };
}

/** AWS's rules for ErrorEquals: a non-empty list; `States.ALL` alone and in the last catcher or retrier; no unknown `States.` name. */
function checkErrorNames(key: string, errors: unknown, isLast: boolean, problems: string[]): void {
  if (!Array.isArray(errors) || errors.length === 0 || errors.some((error) => typeof error !== "string" || error.length === 0)) {
    problems.push(`${key} (${describe(errors)}) must be a non-empty list of error names`);
    return;
  }
  if (errors.includes("States.ALL") && (errors.length > 1 || !isLast)) {
    problems.push(`${key}: States.ALL must be alone in its list and in the last catcher or retrier`);
  }
  for (const error of errors as string[]) {
    if (error.startsWith("States.") && !isStatesErrorName(error)) {
      problems.push(`${key}: ${error} is not an error Step Functions defines (names starting with "States." are reserved)`);
    }
  }
}

function resolveFunctionRef(key: string, fn: FunctionRef, problems: string[]): ResolvedFunctionRef {
  if (isDefinedHere(fn)) return { definedHere: resolveFunction(key, fn, problems) };
  if (fn !== null && typeof fn === "object" && "arn" in fn && fn.arn !== undefined) return { existingArn: fn.arn };
  problems.push(
    `${key} must be a function to define ({callbackFactory, ...}) or an existing one ({arn} or an aws.lambda.Function); received ${describe(fn)}`,
  );
  return { existingArn: "" };
}

/** The token check with the exact message a user sees: where the token must go, and what was given. */
function checkCarriesToken(key: string, field: string, template: unknown, problems: string[]): void {
  if (!referencesTaskToken(template)) {
    problems.push(
      `${key} must pass the task token, or nothing can ever answer the wait: reference $$.Task.Token in a ".$" field ` +
        `(e.g. "taskToken.$": "$$.Task.Token", or inside an intrinsic such as States.Format), or $$.Task or $$; ${field} is ${describe(template)}`,
    );
  }
}

function resolveChannel(key: string, channel: StepArgsChannel, problems: string[]): ResolvedChannel {
  switch (channel?.type) {
    case "lambda":
      return resolveLambdaChannel(key, channel, problems);
    case "sqs":
      return resolveSqsChannel(key, channel, problems);
    case "sns":
      return resolveSnsChannel(key, channel, problems);
    case "approval":
      return resolveApprovalChannel(key, channel, problems);
    default:
      problems.push(`${key}.type (${describe((channel as { type?: unknown })?.type)}) must be one of lambda, sqs, sns, approval`);
      return { type: "approval" };
  }
}

type StepArgsChannel = LambdaChannelArgs | SqsChannelArgs | SnsChannelArgs | ApprovalChannelArgs;

function resolveLambdaChannel(key: string, channel: LambdaChannelArgs, problems: string[]): ResolvedLambdaChannel {
  const payload = channel.payload ?? { ...DEFAULT_TOKEN_PAYLOAD };
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    problems.push(`${key}.payload must be an object (a payload template); received ${describe(payload)}`);
  } else {
    checkCarriesToken(`${key}.payload`, "the payload", payload, problems);
  }
  const invocationType = channel.invocationType ?? "RequestResponse";
  if (invocationType !== "RequestResponse" && invocationType !== "Event") {
    problems.push(`${key}.invocationType (${describe(invocationType)}) must be RequestResponse or Event`);
  }
  return {
    type: "lambda",
    tokenReceiver: resolveFunctionRef(`${key}.tokenReceiver`, channel.tokenReceiver, problems),
    payload,
    invocationType,
  };
}

/** A message template: an object (sent as JSON), or a string that is a path or an intrinsic (sent as `Field.$`). */
function checkMessageTemplate(key: string, template: unknown, problems: string[]): void {
  if (typeof template === "string") {
    checkCarriesToken(key, "the expression", template, problems);
  } else if (template !== null && typeof template === "object" && !Array.isArray(template)) {
    checkCarriesToken(key, `the template`, template, problems);
  } else {
    problems.push(`${key} must be an object (sent as JSON) or a path/intrinsic expression string; received ${describe(template)}`);
  }
}

function resolveSqsChannel(key: string, channel: SqsChannelArgs, problems: string[]): ResolvedSqsChannel {
  const messageBody = channel.messageBody ?? { ...DEFAULT_TOKEN_PAYLOAD };
  checkMessageTemplate(`${key}.messageBody`, messageBody, problems);
  if (channel.queue !== undefined && channel.queueSettings !== undefined) {
    problems.push(
      `${key}: queueSettings apply to the queue the workflow creates; an existing queue keeps its own (give one of queue, queueSettings)`,
    );
  }
  if (
    channel.queue !== undefined &&
    (typeof channel.queue !== "object" || channel.queue.arn === undefined || channel.queue.url === undefined)
  ) {
    problems.push(`${key}.queue must be an aws.sqs.Queue or {arn, url}; received ${describe(channel.queue)}`);
  }
  let worker: ResolvedSqsChannel["worker"];
  if (channel.worker !== undefined) {
    const at = `${key}.worker`;
    const fn = resolveFunction(`${at}.function`, channel.worker.function ?? ({} as never), problems);
    const batchSize = channel.worker.batchSize ?? STEP_DEFAULTS.batchSize;
    checkWholeNumber(`${at}.batchSize`, batchSize, 1, 10, problems);
    const deadLetter = channel.worker.deadLetter;
    if (deadLetter !== undefined) {
      checkWholeNumber(`${at}.deadLetter.maxReceiveCount`, deadLetter.maxReceiveCount, 1, 1000, problems);
      if (channel.queue !== undefined) {
        problems.push(
          `${at}.deadLetter needs a queue the workflow creates: set the redrive policy of an existing queue where it is defined`,
        );
      }
    }
    worker = { function: fn, batchSize, reportBatchItemFailures: channel.worker.reportBatchItemFailures ?? true, deadLetter };
  }
  // Lambda refuses an event source mapping whose queue hides messages for less than the function may run.
  // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
  const visibilityTimeoutSeconds =
    channel.queueSettings?.visibilityTimeoutSeconds ??
    (worker ? 6 * worker.function.timeoutSeconds : STEP_DEFAULTS.visibilityTimeoutSeconds);
  if (checkWholeNumber(`${key}.queueSettings.visibilityTimeoutSeconds`, visibilityTimeoutSeconds, 0, 43_200, problems) && worker) {
    if (visibilityTimeoutSeconds < worker.function.timeoutSeconds) {
      problems.push(
        `${key}.queueSettings.visibilityTimeoutSeconds (${visibilityTimeoutSeconds}) must be at least the worker's timeoutSeconds (${worker.function.timeoutSeconds})`,
      );
    }
  }
  const messageRetentionSeconds = channel.queueSettings?.messageRetentionSeconds ?? STEP_DEFAULTS.messageRetentionSeconds;
  checkWholeNumber(`${key}.queueSettings.messageRetentionSeconds`, messageRetentionSeconds, 60, 1_209_600, problems);
  return {
    type: "sqs",
    queue: channel.queue,
    queueSettings: { visibilityTimeoutSeconds, messageRetentionSeconds, kmsKeyArn: channel.queueSettings?.kmsKeyArn },
    messageBody,
    worker,
  };
}

function checkSubject(key: string, subject: unknown, problems: string[]): void {
  // SNS: at most 100 printable ASCII characters, no line break. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
  if (
    subject !== undefined &&
    (typeof subject !== "string" || subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject))
  ) {
    problems.push(`${key} (${describe(subject)}) must be 1 to 100 printable ASCII characters, as SNS requires`);
  }
}

function resolveSnsChannel(key: string, channel: SnsChannelArgs, problems: string[]): ResolvedSnsChannel {
  const message = channel.message ?? { ...DEFAULT_TOKEN_PAYLOAD };
  checkMessageTemplate(`${key}.message`, message, problems);
  checkSubject(`${key}.subject`, channel.subject, problems);
  if (channel.topic !== undefined && channel.kmsKeyArn !== undefined) {
    problems.push(`${key}.kmsKeyArn applies to the topic the workflow creates; give an existing topic's key as topic.kmsKeyArn`);
  }
  const subscriptions = (channel.subscriptions ?? []).map((subscription, index): ResolvedSubscription => {
    const at = `${key}.subscriptions[${index}]`;
    return resolveSubscription(at, subscription, problems);
  });
  return { type: "sns", topic: channel.topic, kmsKeyArn: channel.kmsKeyArn, message, subject: channel.subject, subscriptions };
}

function resolveSubscription(key: string, subscription: SubscriptionArgs, problems: string[]): ResolvedSubscription {
  switch (subscription?.protocol) {
    case "lambda":
      return { protocol: "lambda", function: resolveFunctionRef(`${key}.function`, subscription.function, problems) };
    case "sqs":
      if (subscription.queue === undefined || subscription.queue.arn === undefined || subscription.queue.url === undefined) {
        problems.push(`${key}.queue must be an aws.sqs.Queue or {arn, url}; received ${describe(subscription.queue)}`);
      }
      return { protocol: "sqs", queue: subscription.queue, rawMessageDelivery: subscription.rawMessageDelivery ?? false };
    case "email":
    case "email-json":
      if (subscription.endpoint === undefined || subscription.endpoint === "") problems.push(`${key}.endpoint must be an email address`);
      return { protocol: subscription.protocol, endpoint: subscription.endpoint };
    default:
      problems.push(
        `${key}.protocol (${describe((subscription as { protocol?: unknown })?.protocol)}) must be one of lambda, sqs, email, email-json`,
      );
      return { protocol: "email", endpoint: "" };
  }
}

function resolveApprovalChannel(key: string, channel: ApprovalChannelArgs, problems: string[]): ResolvedApprovalChannel {
  checkSubject(`${key}.subject`, channel.subject, problems);
  if (channel.email === "") problems.push(`${key}.email must be an email address (or omitted)`);
  return { type: "approval", email: channel.email, topic: channel.topic, subject: channel.subject };
}

/** Every step must be reachable from the first by `next` or a catch; otherwise it is dead weight or a typo. */
function checkReachable(steps: ResolvedStep[], problems: string[]): void {
  if (steps.length === 0) return;
  const byName = new Map(steps.map((step) => [step.name, step]));
  const seen = new Set<string>();
  const pending = [steps[0].name];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name) || !byName.has(name)) continue;
    seen.add(name);
    const step = byName.get(name)!;
    if ("next" in step && step.next !== undefined) pending.push(step.next);
    if ("catch" in step) for (const catcher of step.catch) pending.push(catcher.next);
  }
  const unreachable = steps.filter((step) => !seen.has(step.name)).map((step) => step.name);
  if (unreachable.length > 0) {
    problems.push(`steps ${unreachable.join(", ")} cannot be reached from ${steps[0].name} by any next or catch`);
  }
}
