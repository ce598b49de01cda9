/**
 * The context object (`$$`) a state sees while it runs.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
 */
import { VARIABLES } from "./asl/pathReader";

export interface ExecutionContext {
  Id: string;
  Input: unknown;
  Name: string;
  RoleArn: string;
  /** ISO 8601, as AWS shows it. */
  StartTime: string;
  RedriveCount: number;
}

export interface ContextObject {
  [VARIABLES]?: Readonly<Record<string, unknown>>;
  Execution: ExecutionContext;
  /** `RetryCount` only in the states that can retry (Task, Parallel, Map): AWS leaves it out of the others. */
  State: { EnteredTime: string; Name: string; RetryCount?: number };
  StateMachine: { Id: string; Name: string };
  /** Only inside a `.waitForTaskToken` task's Parameters. */
  Task?: { Token: string };
  /** Only inside a Map's ItemSelector. */
  Map?: { Item: { Index: number; Value: unknown } };
}

/** The parts of the context object that stay the same for the whole execution. */
export interface ExecutionContextBase {
  Execution: ExecutionContext;
  StateMachine: { Id: string; Name: string };
}

/** `variables`: what `$name` paths read, as the state was entered (carried under a symbol key, never in `$$`). */
export function stateContext(
  base: ExecutionContextBase,
  stateName: string,
  enteredTime: string,
  retryCount?: number,
  variables?: Readonly<Record<string, unknown>>,
): ContextObject {
  return {
    [VARIABLES]: variables,
    Execution: base.Execution,
    State:
      retryCount === undefined
        ? { EnteredTime: enteredTime, Name: stateName }
        : { EnteredTime: enteredTime, Name: stateName, RetryCount: retryCount },
    StateMachine: base.StateMachine,
  };
}
