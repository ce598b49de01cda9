/**
 * Runs the states of a (sub) state machine. Every state goes through the same pipeline, in this one place,
 * with Retry and Catch around it and its `*StateEntered`/`*StateExited` history events:
 * - JSONPath: InputPath → (the state's own work, which may apply Parameters) → ResultSelector → Assign →
 *   ResultPath → OutputPath;
 * - JSONata: (the state's own work, which may evaluate Arguments) → Output and Assign, both seeing the
 *   variables as they were when the state was entered.
 * Variables a state assigns take effect when it exits, and are recorded in its Exited event.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "./clock";
import type { ContextObject, ExecutionContextBase } from "./context";
import { stateContext } from "./context";
import { StatesError, STATES_ERRORS, toStatesError } from "./errors";
import type { HistoryEvent, HistoryEventType, HistoryThread } from "./history";
import type { LambdaInvoker } from "../common/invoker";
import type { QueueSender, TopicPublisher } from "../common/messaging";
import type { TaskTokenRegistry } from "./tokens";
import { NO_JOURNAL, type EffectEntry, type ExecutionJournal } from "./journal";
import type { Catcher, QueryLanguage, State, SubStateMachine } from "./asl/types";
import { applyInputPath, applyOutputPath, applyResultPath, resolveTemplate } from "./asl/paths";
import { evaluateTemplate, type JsonataBindings } from "./asl/jsonata/evaluate";
import { random as seededRandom } from "./asl/jsonata/functions";
import { VariableScope } from "./variables";
import type { ChildOutcome, ThreadPlan } from "./redrive";
import { RetryDue, type StateInspector } from "./inspection";
import { serializePayload } from "./limits";
import { errorOutput, findCatcher, findRetrier, maxAttempts, retryDelayMs } from "./retry";
import { isoTime, sleep } from "./clock";
import { BlockFailed, type StateHandler, type StateStep } from "./states/handler";
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

/** Each state type's `*StateEntered` event, and each event prefix's `*StateExited`, named once. */
const ENTERED_EVENT = Object.fromEntries(
  Object.entries(HANDLERS).map(([type, handler]) => [type, `${handler.eventPrefix}StateEntered` as HistoryEventType]),
) as Record<State["Type"], HistoryEventType>;
const EXITED_EVENT: Record<string, HistoryEventType> = Object.fromEntries(
  Object.values(HANDLERS).map((handler) => [handler.eventPrefix, `${handler.eventPrefix}StateExited` as HistoryEventType]),
);

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
  log?(line: string, level?: "warn" | "info"): void;
  /** Called after every history event of every execution (the console's live view listens here). */
  onHistoryEvent?(executionArn: string, stateMachineArn: string, event: HistoryEvent): void;
}

/** How a failed execution's log line names what failed: `: error "States.Timeout", cause "..."` (cause cut at 300 characters). */
export function describeFailure(details: Record<string, unknown> | undefined): string {
  const parts: string[] = [];
  if (typeof details?.error === "string") parts.push(`error ${JSON.stringify(details.error)}`);
  if (typeof details?.cause === "string") {
    const cause = details.cause.length > 300 ? `${details.cause.slice(0, 300)}…` : details.cause;
    parts.push(`cause ${JSON.stringify(cause)}`);
  }
  return parts.length > 0 ? `: ${parts.join(", ")}` : "";
}

/**
 * One line of work inside an execution: the whole execution, a Parallel branch, or a Map iteration.
 * Everything it does to the outside world goes through `record`, `effect` and `deadline`, which the journal
 * answers when the execution is replayed after a restart (journal.ts).
 */
export class RunScope {
  private forks = 0;
  private events = 0;
  private effects = 0;
  /** The value this thread last wrote into its history as JSON, and that text (see `jsonText`). */
  private lastSerialized: unknown;
  private lastSerializedText?: string;
  /** In a redriven execution: where this thread starts again (redrive.ts). */
  redrive?: ThreadPlan;
  /** Under TestState: what it watches and mocks (inspection.ts). */
  inspector?: StateInspector;

  constructor(
    readonly services: EngineServices,
    readonly executionArn: string,
    readonly executionName: string,
    readonly contextBase: ExecutionContextBase,
    readonly thread: HistoryThread,
    readonly signal: AbortSignal,
    /** The state machine's QueryLanguage, which a state's own QueryLanguage overrides. */
    readonly queryLanguage: QueryLanguage = "JSONPath",
    readonly variables: VariableScope = new VariableScope(),
    readonly journal: ExecutionJournal = NO_JOURNAL,
    /** This thread's key in the journal: "0" for the execution, "<parent>.<n>" for its n-th fork. */
    readonly key = "0",
  ) {}

