/** https://docs.aws.amazon.com/step-functions/latest/dg/state-succeed.html */
import type { SucceedState } from "../asl/types";
import type { StateHandler } from "./handler";

export const succeedState: StateHandler<SucceedState> = {
  eventPrefix: "Succeed",
  output: "input",
  recordsExit: true,
  countsRetries: false,
  execute() {
    return { end: true };
  },
};
