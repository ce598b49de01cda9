/** https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html */
import type { PassState } from "../asl/types";
import type { StateHandler } from "./handler";

export const passState: StateHandler<PassState> = {
  eventPrefix: "Pass",
  output: "result",
  recordsExit: true,
  countsRetries: false,
  execute(state, input, run) {
    if (state.Result !== undefined) return { result: state.Result };
    // A JSONata Pass state shapes its output with Output, which sees its input as the result.
    if (state.Parameters !== undefined && !run.isJsonata) return { result: run.payload(state.Parameters, input, "Parameters") };
    return { result: input };
  },
};
