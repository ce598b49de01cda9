/**
 * One execution of a state machine: its status, history and the promise of its end. Stopping, timing out
 * and shutting down all abort the same signal, so every waiting task, token, timer and function call
 * under it is cancelled.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
import type { StateMachineDefinition } from "./asl/types";
import type { Timer } from "./clock";
import type { ExecutionContextBase } from "./context";
import { toStatesError, STATES_ERRORS } from "./errors";
import { History, type HistoryEvent } from "./history";
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
  events: HistoryEvent[];
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
  readonly history: History;
  /** Resolves when the execution has closed (or the runtime shut it down). */
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private timeoutTimer?: Timer;
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
    this.history = new History(() => services.clock.now(), observe && ((event) => observe(arn, machine.arn, event)));
    this.done = new Promise((resolve) => (this.markDone = resolve));
    if (restored) {
      this.history.events.push(...restored.events);
      this.status = restored.status;
      this.stopDate = restored.stopDate;
      this.output = restored.output;
      this.error = restored.error;
      this.cause = restored.cause;
      if (this.status !== "RUNNING") this.markDone();
    }
  }

  /**
   * Records ExecutionStarted and runs in the background. A restored execution runs again from its input
   * against its journal, so it continues where it was (journal.ts).
   */
  start(): void {
    const { definition } = this.machine;
    const input = JSON.parse(this.input);
    const thread = this.history.thread();
    const scope = new RunScope(
      this.services,
      this.arn,
      this.name,
      this.contextBase(input),
      thread,
      this.controller.signal,
      definition.QueryLanguage ?? "JSONPath",
      new VariableScope(),
      this.keeping.journal,
    );
    scope.record("ExecutionStarted", undefined, {
      input: this.input,
      inputDetails: { truncated: false },
      roleArn: this.machine.roleArn,
    });
    // A restored execution's row is already kept as RUNNING.
    if (!this.restored) this.keeping.changed(this);
    if (definition.TimeoutSeconds !== undefined) {
      // From the start date, so the execution's deadline holds across restarts.
      const delayMs = this.startDate + definition.TimeoutSeconds * 1000 - this.services.clock.now();
      this.timeoutTimer = this.services.clock.setTimer(() => this.timeOut(scope), delayMs);
    }
    runStates(definition, input, scope).then(
      (output) => {
        if (this.status !== "RUNNING") return;
        this.output = JSON.stringify(output);
        scope.record("ExecutionSucceeded", undefined, { output: this.output, outputDetails: { truncated: false } });
        this.close("SUCCEEDED");
      },
      (thrown) => {
        if (this.status !== "RUNNING" || this.controller.signal.aborted) return;
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
    this.close("ABORTED");
    this.services.log?.(`${this.name} - ExecutionAborted${describeFailure({ error, cause })}`, "warn");
    this.controller.abort(new ExecutionInterrupted("stopped"));
    return true;
  }

  /** Runtime shutdown: cancels everything without recording an end (the execution never closed). */
  interrupt(): void {
    if (this.status !== "RUNNING") return;
    this.timeoutTimer?.cancel();
    this.controller.abort(new ExecutionInterrupted("shutdown"));
    this.markDone();
  }

  private timeOut(scope: RunScope): void {
    if (this.status !== "RUNNING") return;
    this.error = STATES_ERRORS.Timeout;
    this.cause = `The execution did not finish within TimeoutSeconds (${this.machine.definition.TimeoutSeconds} s)`;
    scope.thread.catchUp();
    scope.record("ExecutionTimedOut", undefined, { error: this.error, cause: this.cause });
    this.close("TIMED_OUT");
    this.controller.abort(new ExecutionInterrupted("timedOut"));
  }

  private close(status: Exclude<ExecutionStatus, "RUNNING">): void {
    this.status = status;
    this.stopDate = this.services.clock.now();
    this.timeoutTimer?.cancel();
    this.keeping.journal.discardReplayData();
    this.services.tokens.forgetExecution(this.arn);
    this.keeping.changed(this);
    this.markDone();
  }

  private contextBase(input: unknown): ExecutionContextBase {
    return {
      Execution: {
        Id: this.arn,
        Input: input,
        Name: this.name,
        RoleArn: this.machine.roleArn,
        StartTime: new Date(this.startDate).toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: this.machine.arn, Name: this.machine.name },
    };
  }
}