  /**
   * A scope for a branch or iteration: its own history thread, the given (child) abort signal, and a
   * variable scope that reads the outer variables and keeps its own assignments to itself.
   */
  fork(signal: AbortSignal, index: number): RunScope {
    // The iteration or branch index is part of the key: a redrive finds each one's history by it.
    const key = `${this.key}.${this.forks++}@${index}`;
    return new RunScope(
      this.services,
      this.executionArn,
      this.executionName,
      this.contextBase,
      this.thread.fork(),
      signal,
      this.queryLanguage,
      this.variables.child(),
      this.journal,
      key,
    );
  }

  /**
   * JSON text of a state's data for the history. A state's output is the next state's input (and often a
   * task's payload), so the text of the last value is kept: state data is never mutated (asl/paths.ts).
   */
  jsonText(value: unknown): string {
    if (value !== this.lastSerialized || this.lastSerializedText === undefined) this.rememberText(value, JSON.stringify(value));
    return this.lastSerializedText!;
  }

  /** Notes that `text` is the JSON text of `value` (serialized elsewhere, e.g. with a size check). */
  rememberText(value: unknown, text: string): void {
    this.lastSerialized = value;
    this.lastSerializedText = text;
  }

  record(type: HistoryEventType, stateName: string | undefined, details?: Record<string, unknown>): HistoryEvent {
    const sequence = this.events++;
    const replayed = this.journal.replayedEvent(this.key, sequence);
    if (replayed) {
      this.thread.lastEventId = replayed.id;
      return replayed;
    }
    const event = this.thread.record(type, details, this.key);
    this.journal.saveEvent(this.key, sequence, event);
    if (type === "ExecutionFailed" || type === "ExecutionTimedOut") {
      this.services.log?.(`${this.executionName} ${stateName ?? "-"} ${type}${describeFailure(details)}`, "warn");
    } else this.services.log?.(`${this.executionName} ${stateName ?? "-"} ${type}`);
    return event;
  }

  /**
   * Performs a step with an outcome from outside (a Lambda call) once: replayed, it gives the recorded value
   * or throws the recorded StatesError. Anything else thrown (an abort) is not an outcome and is not kept.
   *
   * `keptIn`: the value is recorded in full by this thread's next history event, of type `keptIn.type` (a callback
   * task's submission, in its TaskSubmitted), so it is not kept a second time: replayed, that event gives it back.
   */
  effect<T>(perform: () => Promise<T>, keptIn?: { type: HistoryEventType; value(event: HistoryEvent): T }): Promise<T> {
    // Nothing will ever replay this execution: nothing to note down, so no wrapper around the wait.
    if (this.journal === NO_JOURNAL) return perform();
    return this.journaledEffect(perform, keptIn);
  }

  private async journaledEffect<T>(
    perform: () => Promise<T>,
    keptIn?: { type: HistoryEventType; value(event: HistoryEvent): T },
  ): Promise<T> {
    const sequence = this.effects++;
    const recorded = this.journal.effect(this.key, sequence);
    if (recorded) return replayEffect(recorded) as T;
    if (keptIn) {
      const nextEvent = this.journal.peekEvent(this.key, this.events);
      if (nextEvent?.type === keptIn.type) return keptIn.value(nextEvent);
    }
    try {
      const value = await perform();
      if (!keptIn) this.journal.saveEffect(this.key, sequence, { value });
      return value;
    } catch (thrown) {
      if (thrown instanceof StatesError && !this.signal.aborted) {
        this.journal.saveEffect(this.key, sequence, { error: { error: thrown.error, cause: thrown.cause } });
      }
      throw thrown;
    }
  }

  /** A value chosen once (a token, a random draw); replayed, the same value. */
  once<T>(choose: () => T): T {
    const sequence = this.effects++;
    const recorded = this.journal.effect(this.key, sequence);
    if (recorded) return replayEffect(recorded) as T;
    const value = choose();
    this.journal.saveEffect(this.key, sequence, { value });
    return value;
  }

  /** The absolute time (ms since the epoch) `delayMs` from the first run of this step: timers survive restarts. */
  deadline(delayMs: number): number {
    return this.once(() => this.services.clock.now() + delayMs);
  }
}

function replayEffect(entry: EffectEntry): unknown {
  if ("error" in entry) throw new StatesError(entry.error.error, entry.error.cause);
  return entry.value;
}

