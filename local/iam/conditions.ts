/**
 * The Condition element: operators, `...IfExists`, `ForAnyValue:`/`ForAllValues:`, and how absent keys behave.
 * Operators in one block, and keys under one operator, must all hold; the values listed for one key are
 * alternatives. A negated operator holds when the key is absent; a positive one does not (unless IfExists).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
import { matchesArn, matchesGlob } from "./wildcards";

/** A statement's Condition element: operator → condition key → value(s). */
export type ConditionBlock = Record<string, Record<string, unknown>>;

/** Condition keys of one request, lower-cased names → values (a single-valued key has one). */
export type ConditionContext = ReadonlyMap<string, readonly string[]>;

type Compare = (contextValue: string, policyValue: string) => boolean;

const number = (text: string) => (text.trim() === "" ? NaN : Number(text));
/** Dates are ISO 8601 or epoch seconds, in policies and in the context alike. */
const date = (text: string) => (/^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text));
const base64 = (text: string) => Buffer.from(text, "base64").toString("base64");

const POSITIVE: Record<string, Compare> = {
  StringEquals: (value, policy) => value === policy,
  StringEqualsIgnoreCase: (value, policy) => value.toLowerCase() === policy.toLowerCase(),
  StringLike: (value, policy) => matchesGlob(policy, value),
  NumericEquals: (value, policy) => number(value) === number(policy),
  NumericLessThan: (value, policy) => number(value) < number(policy),
  NumericLessThanEquals: (value, policy) => number(value) <= number(policy),
  NumericGreaterThan: (value, policy) => number(value) > number(policy),
  NumericGreaterThanEquals: (value, policy) => number(value) >= number(policy),
  DateEquals: (value, policy) => date(value) === date(policy),
  DateLessThan: (value, policy) => date(value) < date(policy),
  DateLessThanEquals: (value, policy) => date(value) <= date(policy),
  DateGreaterThan: (value, policy) => date(value) > date(policy),
  DateGreaterThanEquals: (value, policy) => date(value) >= date(policy),
  Bool: (value, policy) => value.toLowerCase() === policy.toLowerCase(),
  BinaryEquals: (value, policy) => base64(value) === base64(policy),
  IpAddress: (value, policy) => inCidr(value, policy),
  ArnEquals: (value, policy) => matchesArn(policy, value),
  ArnLike: (value, policy) => matchesArn(policy, value),
};

/** Negated operators: true when no context value matches any policy value. */
const NEGATED: Record<string, string> = {
  StringNotEquals: "StringEquals",
  StringNotEqualsIgnoreCase: "StringEqualsIgnoreCase",
  StringNotLike: "StringLike",
  NumericNotEquals: "NumericEquals",
  DateNotEquals: "DateEquals",
  NotIpAddress: "IpAddress",
  ArnNotEquals: "ArnEquals",
  ArnNotLike: "ArnLike",
};

/** An operator name read apart: its set qualifier, its IfExists suffix, and the comparison it names. */
interface Operator {
  set?: "ForAnyValue" | "ForAllValues";
  ifExists: boolean;
  /** The base operator without qualifier or suffix (`StringNotLike`, `Null`). */
  name: string;
}

function readOperator(operatorName: string): Operator {
  let name = operatorName;
  let set: Operator["set"];
  const qualifier = /^(ForAnyValue|ForAllValues):(.+)$/.exec(name);
  if (qualifier) [set, name] = [qualifier[1] as Operator["set"], qualifier[2]];
  const ifExists = name.endsWith("IfExists");
  if (ifExists) name = name.slice(0, -"IfExists".length);
  return { set, ifExists, name };
}

/** The operator a negated one inverts (`StringNotLike` → `StringLike`); own keys only, so `toString` is no operator. */
const positiveOf = (name: string) => (Object.hasOwn(NEGATED, name) ? NEGATED[name] : name);
const isKnown = (name: string) => name === "Null" || Object.hasOwn(POSITIVE, positiveOf(name));

/**
 * What IAM's grammar refuses in a Condition element (an unknown operator, an operator without its key/value
 * object), or undefined; checked when a policy is read, so evaluation never meets an operator it cannot apply.
 */
export function conditionProblem(block: unknown): string | undefined {
  if (block === null || typeof block !== "object" || Array.isArray(block)) return "the Condition element must be an object";
  for (const [operatorName, keys] of Object.entries(block)) {
    if (!isKnown(readOperator(operatorName).name)) return `unknown condition operator "${operatorName}"`;
    if (keys === null || typeof keys !== "object" || Array.isArray(keys))
      return `condition operator "${operatorName}" needs an object of condition keys and values`;
  }
  return undefined;
}

/** Whether every condition of a statement holds. `resolve` substitutes policy variables in policy values. */
export function conditionsHold(block: ConditionBlock | undefined, context: ConditionContext, resolve: (value: string) => string): boolean {
  if (!block) return true;
  for (const [operatorName, keys] of Object.entries(block)) {
    for (const [key, expected] of Object.entries(keys ?? {})) {
      const policyValues = (Array.isArray(expected) ? expected : [expected]).map((value) => resolve(String(value)));
      if (!operatorHolds(operatorName, context.get(key.toLowerCase()), policyValues)) return false;
    }
  }
  return true;
}

function operatorHolds(operatorName: string, contextValues: readonly string[] | undefined, policyValues: string[]): boolean {
  const { set, ifExists, name } = readOperator(operatorName);
  if (name === "Null") {
    // Null: "true" holds when the key is absent, "false" when it is present.
    const absent = contextValues === undefined || contextValues.length === 0;
    return policyValues.some((value) => (value.toLowerCase() === "true") === absent);
  }
  const positiveName = positiveOf(name);
  // readPolicy refused unknown operators (conditionProblem); a statement built in code names only known ones.
  const compare = POSITIVE[positiveName];
  const negated = positiveName !== name;
  const absent = contextValues === undefined || contextValues.length === 0;

  if (set === "ForAllValues") {
    // Every value in the request must match (an absent key or empty set holds vacuously).
    if (absent) return true;
    return contextValues.every((value) => {
      const matched = policyValues.some((policy) => compare(value, policy));
      return negated ? !matched : matched;
    });
  }
  if (absent) return ifExists || (negated && set === undefined);
  const anyMatch = contextValues.some((value) => policyValues.some((policy) => compare(value, policy)));
  if (set === "ForAnyValue")
    return negated ? contextValues.some((value) => !policyValues.some((policy) => compare(value, policy))) : anyMatch;
  return negated ? !anyMatch : anyMatch;
}

/** IPv4 CIDR (or a single address) membership; IPv6 compares as text (the local origin is 127.0.0.1). */
function inCidr(address: string, cidr: string): boolean {
  const [network, bitsText] = cidr.split("/");
  const toNumber = (ip: string) => {
    const parts = ip.split(".").map(Number);
    return parts.length === 4 && parts.every((part) => part >= 0 && part <= 255)
      ? parts.reduce((sum, part) => sum * 256 + part, 0)
      : undefined;
  };
  const addressNumber = toNumber(address);
  const networkNumber = toNumber(network);
  if (addressNumber === undefined || networkNumber === undefined) return address === network;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const size = 2 ** (32 - bits);
  return Math.floor(addressNumber / size) === Math.floor(networkNumber / size);
}
