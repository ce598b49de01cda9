/**
 * The one small interface every state type implements. The interpreter (../interpreter.ts) does the
 * input/output processing, Retry/Catch and Entered/Exited events around it.
 */
import type { State } from "../asl/types";
import type { StateRun } from "../interpreter";

export interface StateStep {
  /** The state's result, before ResultSelector/ResultPath (states whose `output` is "result"). */
  result?: unknown;
  /** Overrides the state's `Next` (Choice). */
  next?: string;
  /** Ends this (sub) state machine (Succeed). */
  end?: boolean;
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
  /** `input` is the effective input (after InputPath). Throws StatesError to fail the state. */
  execute(state: S, input: unknown, run: StateRun): Promise<StateStep>;
}