/** What a state handler sees while one attempt of its state runs. */
export class StateRun {
  constructor(
    readonly stateName: string,
    readonly scope: RunScope,
    readonly context: ContextObject,
    readonly queryLanguage: QueryLanguage,
    /** The state's input as it entered (`$states.input`). */
    readonly input: unknown,
  ) {}

  get isJsonata(): boolean {
    return this.queryLanguage === "JSONata";
  }

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

  /**
   * The payload a state sends on (a task's request, a branch's or item's input): Parameters/ItemSelector
   * resolved against `input` in a JSONPath state, Arguments/ItemSelector evaluated in a JSONata state
   * (a promise only then: the JSONPath path stays synchronous).
   */
  payload(template: unknown, input: unknown, field: string, extraContext?: Partial<ContextObject>): unknown {
    if (template === undefined) return input;
    const inspector = field === "Arguments" || field === "Parameters" ? this.scope.inspector : undefined;
    if (!this.isJsonata) {
      const value = this.resolveTemplate(template, input, extraContext);
      inspector?.note("afterParameters", value);
      return value;
    }
    const value = evaluateTemplate(template, this.bindings(extraContext), field);
    if (!inspector) return value;
    return Promise.resolve(value).then((evaluated) => {
      inspector.note("afterArguments", evaluated);
      return evaluated;
    });
  }

  /**
   * A JSONata state's field: `{% %}` strings anywhere inside it are evaluated, everything else is kept. A value
   * when every expression took the synchronous shortcut, else a promise; a failure may be thrown at once.
   */
  evaluate(template: unknown, field: string, extraContext?: Partial<ContextObject>, extraStates?: Record<string, unknown>): unknown {
    return evaluateTemplate(template, this.bindings(extraContext, extraStates), field);
  }

  /** `$states` (input, context, and the result or error output once there is one) and every visible variable. */
  bindings(extraContext?: Partial<ContextObject>, extraStates?: Record<string, unknown>): JsonataBindings {
    const context = extraContext ? { ...this.context, ...extraContext } : this.context;
    return { ...this.replayableFunctions, ...this.scope.variables.all(), states: { input: this.input, context, ...extraStates } };
  }

  /**
   * `$uuid()` and an unseeded `$random()` as values chosen once: an execution replayed after a restart gets the
   * same values. They shadow the functions registered on the compiled expression (see jsonata/functions.ts).
   */
  private get replayableFunctions(): JsonataBindings {
    return {
      uuid: () => this.scope.once(() => randomUUID()),
      random: (seed?: unknown) => (seed === undefined ? this.scope.once(() => Math.random()) : seededRandom(seed)),
    };
  }

  /**
   * In a redriven execution, while this state is the one its thread resumes at: how its iterations or
   * branches stood before (those that succeeded are not run again).
   */
  redriveChildren?: ReadonlyMap<number, ChildOutcome>;

  /** Runs a nested state machine (Parallel branch, Map item processor) in `scope`. */
  runBlock(block: SubStateMachine, input: unknown, scope: RunScope): Promise<unknown> {
    return runStates(block, input, scope);
  }
}

