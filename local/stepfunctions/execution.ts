/**
 * One execution of a state machine: its status, history and the promise of its end. Stopping, timing out
 * and shutting down all abort the same signal, so every waiting task, token, timer and function call
 * under it is cancelled.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
import type { StateMachineDefinition } from "./asl/types";
import { isoTime, type Timer } from "./clock";
import type { ExecutionContextBase } from "./context";
import { toStatesError, STATES_ERRORS } from "./errors";
import { History, type HistoryEvent, type HistoryThread } from "./history";
import { attemptKey, planRedrive } from "./redrive";
import { describeFailure, RunScope, runStates, type EngineServices } from "./interpreter";
import { NO_JOURNAL, type ExecutionJournal } from "./journal";
import { VariableScope } from "./variables";

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** What an execution needs to know about its state machine. */
export interface ExecutionMachine {
  arn: string;
  name: string;
  roleArn: string;
  definition: StateMachineDefinition;
}

/** Where an execution keeps itself: its journal, and a hook called whenever its status changes. */
export interface ExecutionKeeping {
  journal: ExecutionJournal;
  /** Called on start and whenever the execution closes (to write its row). */
  changed(execution: Execution): void;
}

const NOT_KEPT: ExecutionKeeping = { journal: NO_JOURNAL, changed: () => undefined };

/** How an execution read back from the store stood. */
export interface RestoredState {
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount?: number;
  redriveDate?: number;
  /** Its history, read from the store when first needed. */
  events: () => HistoryEvent[];
}

/**
 * A restored execution whose only live step waits on a callback (api.ts decides): it is not replayed at restore,
 * only its deadlines are armed, and it is replayed when something touches it (wake).
 */
export interface Parking {
  /** The task token it waits on (handed out before the stop). */
  token: string;
  /** Absolute times (ms since the epoch) at which the execution must be live to act: its timers. */
  deadlines: number[];
  /** The type of its latest history event (the shutdown listing names it without reading the history). */
  lastEventType: string;
}

/** Why an execution's signal was aborted (never a StatesError: these end the execution without Catch). */
export class ExecutionInterrupted extends Error {
  constructor(readonly kind: "stopped" | "timedOut" | "shutdown") {
    super(`Execution ${kind}`);
  }
}

export class Execution {
  status: ExecutionStatus = "RUNNING";
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** How many times RedriveExecution restarted it. */
  redriveCount = 0;
  redriveDate?: number;
  readonly history: History;
  private closed!: Promise<void>;
  /** Made when the execution first runs: a restored execution that never runs again needs none. */
  private controller?: AbortController;
  private timeoutTimer?: Timer;
  /** Set while the execution is parked (restored, not replayed yet). */
  private parking?: { timers: Timer[]; lastEventType: string; token: string };
  private woken?: Promise<void>;
  private markDone!: () => void;
  /** Read back from the store (its row is kept already). */
  private readonly restored: boolean;

  constructor(
    readonly machine: ExecutionMachine,
    readonly name: string,
    readonly arn: string,
    /** The input as the caller sent it (JSON text). */
    readonly input: string,
    readonly startDate: number,
    /** Orders ListExecutions (newest first) and its paging cursor. */
    readonly sequence: number,
    private readonly services: EngineServices,
    private readonly keeping: ExecutionKeeping = NOT_KEPT,
    restored?: RestoredState,
  ) {
    this.restored = restored !== undefined;
    const observe = services.onHistoryEvent;
    this.history = new History(() => services.clock.now(), observe && ((event) => observe(arn, machine.arn, event)), restored?.events);
    this.closed = new Promise((resolve) => (this.markDone = resolve));
    if (restored) {
      this.redriveCount = restored.redriveCount ?? 0;
      this.redriveDate = restored.redriveDate;
      this.status = restored.status;
      this.stopDate = restored.stopDate;
      this.output = restored.output;
      this.error = restored.error;
      this.cause = restored.cause;
      if (this.status !== "RUNNING") this.markDone();
    }
  }

