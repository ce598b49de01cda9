/**
 * Waits a number of seconds or until a timestamp. Causes are AWS's words for the same failures.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
 */
import type { WaitState } from "../asl/types";
import { parseTimestamp } from "../asl/choice";
import { jsonataExpressionText } from "../asl/jsonata/evaluate";
import { readRequiredPath } from "../asl/paths";
import { sleep } from "../clock";
import { StatesError, STATES_ERRORS } from "../errors";
import { MAX_EXECUTION_MS } from "../limits";
import type { StateRun } from "../interpreter";
import { integerField, stringField } from "./fieldValues";
import type { StateHandler } from "./handler";

export const waitState: StateHandler<WaitState> = {
  eventPrefix: "Wait",
  output: "input",
  recordsExit: true,
  countsRetries: false,
  async execute(state, input, run) {
    const { clock } = run.services;
    let delayMs: number;
    if (state.Seconds !== undefined) delayMs = (await integerField(run, state.Seconds, "Seconds", 0)) * 1000;
    else if (state.SecondsPath !== undefined) delayMs = secondsAtPath(state.SecondsPath, input, run) * 1000;
    else delayMs = (await waitUntil(state, input, run)) - clock.now();
    // The longest wait that can end: AWS fails one beyond an execution's year at once.
    if (delayMs > MAX_EXECUTION_MS) throw new StatesError(STATES_ERRORS.Runtime, "Wait state delay is too long.");
    // An absolute deadline, kept across restarts: an overdue Wait ends at once.
    const until = run.scope.deadline(delayMs);
    // Overdue after a restart: still through the clock (with a negative delay), which fires overdue timers in deadline order.
    if (delayMs > 0) await sleep(clock, until - clock.now(), run.signal);
    return {};
  },
};

function secondsAtPath(path: string, input: unknown, run: StateRun): number {
  const seconds = readRequiredPath(path, input, run.context);
  if (typeof seconds !== "number" || !Number.isInteger(seconds)) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The SecondsPath parameter does not reference a valid integer: ${path} == ${JSON.stringify(seconds)}`,
    );
  }
  // AWS: "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"
  if (seconds < 0)
    throw new StatesError(STATES_ERRORS.Runtime, `The SecondsPath parameter references a negative value: ${path} == ${seconds}`);
  return seconds;
}

/**
 * The instant to wait for, in epoch milliseconds. AWS accepts only ISO-8601 with `T` and a zone (`Z` or an
 * offset): "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time
 * format string: $.x == 2024-01-01".
 */
async function waitUntil(state: WaitState, input: unknown, run: StateRun): Promise<number> {
  let field: string;
  let reference: string;
  let value: unknown;
  if (state.TimestampPath !== undefined) {
    field = "TimestampPath";
    reference = state.TimestampPath;
    value = readRequiredPath(state.TimestampPath, input, run.context);
  } else {
    field = "Timestamp";
    reference = jsonataExpressionText(state.Timestamp) ?? state.Timestamp!;
    value = await stringField(run, state.Timestamp!, "Timestamp");
  }
  const parsed = typeof value === "string" ? parseTimestamp(value) : null;
  if (!parsed) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The ${field} parameter does not reference a valid ISO-8601 extended offset date-time format string: ${reference} == ${shown}`,
    );
  }
  return parsed.epochSeconds * 1000 + Math.floor(parsed.nanoseconds / 1e6);
}
