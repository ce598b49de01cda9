/**
 * ProcessAndCheckCompletion: the demo's token receiver (`WaitForCompletion`). It "processes" the work and, by
 * chance, reports completion with SendTaskSuccess (an output for the next state) or SendTaskFailure with error
 * `ProcessingFailed` and a cause naming the chance. The execution input's `outcome` forces one path so every
 * branch of the state machine can be exercised deterministically:
 *
 * - `success` / `failure`: the corresponding signal;
 * - `crash`: the function throws (the task fails with the function's error, caught as `States.TaskFailed`);
 * - `silence`: returns without calling back (the wait ends in `States.Timeout`).
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import { PROCESSING_FAILED_ERROR } from "../workflow/contract";
import { createSignaller, type SignalResult, type TaskSignaller } from "./signal";

export const OUTCOMES = ["success", "failure", "crash", "silence"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Environment variable carrying the stack's `failureRate` config. */
export const FAILURE_RATE_ENV = "FAILURE_RATE";

/** The wait's payload: `{"taskToken.$": "$$.Task.Token", "input.$": "$"}`. */
export interface CallbackEvent {
  taskToken: string;
  input?: { outcome?: unknown; chunks?: unknown; [key: string]: unknown } | null;
}

export interface ProcessDependencies {
  signaller: TaskSignaller;
  /** Probability (0..1) that processing fails when the input forces nothing. */
  failureRate: number;
  /** Uniform [0, 1) draws; injected so tests decide the chance. */
  random: () => number;
}

/** What the handler returns to Lambda (visible in the TaskSubmitted event, not in the task's result). */
export type ProcessResult =
  | { outcome: "success" | "failure"; decidedBy: "input" | "chance"; signal: SignalResult }
  | { outcome: "silence"; decidedBy: "input"; signal: null };

/** The output given to SendTaskSuccess: the next state's input. */
export interface CompletionOutput {
  status: "COMPLETED";
  decidedBy: "input" | "chance";
  /** The draw and the rate when chance decided. */
  chance?: { draw: number; failureRate: number };
  chunkCount: number;
  wordCount: number;
}

export async function processAndCheckCompletion(event: CallbackEvent, deps: ProcessDependencies): Promise<ProcessResult> {
  if (event === null || typeof event !== "object" || typeof event.taskToken !== "string" || event.taskToken.length === 0) {
    throw namedError(
      "MissingTaskToken",
      `event.taskToken must be a non-empty string (the state's Payload must pass "taskToken.$": "$$.Task.Token"); received ${JSON.stringify(event)}`,
    );
  }
  const input = event.input !== null && typeof event.input === "object" ? event.input : {};
  const forced = parseOutcome(input.outcome);
  const work = countWords(input.chunks);

  if (forced === "crash") throw namedError("RequestedCrash", 'The execution input asked this function to crash (outcome: "crash")');
  if (forced === "silence") return { outcome: "silence", decidedBy: "input", signal: null };

  let outcome: "success" | "failure";
  let chance: CompletionOutput["chance"];
  if (forced !== undefined) {
    outcome = forced;
  } else {
    const draw = deps.random();
    chance = { draw, failureRate: deps.failureRate };
    outcome = draw < deps.failureRate ? "failure" : "success";
  }
  const decidedBy = chance ? "chance" : "input";

  if (outcome === "failure") {
    const cause = chance
      ? `Processing failed by chance: draw ${chance.draw.toFixed(4)} < failureRate ${chance.failureRate}`
      : 'Processing failed because the execution input asked for it (outcome: "failure")';
    return { outcome, decidedBy, signal: await deps.signaller.failure(event.taskToken, { error: PROCESSING_FAILED_ERROR, cause }) };
  }
  const output: CompletionOutput = { status: "COMPLETED", decidedBy, ...(chance ? { chance } : {}), ...work };
  return { outcome, decidedBy, signal: await deps.signaller.success(event.taskToken, output) };
}

/** The forced outcome, if any; anything else than the four known values is an error naming them. */
export function parseOutcome(value: unknown): Outcome | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && (OUTCOMES as readonly string[]).includes(value)) return value as Outcome;
  throw namedError(
    "InvalidOutcome",
    `Unknown outcome ${JSON.stringify(value)}: expected one of ${OUTCOMES.map((o) => `"${o}"`).join(", ")}, or none to leave it to chance`,
  );
}

/** `FAILURE_RATE` as a probability; unset means 0.5; anything else than a number in [0, 1] is an error. */
export function parseFailureRate(text: string | undefined): number {
  if (text === undefined || text === "") return 0.5;
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    throw namedError("InvalidFailureRate", `${FAILURE_RATE_ENV} must be a number from 0 to 1; received ${JSON.stringify(text)}`);
  return rate;
}

/** The demo's "processing": counts the words of the chunks SplitDoc produced (none: nothing to count). */
export function countWords(chunks: unknown): { chunkCount: number; wordCount: number } {
  if (!Array.isArray(chunks)) return { chunkCount: 0, wordCount: 0 };
  const wordCount = chunks.reduce(
    (sum: number, chunk) => sum + (typeof chunk === "string" ? chunk.split(/\s+/).filter(Boolean).length : 0),
    0,
  );
  return { chunkCount: chunks.length, wordCount };
}

/** An Error whose name Lambda reports as `errorType` and Step Functions as the task's error name. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The Lambda entry point factory (`callbackFactory`): runs once per container, so the SFN client and its
 * connections are reused across invocations.
 */
export function processAndCheckCompletionFactory(): (event: CallbackEvent) => Promise<ProcessResult> {
  const signaller = createSignaller(new SFNClient({}));
  const failureRate = parseFailureRate(process.env[FAILURE_RATE_ENV]);
  return (event) => processAndCheckCompletion(event, { signaller, failureRate, random: Math.random });
}
