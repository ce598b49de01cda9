/** https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html */
import type { ChoiceRule, ChoiceState } from "../asl/types";
import { matchingRule } from "../asl/choice";
import { jsonataExpressionText, unexpectedResultType } from "../asl/jsonata/evaluate";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateRun } from "../interpreter";
import type { StateHandler, StateStep } from "./handler";

export const choiceState: StateHandler<ChoiceState> = {
  eventPrefix: "Choice",
  output: "input",
  recordsExit: true,
  countsRetries: false,
  execute(state, input, run) {
    if (run.isJsonata) return matchingCondition(state.Choices, run).then((rule) => choose(state, rule));
    return choose(state, matchingRule(state, input, run.context));
  },
};

/** A matched rule's Assign and Output apply; with Default, the state's own. */
function choose(state: ChoiceState, rule: ChoiceRule | undefined): StateStep {
  if (rule) return { next: rule.Next, matchedRule: rule };
  if (state.Default !== undefined) return { next: state.Default };
  throw new StatesError(STATES_ERRORS.NoChoiceMatched, "No Choice rule matched the input, and the Choice state has no Default");
}

/** JSONata rules: the first whose Condition is true; a Condition that is not a boolean fails the state. */
async function matchingCondition(rules: ChoiceRule[], run: StateRun): Promise<ChoiceRule | undefined> {
  for (const rule of rules) {
    const condition = await run.evaluate(rule.Condition, "Condition");
    if (typeof condition !== "boolean") {
      const text = jsonataExpressionText(rule.Condition) ?? JSON.stringify(rule.Condition);
      throw unexpectedResultType(text, "Condition", "boolean", condition);
    }
    if (condition) return rule;
  }
  return undefined;
}