  /** Resolves when the execution has closed (or the runtime shut it down); a redrive makes a new one. */
  get done(): Promise<void> {
    return this.closed;
  }

  /** True while restored and not replayed yet (see Parking). */
  get parked(): boolean {
    return this.parking !== undefined;
  }

  /** The type of the latest history event ("ExecutionStarted" before the first). */
  get lastEventType(): string {
    if (this.parking && !this.history.loaded) return this.parking.lastEventType;
    return this.history.lastType ?? "ExecutionStarted";
  }

  /** When TimeoutSeconds ends the running attempt (counted from the start, or from the latest redrive). */
  get deadline(): number | undefined {
    const { TimeoutSeconds } = this.machine.definition;
    if (TimeoutSeconds === undefined) return undefined;
    const since = this.redriveCount > 0 ? (this.redriveDate ?? this.startDate) : this.startDate;
    return since + TimeoutSeconds * 1000;
  }

  /** Restores a running execution without replaying it: only its deadlines are armed, each of which wakes it. */
  park(parking: Parking): void {
    const { clock } = this.services;
    const timers = parking.deadlines.map((at) => clock.setTimer(() => void this.wake(), at - clock.now()));
    this.parking = { timers, lastEventType: parking.lastEventType, token: parking.token };
  }

  /**
   * Replays a parked execution from its journal, as a restart replays the others: resolves once it is back at its
   * live edge, so the caller can act on it. That is when the replay has opened its token again, or when the
   * execution has ended: a replayed Wait or retry before the task still sleeps on a timer (due at once), so the
   * replay can take more than one turn of the event loop.
   */
  wake(): Promise<void> {
    if (this.parking) {
      const { timers, token } = this.parking;
      for (const timer of timers) timer.cancel();
      this.parking = undefined;
      // Asked before the replay starts: it may open the token at once.
      const live = this.services.tokens.untilOpened(token);
      this.start();
      this.woken = Promise.race([live, this.closed]);
    }
    return this.woken ?? Promise.resolve();
  }

  /**
   * Records ExecutionStarted (ExecutionRedriven for a redriven one) and runs in the background. A restored
   * execution runs again from its input against its journal, so it continues where it was (journal.ts).
   */
  start(): void {
    if (this.redriveCount > 0) {
      this.runAttempt(this.restored);
      return;
    }
    const input = JSON.parse(this.input);
    const scope = this.attemptScope(this.history.thread(), input);
    scope.record("ExecutionStarted", undefined, {
      input: this.input,
      inputDetails: { truncated: false },
      roleArn: this.machine.roleArn,
    });
    // A restored execution's row is already kept as RUNNING.
    if (!this.restored) this.keeping.changed(this);
    this.run(scope, input);
  }

  /**
   * RedriveExecution: the same execution runs again from the states it left unfinished (redrive.ts). The caller
   * has checked that it may (redriveStatusOf).
   */
  redrive(): void {
    this.redriveCount++;
    this.redriveDate = this.services.clock.now();
    this.status = "RUNNING";
    this.stopDate = this.output = this.error = this.cause = undefined;
    this.controller = undefined;
    this.closed = new Promise((resolve) => (this.markDone = resolve));
    this.runAttempt(false);
  }

  private runAttempt(replaying: boolean): void {
    const plan = planRedrive(this.history.events, this.redriveCount, this.machine.definition);
    // Replayed, the journal gives the recorded ExecutionRedriven back (and with it the thread's place).
    const input = JSON.parse(this.input);
    const scope = this.attemptScope(this.history.thread(replaying ? 0 : this.history.events.length), input, attemptKey(this.redriveCount));
    scope.redrive = plan;
    scope.record("ExecutionRedriven", undefined, { redriveCount: this.redriveCount });
    if (!replaying) this.keeping.changed(this);
    this.run(scope, input);
  }

