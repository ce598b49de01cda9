/** https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html */
import type { ChoiceState } from "../asl/types";
import { chooseNext } from "../asl/choice";
import type { StateHandler } from "./handler";

export const choiceState: StateHandler<ChoiceState> = {
  eventPrefix: "Choice",
  output: "input",
  recordsExit: true,
  async execute(state, input, run) {
    // Throws States.NoChoiceMatched when no rule matches and there is no Default.
    return { next: chooseNext(state, input, run.context) };
  },
};
