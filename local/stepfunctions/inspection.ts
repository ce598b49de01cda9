/**
 * What TestState watches while the engine runs one state: the data-flow steps it reports at DEBUG, a mocked
 * outcome that replaces the state's own work, and where the run stops instead of retrying. The interpreter
 * calls these hooks when a scope has an inspector; executions never do.
 * https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html
 */
import type { State } from "./asl/types";
import type { StatesError } from "./errors";
import type { StateStep } from "./states/handler";
import type { StateRun } from "./interpreter";

export type InspectionStep = "afterInputPath" | "afterParameters" | "afterArguments" | "result" | "afterResultSelector" | "afterResultPath";

export interface StateInspector {
  note(step: InspectionStep, value: unknown): void;
  /** A mocked outcome for the state's own work, or undefined to run it for real. */
  execute(state: State, input: unknown, run: StateRun): Promise<StateStep | undefined>;
  /** Retries already made before this test (TestState's `stateConfiguration.retrierRetryCount`). */
  readonly retriesMade: number;
  /** Set when a Catcher handled the error: which one, and the error it handled. */
  caught?: { catchIndex: number; error: StatesError };
}

/** Thrown instead of waiting for a retry: TestState answers RETRIABLE. */
export class RetryDue extends Error {
  constructor(
    readonly error: StatesError,
    readonly retryIndex: number,
    readonly delayMs: number,
  ) {
    super(`retry ${retryIndex} due in ${delayMs} ms`);
  }
}