  /** `input`: the execution's input, parsed (`$$.Execution.Input` and the first state's input share it: never mutated). */
  private attemptScope(thread: HistoryThread, input: unknown, key?: string): RunScope {
    const { definition } = this.machine;
    return new RunScope(
      this.services,
      this.arn,
      this.name,
      this.contextBase(input),
      thread,
      (this.controller ??= new AbortController()).signal,
      definition.QueryLanguage ?? "JSONPath",
      new VariableScope(),
      this.keeping.journal,
      key,
    );
  }

  /** Runs the attempt's states to the execution's end; TimeoutSeconds counts from the start or the redrive (`deadline`). */
  private run(scope: RunScope, input: unknown): void {
    const { definition } = this.machine;
    const deadline = this.deadline;
    // From a kept date, so the execution's deadline holds across restarts.
    if (deadline !== undefined)
      this.timeoutTimer = this.services.clock.setTimer(() => this.timeOut(scope), deadline - this.services.clock.now());
    // An attempt ended by StopExecution may settle after a redrive started the next one: it must not end that one.
    const current = () => this.status === "RUNNING" && !scope.signal.aborted;
    runStates(definition, input, scope).then(
      (output) => {
        if (!current()) return;
        this.output = scope.jsonText(output);
        scope.record("ExecutionSucceeded", undefined, { output: this.output, outputDetails: { truncated: false } });
        this.close("SUCCEEDED");
      },
      (thrown) => {
        if (!current()) return;
        const error = toStatesError(thrown);
        this.error = error.error || undefined;
        this.cause = error.cause || undefined;
        scope.record("ExecutionFailed", undefined, { error: this.error, cause: this.cause });
        this.close("FAILED");
      },
    );
  }

  /** StopExecution: records ExecutionAborted and cancels everything still running. False if already closed. */
  stop(error?: string, cause?: string): boolean {
    if (this.status !== "RUNNING") return false;
    this.error = error;
    this.cause = cause;
    const aborted = this.history.append("ExecutionAborted", this.history.events.length, { error, cause });
    this.keeping.journal.saveEvent("stop", 0, aborted);
    const controller = this.controller;
    this.close("ABORTED");
    this.services.log?.(`${this.name} - ExecutionAborted${describeFailure({ error, cause })}`, "warn");
    controller?.abort(new ExecutionInterrupted("stopped"));
    return true;
  }

  /** Runtime shutdown: cancels everything without recording an end (the execution never closed). */
  interrupt(): void {
    if (this.status !== "RUNNING") return;
    this.timeoutTimer?.cancel();
    for (const timer of this.parking?.timers ?? []) timer.cancel();
    this.controller?.abort(new ExecutionInterrupted("shutdown"));
    this.markDone();
  }

  private timeOut(scope: RunScope): void {
    if (this.status !== "RUNNING") return;
    this.error = STATES_ERRORS.Timeout;
    this.cause = `The execution did not finish within TimeoutSeconds (${this.machine.definition.TimeoutSeconds} s)`;
    scope.thread.catchUp();
    scope.record("ExecutionTimedOut", undefined, { error: this.error, cause: this.cause });
    const controller = this.controller;
    this.close("TIMED_OUT");
    controller?.abort(new ExecutionInterrupted("timedOut"));
  }

  private close(status: Exclude<ExecutionStatus, "RUNNING">): void {
    this.status = status;
    this.stopDate = this.services.clock.now();
    this.timeoutTimer?.cancel();
    this.keeping.journal.discardReplayData();
    this.services.tokens.forgetExecution(this.arn);
    this.keeping.changed(this);
    this.markDone();
    // A closed execution is kept for as long as the runtime runs: it lets go of what its run held (the signal's
    // listeners reach every scope of the run). A redrive makes new ones.
    this.controller = undefined;
    this.timeoutTimer = undefined;
  }

  private contextBase(input: unknown): ExecutionContextBase {
    return {
      Execution: {
        Id: this.arn,
        Input: input,
        Name: this.name,
        RoleArn: this.machine.roleArn,
        StartTime: isoTime(this.startDate),
        RedriveCount: this.redriveCount,
      },
      StateMachine: { Id: this.machine.arn, Name: this.machine.name },
    };
  }
}
