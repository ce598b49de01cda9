/** https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html */
import type { FailState } from "../asl/types";
import { readPath } from "../asl/pathReader";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateHandler } from "./handler";

export const failState: StateHandler<FailState> = {
  eventPrefix: "Fail",
  output: "input",
  recordsExit: false,
  async execute(state, input, run) {
    const error = state.ErrorPath !== undefined ? stringAt(state.ErrorPath, input, run.context, "ErrorPath") : state.Error;
    const cause = state.CausePath !== undefined ? stringAt(state.CausePath, input, run.context, "CausePath") : state.Cause;
    throw new StatesError(error ?? "", cause ?? "");
  },
};

function stringAt(path: string, input: unknown, context: unknown, field: string): string {
  const value = readPath(path, input, context);
  if (typeof value !== "string") {
    throw new StatesError(STATES_ERRORS.Runtime, `The value at ${field} '${path}' must be a string, received ${JSON.stringify(value)}`);
  }
  return value;
}
