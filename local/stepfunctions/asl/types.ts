/**
 * TypeScript shapes of an Amazon States Language definition (JSONPath and JSONata query languages), as the
 * local engine reads them after `validateDefinition` has accepted the document. In a JSONata state, a field
 * typed `unknown` or `number | string` may hold `{% expression %}` strings.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html
 *
 * Written here rather than taken from the `asl-types` package: that package also models distributed Map
 * fields the local runtime rejects, and the few types below are all the engine needs.
 */

/** Any JSON value a state can receive or produce. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A payload template (`Parameters`, `ResultSelector`, `ItemSelector`): keys ending in `.$` take a path or
 * an intrinsic function call; every other value is copied as it is.
 */
export type PayloadTemplate = { [key: string]: unknown };

/** https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html */
export type QueryLanguage = "JSONPath" | "JSONata";

/** Fields every state that can set variables or shape its output shares (JSONata: Output; both: Assign). */
interface DataFields {
  /** Workflow variables to set when the state completes. */
  Assign?: Record<string, unknown>;
  /** JSONata states: the state's output (default: the result, or the input for states without one). */
  Output?: unknown;
}

/** https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error */
export interface Retrier {
  ErrorEquals: string[];
  /** @default 1 */
  IntervalSeconds?: number;
  /** @default 3 */
  MaxAttempts?: number;
  /** @default 2.0 */
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  /** @default "NONE" */
  JitterStrategy?: "FULL" | "NONE";
  Comment?: string;
}

/** https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-fallback-states */
export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  /** @default "$" */
  ResultPath?: string | null;
  Comment?: string;
  /** JSONata: the state's output after the error (default: the error output). */
  Output?: unknown;
  Assign?: Record<string, unknown>;
}

interface StateBase extends DataFields {
  Comment?: string;
  /** @default the state machine's QueryLanguage */
  QueryLanguage?: QueryLanguage;
  /** @default "$" ; null hands the state `{}` */
  InputPath?: string | null;
  /** @default "$" ; null makes the state's output `{}` */
  OutputPath?: string | null;
  Next?: string;
  End?: boolean;
}

export interface TaskState extends StateBase {
  Type: "Task";
  Resource: string;
  Parameters?: PayloadTemplate;
  /** JSONata: what the task sends (Parameters' counterpart). */
  Arguments?: unknown;
  ResultSelector?: PayloadTemplate;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
  /** AWS default: 99,999,999 (the ASL spec's 60 does not apply on AWS). */
  TimeoutSeconds?: number | string;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number | string;
  HeartbeatSecondsPath?: string;
}

export interface PassState extends StateBase {
  Type: "Pass";
  Result?: unknown;
  ResultPath?: string | null;
  Parameters?: PayloadTemplate;
}

/** Names of every comparison operator a Choice rule may use. */
export const COMPARISON_OPERATORS = [
  "StringEquals",
  "StringEqualsPath",
  "StringLessThan",
  "StringLessThanPath",
  "StringGreaterThan",
  "StringGreaterThanPath",
  "StringLessThanEquals",
  "StringLessThanEqualsPath",
  "StringGreaterThanEquals",
  "StringGreaterThanEqualsPath",
  "StringMatches",
  "NumericEquals",
  "NumericEqualsPath",
  "NumericLessThan",
  "NumericLessThanPath",
  "NumericGreaterThan",
  "NumericGreaterThanPath",
  "NumericLessThanEquals",
  "NumericLessThanEqualsPath",
  "NumericGreaterThanEquals",
  "NumericGreaterThanEqualsPath",
  "BooleanEquals",
  "BooleanEqualsPath",
  "TimestampEquals",
  "TimestampEqualsPath",
  "TimestampLessThan",
  "TimestampLessThanPath",
  "TimestampGreaterThan",
  "TimestampGreaterThanPath",
  "TimestampLessThanEquals",
  "TimestampLessThanEqualsPath",
  "TimestampGreaterThanEquals",
  "TimestampGreaterThanEqualsPath",
  "IsNull",
  "IsPresent",
  "IsNumeric",
  "IsString",
  "IsBoolean",
  "IsTimestamp",
] as const;

export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

/**
 * One Choice rule: either a comparison (`Variable` plus exactly one operator) or a boolean combination
 * (`And`, `Or`, `Not`). Only top-level rules carry `Next`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
 */
export type ChoiceRule = {
  /** JSONata rules: a boolean or a `{% %}` expression giving one. */
  Condition?: unknown;
  /** Top-level rules: variables to set and (JSONata) the output when this rule matches. */
  Assign?: Record<string, unknown>;
  Output?: unknown;
  Variable?: string;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
  Next?: string;
  Comment?: string;
} & Partial<Record<ComparisonOperator, unknown>>;

export interface ChoiceState extends Omit<StateBase, "Next" | "End"> {
  Type: "Choice";
  Choices: ChoiceRule[];
  Default?: string;
}

export interface WaitState extends StateBase {
  Type: "Wait";
  Seconds?: number | string;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

export interface SucceedState extends Omit<StateBase, "Next" | "End"> {
  Type: "Succeed";
}

export interface FailState {
  Type: "Fail";
  Comment?: string;
  QueryLanguage?: QueryLanguage;
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
}

/** A nested state machine: a Parallel branch or a Map's item processor. */
export interface SubStateMachine {
  StartAt: string;
  States: Record<string, State>;
  Comment?: string;
}

export interface ParallelState extends StateBase {
  Type: "Parallel";
  Branches: SubStateMachine[];
  Parameters?: PayloadTemplate;
  /** JSONata: the input every branch receives. */
  Arguments?: unknown;
  ResultSelector?: PayloadTemplate;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export interface MapState extends StateBase {
  Type: "Map";
  /** Inline mode only: the local runtime rejects `ProcessorConfig.Mode: DISTRIBUTED`. */
  ItemProcessor?: SubStateMachine & { ProcessorConfig?: { Mode?: "INLINE" } };
  /** Deprecated spelling of ItemProcessor, still accepted by AWS. */
  Iterator?: SubStateMachine;
  /** @default "$" */
  ItemsPath?: string;
  /** JSONata: the array to iterate (default: the state input). */
  Items?: unknown;
  ItemSelector?: PayloadTemplate | string;
  /** Deprecated spelling of ItemSelector, still accepted by AWS. */
  Parameters?: PayloadTemplate;
  /** @default 0 (no limit) */
  MaxConcurrency?: number | string;
  MaxConcurrencyPath?: string;
  ResultSelector?: PayloadTemplate;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export type State = TaskState | PassState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState;

export type StateType = State["Type"];

/** https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html */
export interface StateMachineDefinition extends SubStateMachine {
  Version?: string;
  TimeoutSeconds?: number;
  /** @default "JSONPath" */
  QueryLanguage?: QueryLanguage;
}
