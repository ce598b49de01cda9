/** https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html */
import type { PassState } from "../asl/types";
import type { StateHandler } from "./handler";

export const passState: StateHandler<PassState> = {
  eventPrefix: "Pass",
  output: "result",
  recordsExit: true,
  async execute(state, input, run) {
    if (state.Result !== undefined) return { result: state.Result };
    if (state.Parameters !== undefined) return { result: run.resolveTemplate(state.Parameters, input) };
    return { result: input };
  },
};
