/**
 * Subscription filter policies on message attributes (the default scope): each key must match one of its
 * conditions, which are exact strings or numbers, `{"prefix"}`, `{"exists"}`, `{"anything-but"}` and
 * `{"numeric": [op, value, ...]}`. With `FilterPolicyScope: MessageBody` the same rules apply to the top-level
 * keys of a JSON message body (nested keys are not matched locally).
 * https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html
 */
import type { MessageAttributeValue } from "../common/messaging";

type Condition = string | number | null | Record<string, any>;

/** Whether a message passes a subscription's policy (no policy: every message). */
export function passesFilter(
  policyText: string | undefined,
  scope: string | undefined,
  attributes: Record<string, MessageAttributeValue>,
  message: string,
): boolean {
  if (!policyText) return true;
  const policy = JSON.parse(policyText) as Record<string, Condition[] | Condition>;
  const values: Record<string, unknown> = {};
  if (scope === "MessageBody") {
    try {
      Object.assign(values, JSON.parse(message));
    } catch {
      return false;
    }
  } else {
    for (const [name, attribute] of Object.entries(attributes)) {
      values[name] = attribute.DataType.startsWith("Number") ? Number(attribute.StringValue) : attribute.StringValue;
    }
  }
  return Object.entries(policy).every(([key, conditions]) => {
    const list = Array.isArray(conditions) ? conditions : [conditions];
    const value = values[key];
    const candidates = Array.isArray(value) ? value : [value];
    return list.some((condition) => candidates.some((candidate) => matches(condition, candidate, key in values)));
  });
}

function matches(condition: Condition, value: unknown, present: boolean): boolean {
  if (condition === null || typeof condition !== "object") return present && value === condition;
  if ("exists" in condition) return condition.exists === present;
  if (!present) return false;
  if ("prefix" in condition) return typeof value === "string" && value.startsWith(condition.prefix);
  if ("anything-but" in condition) {
    const excluded = Array.isArray(condition["anything-but"]) ? condition["anything-but"] : [condition["anything-but"]];
    return !excluded.includes(value);
  }
  if ("numeric" in condition && typeof value === "number") {
    const terms: unknown[] = condition.numeric;
    for (let i = 0; i + 1 < terms.length; i += 2) {
      const bound = Number(terms[i + 1]);
      const ok = { "=": value === bound, "<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound }[
        String(terms[i])
      ];
      if (!ok) return false;
    }
    return true;
  }
  return false;
}
