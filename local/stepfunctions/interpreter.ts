/**
 * Runs the states of a (sub) state machine. Every state goes through the same pipeline, in this one place:
 * InputPath → (the state's own work, which may apply Parameters) → ResultSelector → ResultPath → OutputPath,
 * with Retry and Catch around it, and its `*StateEntered`/`*StateExited` history events.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
 */
import type { Clock } from "./clock";
import type { ContextObject, ExecutionContextBase } from "./context";
import { stateContext } from "./context";
import { StatesError, STATES_ERRORS, toStatesError } from "./errors";
import type { HistoryEvent, HistoryEventType, HistoryThread } from "./history";
import type { LambdaInvoker } from "../common/invoker";
import type { QueueSender, TopicPublisher } from "../common/messaging";
import type { TaskTokenRegistry } from "./tokens";
import type { State, SubStateMachine } from "./asl/types";
import { applyInputPath, applyOutputPath, applyResultPath, resolveTemplate } from "./asl/paths";
import { serializePayload } from "./limits";
import { errorOutput, findCatcher, findRetrier, maxAttempts, retryDelayMs } from "./retry";
import { sleep } from "./clock";
import type { StateHandler } from "./states/handler";
import { taskState } from "./states/task";
import { passState } from "./states/pass";
import { choiceState } from "./states/choice";
import { waitState } from "./states/wait";
import { succeedState } from "./states/succeed";
import { failState } from "./states/fail";
import { parallelState } from "./states/parallel";
import { mapState } from "./states/map";

const HANDLERS: Record<State["Type"], StateHandler<any>> = {
  Task: taskState,
  Pass: passState,
  Choice: choiceState,
  Wait: waitState,
  Succeed: succeedState,
  Fail: failState,
  Parallel: parallelState,
  Map: mapState,
};

/** What the engine uses from the outside world. */
export interface EngineServices {
  clock: Clock;
  lambda: LambdaInvoker;
  /** Sends for sqs:sendMessage tasks (absent: such tasks fail with States.Runtime). */
  sqs?: QueueSender;
  /** Publishes for sns:publish tasks. */
  sns?: TopicPublisher;
  tokens: TaskTokenRegistry;
  region: string;
  /** Random source for retry jitter (injectable for tests). */
  random?: () => number;
  /** One live progress line per state transition. */
  log?(line: string): void;
  /** Called after every history event of every execution (the console's live view listens here). */
  onHistoryEvent?(executionArn: string, stateMachineArn: string, event: HistoryEvent): void;
}

/** One line of work inside an execution: the whole execution, a Parallel branch, or a Map iteration. */
export class RunScope {
  constructor(
    readonly services: EngineServices,
    readonly executionArn: string,
    readonly executionName: string,
    readonly contextBase: ExecutionContextBase,
    readonly thread: HistoryThread,
    readonly signal: AbortSignal,
  ) {}

  /** A scope for a branch or iteration: its own history thread, the given (child) abort signal. */
  fork(signal: AbortSignal): RunScope {
    return new RunScope(this.services, this.executionArn, this.executionName, this.contextBase, this.thread.fork(), signal);
  }

  record(type: HistoryEventType, stateName: string | undefined, details?: Record<string, unknown>): HistoryEvent {
    const event = this.thread.record(type, details);
    this.services.log?.(`${this.executionName} ${stateName ?? "-"} ${type}`);
    return event;
  }
}

/** What a state handler sees while one attempt of its state runs. */
export class StateRun {
  constructor(
    readonly stateName: string,
    readonly scope: RunScope,
    readonly context: ContextObject,
  ) {}

  get signal(): AbortSignal {
    return this.scope.signal;
  }

  get services(): EngineServices {
    return this.scope.services;
  }

  record(type: HistoryEventType, details?: Record<string, unknown>): HistoryEvent {
    return this.scope.record(type, this.stateName, details);
  }

  /** Parameters / ItemSelector: a payload template resolved against `input` and the context object. */
  resolveTemplate(template: unknown, input: unknown, extraContext?: Partial<ContextObject>): unknown {
    return resolveTemplate(template, input, extraContext ? { ...this.context, ...extraContext } : this.context);
  }

  /** Runs a nested state machine (Parallel branch, Map item processor) in `scope`. */
  runBlock(block: SubStateMachine, input: unknown, scope: RunScope): Promise<unknown> {
    return runStates(block, input, scope);
  }
}