/** Runs states from `StartAt` until one ends; resolves with the last output, rejects with StatesError. */
export async function runStates(block: SubStateMachine, input: unknown, scope: RunScope): Promise<unknown> {
  // A redriven thread starts again at the state it left unfinished, with that state's input and its variables.
  const resume = scope.redrive?.resumeAt;
  let redriveChildren = scope.redrive?.children;
  let stateName = resume?.stateName ?? block.StartAt;
  let data = resume ? resume.input : input;
  if (resume && Object.keys(resume.variables).length > 0) scope.variables.assign(resume.variables);
  for (;;) {
    if (scope.signal.aborted) throw scope.signal.reason;
    const state = block.States[stateName];
    if (!state) throw new StatesError(STATES_ERRORS.Runtime, `The state '${stateName}' does not exist`);
    const step = await executeState(stateName, state, data, scope, redriveChildren);
    redriveChildren = undefined;
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

export async function executeState(
  name: string,
  state: State,
  rawInput: unknown,
  scope: RunScope,
  redriveChildren?: ReadonlyMap<number, ChildOutcome>,
): Promise<StateOutcome> {
  const handler = HANDLERS[state.Type];
  const { clock } = scope.services;
  const queryLanguage = state.QueryLanguage ?? scope.queryLanguage;
  const entered = scope.record(ENTERED_EVENT[state.Type], name, {
    name,
    input: scope.jsonText(rawInput),
    inputDetails: { truncated: false },
  });
  // From the event, so a replayed execution sees the time the state was first entered.
  const enteredTime = isoTime(entered.timestamp);
  const retriers = "Retry" in state ? state.Retry : undefined;
  const catchers = "Catch" in state ? state.Catch : undefined;
  const inspector = scope.inspector;
  const attemptsPerRetrier = retriers ? retriers.map(() => inspector?.retriesMade ?? 0) : [];
  let retryCount = 0;

  for (;;) {
    // Paths read the variables as they were when the state was entered.
    const context = stateContext(
      scope.contextBase,
      name,
      enteredTime,
      handler.countsRetries ? retryCount : undefined,
      scope.variables.all(),
    );

    const run = new StateRun(name, scope, context, queryLanguage, rawInput);
    run.redriveChildren = redriveChildren;
    try {
      const effectiveInput = !run.isJsonata && "InputPath" in state ? applyInputPath(state.InputPath, rawInput, run.context) : rawInput;
      if (!run.isJsonata) inspector?.note("afterInputPath", effectiveInput);
      // Not awaited when nothing is pending: a JSONPath Pass or Choice state does its work synchronously.
      const pending = inspector
        ? inspector.execute(state, effectiveInput, run).then((mocked) => mocked ?? handler.execute(state, effectiveInput, run))
        : handler.execute(state, effectiveInput, run);
      const step = pending instanceof Promise ? await pending : pending;
      if (handler.output === "result") inspector?.note("result", step.result);
      const fields: DataFieldsOf = step.matchedRule ?? (state as DataFieldsOf);
      const outcome = run.isJsonata
        ? jsonataOutput(fields, handler, step, rawInput, run)
        : jsonPathOutput(state, fields, handler, step, rawInput, effectiveInput, run);
      const { output, assign } = outcome instanceof Promise ? await outcome : outcome;
      const assigned = assign === undefined ? undefined : scope.variables.assign(assign);
      if (handler.recordsExit) recordExit(scope, handler, name, output, assigned);
      return {
        output,
        next: step.next ?? ("Next" in state ? state.Next : undefined),
        end: step.end ?? ("End" in state && state.End === true),
      };
    } catch (thrown) {
      if (scope.signal.aborted) throw scope.signal.reason;
      const error = locateError(toStatesError(thrown instanceof BlockFailed ? thrown.error : thrown), name, entered.id);
      const retrierIndex = findRetrier(retriers, error);
      const retrying = retrierIndex >= 0 && attemptsPerRetrier[retrierIndex] < maxAttempts(retriers![retrierIndex]);
      // AWS records MapStateFailed/ParallelStateFailed once, after the last attempt; a retried attempt shows
      // only its start.
      if (thrown instanceof BlockFailed && !retrying) run.record(thrown.eventType);
      if (retrying) {
        const delayMs = retryDelayMs(retriers![retrierIndex], attemptsPerRetrier[retrierIndex], scope.services.random);
        // TestState runs one attempt: it reports the retry instead of waiting for it.
        if (inspector) throw new RetryDue(error, retrierIndex, delayMs);
        attemptsPerRetrier[retrierIndex]++;
        retryCount++;
        const retryAt = scope.deadline(delayMs);
        await sleep(clock, retryAt - clock.now(), scope.signal);
        continue;
      }
      const catcher = findCatcher(catchers, error);
      if (!catcher) throw error;
      try {
        const { output, assign } = await catcherOutput(catcher, error, rawInput, run);
        if (inspector) inspector.caught = { catchIndex: catchers!.indexOf(catcher), error };
        const assigned = assign === undefined ? undefined : scope.variables.assign(assign);
        recordExit(scope, handler, name, output, assigned);
        return { output, next: catcher.Next, end: false };
      } catch (catchFailure) {
        if (scope.signal.aborted) throw scope.signal.reason;
        throw locateError(toStatesError(catchFailure), name, entered.id);
      }
    }
  }
}

interface DataOutcome {
  output: unknown;
  /** The variables to set, when the state (or its matched Choice rule, or its catcher) has an Assign. */
  assign?: Record<string, unknown>;
}

type DataFieldsOf = { Assign?: Record<string, unknown>; Output?: unknown };

/** JSONPath: ResultSelector, then Assign (on the selected result), ResultPath and OutputPath. */
function jsonPathOutput(
  state: State,
  fields: DataFieldsOf,
  handler: StateHandler<State>,
  step: StateStep,
  rawInput: unknown,
  effectiveInput: unknown,
  run: StateRun,
): DataOutcome {
  let output: unknown;
  let assignSource = effectiveInput;
  if (handler.output === "result") {
    const selected =
      "ResultSelector" in state && state.ResultSelector !== undefined
        ? run.resolveTemplate(state.ResultSelector, step.result)
        : step.result;
    assignSource = selected;
    output = applyResultPath("ResultPath" in state ? state.ResultPath : undefined, rawInput, selected);
    run.scope.inspector?.note("afterResultSelector", selected);
    run.scope.inspector?.note("afterResultPath", output);
  } else {
    output = effectiveInput;
  }
  const assign = fields.Assign === undefined ? undefined : (run.resolveTemplate(fields.Assign, assignSource) as Record<string, unknown>);
  if ("OutputPath" in state) output = applyOutputPath(state.OutputPath, output, run.context);
  return { output, assign };
}

/**
 * JSONata: Output (default: the result, or the input), then Assign, with `$states.result` where there is one.
 * Synchronous unless an expression needs jsonata's own evaluation.
 */
function jsonataOutput(
  fields: DataFieldsOf,
  handler: StateHandler<State>,
  step: StateStep,
  rawInput: unknown,
  run: StateRun,
): DataOutcome | Promise<DataOutcome> {
  const hasResult = handler.output === "result";
  const extraStates = hasResult ? { result: step.result } : undefined;
  const output =
    fields.Output !== undefined ? run.evaluate(fields.Output, "Output", undefined, extraStates) : hasResult ? step.result : rawInput;
  const withAssign = (settled: unknown): DataOutcome | Promise<DataOutcome> => {
    if (fields.Assign === undefined) return { output: settled };
    const assign = run.evaluate(fields.Assign, "Assign", undefined, extraStates);
    return assign instanceof Promise
      ? assign.then((value) => ({ output: settled, assign: value as Record<string, unknown> }))
      : { output: settled, assign: assign as Record<string, unknown> };
  };
  return output instanceof Promise ? output.then(withAssign) : withAssign(output);
}

/**
 * A catcher's output: JSONPath places the error output with ResultPath; JSONata evaluates the catcher's
 * Output (default: the error output) with `$states.errorOutput`. Assign sees the error output too.
 */
async function catcherOutput(catcher: Catcher, error: StatesError, rawInput: unknown, run: StateRun): Promise<DataOutcome> {
  const errorValue = errorOutput(error);
  if (run.isJsonata) {
    const extraStates = { errorOutput: errorValue };
    const output = catcher.Output !== undefined ? await run.evaluate(catcher.Output, "Output", undefined, extraStates) : errorValue;
    const assign =
      catcher.Assign === undefined
        ? undefined
        : ((await run.evaluate(catcher.Assign, "Assign", undefined, extraStates)) as Record<string, unknown>);
    return { output, assign };
  }
  const assign = catcher.Assign === undefined ? undefined : (run.resolveTemplate(catcher.Assign, errorValue) as Record<string, unknown>);
  return { output: applyResultPath(catcher.ResultPath, rawInput, errorValue), assign };
}

function recordExit(
  scope: RunScope,
  handler: StateHandler<State>,
  name: string,
  output: unknown,
  assigned: Record<string, string> | undefined,
): void {
  const text = serializePayload(output, `output of the state '${name}'`);
  if (output !== undefined) scope.rememberText(output, text);
  const details: Record<string, unknown> = { name, output: text, outputDetails: { truncated: false } };
  if (assigned) {
    // AWS records each assigned variable's value as JSON text.
    details.assignedVariables = assigned;
    details.assignedVariablesDetails = { truncated: false };
  }
  scope.record(EXITED_EVENT[handler.eventPrefix], name, details);
}

/** Errors in a state's data processing name the state, as AWS's causes do. */
const LOCATED_ERRORS = new Set<string>([
  STATES_ERRORS.Runtime,
  STATES_ERRORS.ResultPathMatchFailure,
  STATES_ERRORS.IntrinsicFailure,
  STATES_ERRORS.ParameterPathFailure,
  STATES_ERRORS.DataLimitExceeded,
  STATES_ERRORS.QueryEvaluationError,
]);
const LOCATION_PREFIX = "An error occurred while executing the state";

function locateError(error: StatesError, stateName: string, enteredEventId: number): StatesError {
  if (!LOCATED_ERRORS.has(error.error) || error.cause.startsWith(LOCATION_PREFIX)) return error;
  return new StatesError(error.error, `${LOCATION_PREFIX} '${stateName}' (entered at the event id #${enteredEventId}). ${error.cause}`);
}
