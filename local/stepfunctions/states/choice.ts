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
    if (!run.isJsonata) return choose(state, matchingRule(state, input, run.context));
    const rule = matchingCondition(state.Choices, run);
    return rule instanceof Promise ? rule.then((settled) => choose(state, settled)) : choose(state, rule);
  },
};

/** A matched rule's Assign and Output apply; with Default, the state's own. */
function choose(state: ChoiceState, rule: ChoiceRule | undefined): StateStep {
  if (rule) return { next: rule.Next, matchedRule: rule };
  if (state.Default !== undefined) return { next: state.Default };
  throw new StatesError(STATES_ERRORS.NoChoiceMatched, "No Choice rule matched the input, and the Choice state has no Default");
}

/**
 * JSONata rules, in order from `start`: the first whose Condition is true; a Condition that is not a boolean
 * fails the state. Synchronous while the conditions are (a promise from the first that is not on).
 */
function matchingCondition(rules: ChoiceRule[], run: StateRun, start = 0): ChoiceRule | undefined | Promise<ChoiceRule | undefined> {
  for (let index = start; index < rules.length; index++) {
    const rule = rules[index];
    const condition = run.evaluate(rule.Condition, "Condition");
    if (condition instanceof Promise) {
      return condition.then((settled) => (isTrueCondition(rule, settled) ? rule : matchingCondition(rules, run, index + 1)));
    }
    if (isTrueCondition(rule, condition)) return rule;
  }
  return undefined;
}

function isTrueCondition(rule: ChoiceRule, condition: unknown): boolean {
  if (typeof condition !== "boolean") {
    const text = jsonataExpressionText(rule.Condition) ?? JSON.stringify(rule.Condition);
    throw unexpectedResultType(text, "Condition", "boolean", condition);
  }
  return condition;
}
