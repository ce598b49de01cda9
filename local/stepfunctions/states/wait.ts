/** https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html */
import type { WaitState } from "../asl/types";
import { readPath } from "../asl/pathReader";
import { sleep } from "../clock";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateHandler } from "./handler";

export const waitState: StateHandler<WaitState> = {
  eventPrefix: "Wait",
  output: "input",
  recordsExit: true,
  async execute(state, input, run) {
    const { clock } = run.services;
    let delayMs: number;
    if (state.Seconds !== undefined) delayMs = state.Seconds * 1000;
    else if (state.SecondsPath !== undefined) {
      const seconds = readPath(state.SecondsPath, input, run.context);
      if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0) {
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `The SecondsPath '${state.SecondsPath}' must select a non-negative integer, received ${JSON.stringify(seconds)}`,
        );
      }
      delayMs = seconds * 1000;
    } else {
      const timestamp = state.Timestamp ?? readPath(state.TimestampPath!, input, run.context);
      const until = typeof timestamp === "string" ? Date.parse(timestamp) : NaN;
      if (Number.isNaN(until)) {
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `The TimestampPath '${state.TimestampPath}' must select an ISO 8601 timestamp, received ${JSON.stringify(timestamp)}`,
        );
      }
      delayMs = until - clock.now();
    }
    // An absolute deadline, kept across restarts: an overdue Wait ends at once.
    const until = run.scope.deadline(delayMs);
    // Overdue after a restart: still through the clock (with a negative delay), which fires overdue timers in deadline order.
    if (delayMs > 0) await sleep(clock, until - clock.now(), run.signal);
    return {};
  },
};
