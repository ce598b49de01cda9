/** https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html */
import type { FailState } from "../asl/types";
import { PathNotFoundError, isContextPath, readPath } from "../asl/pathReader";
import { evaluateIntrinsic, isIntrinsic } from "../asl/intrinsics";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateRun } from "../interpreter";
import { stringField } from "./fieldValues";
import type { StateHandler } from "./handler";

export const failState: StateHandler<FailState> = {
  eventPrefix: "Fail",
  output: "input",
  recordsExit: false,
  countsRetries: false,
  async execute(state, input, run) {
    const error = await failField(state.Error, state.ErrorPath, "Error", input, run);
    const cause = await failField(state.Cause, state.CausePath, "Cause", input, run);
    throw new StatesError(error ?? "", cause ?? "");
  },
};

async function failField(value: string | undefined, path: string | undefined, field: string, input: unknown, run: StateRun) {
  if (value !== undefined) return run.isJsonata ? stringField(run, value, field) : value;
  if (path === undefined) return undefined;
  return stringAt(path, input, run, `${field}Path`);
}

function stringAt(path: string, input: unknown, run: StateRun, field: string): string {
  let value: unknown;
  try {
    // ErrorPath and CausePath may also be intrinsic functions (`States.Format('{}', $.Error)`), as on AWS.
    value = isIntrinsic(path) ? evaluateIntrinsic(path, input, run.context, { field }) : readPath(path, input, run.context);
  } catch (error) {
    if (!(error instanceof PathNotFoundError)) throw error;
    const source = isContextPath(path) ? run.context : input;
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The JSONPath '${path}' specified for the field '${field}' could not be found in the input '${JSON.stringify(source ?? null)}'`,
    );
  }
  if (typeof value !== "string") {
    throw new StatesError(STATES_ERRORS.Runtime, `The value at ${field} '${path}' must be a string, received ${JSON.stringify(value)}`);
  }
  return value;
}
