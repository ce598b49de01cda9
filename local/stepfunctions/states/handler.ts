/**
 * The one small interface every state type implements. The interpreter (../interpreter.ts) does the
 * input/output processing, Retry/Catch and Entered/Exited events around it.
 */
import type { ChoiceRule, State } from "../asl/types";
import type { HistoryEventType } from "../history";
import type { StateRun } from "../interpreter";

export interface StateStep {
  /** The state's result, before ResultSelector/ResultPath (states whose `output` is "result"). */
  result?: unknown;
  /** Overrides the state's `Next` (Choice). */
  next?: string;
  /** Ends this (sub) state machine (Succeed). */
  end?: boolean;
  /** A Choice rule that matched: its Assign and Output replace the state's own. */
  matchedRule?: ChoiceRule;
}

export interface StateHandler<S extends State> {
  /** "Task" → TaskStateEntered / TaskStateExited. */
  readonly eventPrefix: string;
  /**
   * "result": the output is ResultSelector → ResultPath (on the raw input) → OutputPath of `result`;
   * "input": the effective input (after InputPath) → OutputPath.
   */
  readonly output: "result" | "input";
  /** Fail states end the execution without an Exited event. */
  readonly recordsExit: boolean;
  /** Whether its context object carries `State.RetryCount` (the states that can have Retry). */
  readonly countsRetries: boolean;
  /**
   * `input` is the effective input (after InputPath). Throws (or rejects with) StatesError to fail the state.
   * A state with nothing to wait for may answer synchronously: the interpreter then does not await it.
   */
  execute(state: S, input: unknown, run: StateRun): StateStep | Promise<StateStep>;
}

/**
 * A Map or Parallel attempt that failed: the interpreter records `eventType` (MapStateFailed,
 * ParallelStateFailed) only if no retry follows, as AWS does.
 */
export class BlockFailed extends Error {
  constructor(
    readonly eventType: HistoryEventType,
    readonly error: unknown,
  ) {
    super(eventType);
  }
}