/** Runs states from `StartAt` until one ends; resolves with the last output, rejects with StatesError. */
export async function runStates(block: SubStateMachine, input: unknown, scope: RunScope): Promise<unknown> {
  let stateName = block.StartAt;
  let data = input;
  for (;;) {
    if (scope.signal.aborted) throw scope.signal.reason;
    const state = block.States[stateName];
    if (!state) throw new StatesError(STATES_ERRORS.Runtime, `The state '${stateName}' does not exist`);
    const step = await executeState(stateName, state, data, scope);
    if (step.end) return step.output;
    stateName = step.next!;
    data = step.output;
  }
}

interface StateOutcome {
  output: unknown;
  next?: string;
  end: boolean;
}

async function executeState(name: string, state: State, rawInput: unknown, scope: RunScope): Promise<StateOutcome> {
  const handler = HANDLERS[state.Type];
  const { clock } = scope.services;
  const enteredTime = new Date(clock.now()).toISOString();
  const entered = scope.record(`${handler.eventPrefix}StateEntered` as HistoryEventType, name, {
    name,
    input: JSON.stringify(rawInput),
    inputDetails: { truncated: false },
  });
  const retriers = "Retry" in state ? state.Retry : undefined;
  const catchers = "Catch" in state ? state.Catch : undefined;
  const attemptsPerRetrier = retriers ? retriers.map(() => 0) : [];
  let retryCount = 0;

  for (;;) {
    const run = new StateRun(name, scope, stateContext(scope.contextBase, name, enteredTime, retryCount));
    try {
      const effectiveInput = "InputPath" in state ? applyInputPath(state.InputPath, rawInput, run.context) : rawInput;
      const step = await handler.execute(state, effectiveInput, run);
      let output: unknown;
      if (handler.output === "result") {
        const selected =
          "ResultSelector" in state && state.ResultSelector !== undefined
            ? resolveTemplate(state.ResultSelector, step.result, run.context)
            : step.result;
        output = applyResultPath("ResultPath" in state ? state.ResultPath : undefined, rawInput, selected);
      } else {
        output = effectiveInput;
      }
      if ("OutputPath" in state) output = applyOutputPath(state.OutputPath, output, run.context);
      if (handler.recordsExit) {
        const outputText = serializePayload(output, `output of the state '${name}'`);
        scope.record(`${handler.eventPrefix}StateExited` as HistoryEventType, name, {
          name,
          output: outputText,
          outputDetails: { truncated: false },
        });
      }
      return {
        output,
        next: step.next ?? ("Next" in state ? state.Next : undefined),
        end: step.end ?? ("End" in state && state.End === true),
      };
    } catch (thrown) {
      if (scope.signal.aborted) throw scope.signal.reason;
      const error = locateError(toStatesError(thrown), name, entered.id);
      const retrierIndex = findRetrier(retriers, error);
      if (retrierIndex >= 0 && attemptsPerRetrier[retrierIndex] < maxAttempts(retriers![retrierIndex])) {
        const delayMs = retryDelayMs(retriers![retrierIndex], attemptsPerRetrier[retrierIndex], scope.services.random);
        attemptsPerRetrier[retrierIndex]++;
        retryCount++;
        await sleep(clock, delayMs, scope.signal);
        continue;
      }
      const catcher = findCatcher(catchers, error);
      if (!catcher) throw error;
      const output = applyResultPath(catcher.ResultPath, rawInput, errorOutput(error));
      scope.record(`${handler.eventPrefix}StateExited` as HistoryEventType, name, {
        name,
        output: serializePayload(output, `output of the state '${name}'`),
        outputDetails: { truncated: false },
      });
      return { output, next: catcher.Next, end: false };
    }
  }
}

/** Errors in a state's data processing name the state, as AWS's causes do. */
const LOCATED_ERRORS = new Set<string>([
  STATES_ERRORS.Runtime,
  STATES_ERRORS.ResultPathMatchFailure,
  STATES_ERRORS.IntrinsicFailure,
  STATES_ERRORS.ParameterPathFailure,
  STATES_ERRORS.DataLimitExceeded,
]);
const LOCATION_PREFIX = "An error occurred while executing the state";

function locateError(error: StatesError, stateName: string, enteredEventId: number): StatesError {
  if (!LOCATED_ERRORS.has(error.error) || error.cause.startsWith(LOCATION_PREFIX)) return error;
  return new StatesError(error.error, `${LOCATION_PREFIX} '${stateName}' (entered at the event id #${enteredEventId}). ${error.cause}`);
}
