/**
 * AWS's policy evaluation logic for one account: an explicit Deny in any applicable policy wins; otherwise an
 * Allow in the identity-based policies or in the resource-based policy (naming this principal) allows; otherwise
 * the request is implicitly denied. Role trust policies are resource policies of the role for sts:AssumeRole.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { conditionsHold, type ConditionContext } from "./conditions";
import { asList, type PrincipalBlock, type SourcedStatement } from "./policy";
import { matchesAction, matchesArn, matchesGlob } from "./wildcards";

/** The caller as the evaluator sees it. */
export interface EvaluatedPrincipal {
  /** The caller's ARN (an assumed-role session's, for a role); undefined for a service or an anonymous caller. */
  arn?: string;
  /** For a role session: the role's ARN (resource policies name roles, not sessions). */
  roleArn?: string;
  /** For a service principal: "s3.amazonaws.com". */
  service?: string;
  anonymous?: boolean;
}

export interface EvaluationInput {
  principal: EvaluatedPrincipal;
  action: string;
  resource: string;
  context: ConditionContext;
  /** The principal's identity-based policies (none for a service or an anonymous caller). */
  identity: readonly SourcedStatement[];
  /** The resource's resource-based policy, if it has one. */
  resourcePolicy: readonly SourcedStatement[];
}

export type Decision =
  | { effect: "Allow"; statement: SourcedStatement }
  | { effect: "ExplicitDeny"; statement: SourcedStatement; policyType: "identity-based" | "resource-based" }
  | { effect: "ImplicitDeny" };

export function evaluate(input: EvaluationInput): Decision {
  const resolve = (value: string) => substituteVariables(value, input.context);
  const applies = (entry: SourcedStatement, inResourcePolicy: boolean, forDeny: boolean): boolean => {
    const { statement } = entry;
    const vars = entry.variables ? resolve : (value: string) => value;
    if (inResourcePolicy && !principalMatches(statement.Principal, statement.NotPrincipal, input.principal, forDeny)) return false;
    if (statement.Action !== undefined && !asList(statement.Action).some((pattern) => matchesAction(pattern, input.action))) return false;
    if (statement.NotAction !== undefined && asList(statement.NotAction).some((pattern) => matchesAction(pattern, input.action)))
      return false;
    // A resource policy may leave Resource out (trust policies do): it then applies to its own resource.
    if (statement.Resource !== undefined && !asList(statement.Resource).some((pattern) => matchesArn(vars(pattern), input.resource)))
      return false;
    if (statement.NotResource !== undefined && asList(statement.NotResource).some((pattern) => matchesArn(vars(pattern), input.resource)))
      return false;
    return conditionsHold(statement.Condition, input.context, vars);
  };

  for (const entry of input.identity)
    if (entry.statement.Effect === "Deny" && applies(entry, false, true))
      return { effect: "ExplicitDeny", statement: entry, policyType: "identity-based" };
  for (const entry of input.resourcePolicy)
    if (entry.statement.Effect === "Deny" && applies(entry, true, true))
      return { effect: "ExplicitDeny", statement: entry, policyType: "resource-based" };
  for (const entry of input.resourcePolicy)
    if (entry.statement.Effect === "Allow" && applies(entry, true, false)) return { effect: "Allow", statement: entry };
  for (const entry of input.identity)
    if (entry.statement.Effect === "Allow" && applies(entry, false, false)) return { effect: "Allow", statement: entry };
  return { effect: "ImplicitDeny" };
}

/**
 * Whether a resource policy's Principal names this caller. An account (`123456789012`, `arn:aws:iam::…:root`)
 * only delegates to the account's own IAM policies: it lets nobody in by itself, but a Deny on it applies to all.
 */
function principalMatches(
  principal: PrincipalBlock | undefined,
  notPrincipal: PrincipalBlock | undefined,
  caller: EvaluatedPrincipal,
  forDeny: boolean,
): boolean {
  if (notPrincipal !== undefined) return !blockNames(notPrincipal, caller, true);
  if (principal === undefined) return false;
  return blockNames(principal, caller, forDeny);
}

function blockNames(block: PrincipalBlock, caller: EvaluatedPrincipal, accountCounts: boolean): boolean {
  if (block === "*") return true;
  for (const [type, values] of Object.entries(block)) {
    for (const value of asList(values)) {
      if (value === "*") return true;
      if (type === "Service" && caller.service !== undefined && value === caller.service) return true;
      if (type !== "AWS" || caller.anonymous || caller.service !== undefined) continue;
      if (value === caller.arn || value === caller.roleArn) return true;
      if (accountCounts && (/^\d{12}$/.test(value) || /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(value))) return true;
    }
  }
  return false;
}

/** `${aws:PrincipalArn}` → its value; `${*}`, `${?}`, `${$}` → the literal character. An unknown key stays as written (it then matches nothing). */
export function substituteVariables(value: string, context: ConditionContext): string {
  if (!value.includes("${")) return value;
  return value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === "*" || name === "?" || name === "$") return name;
    const [key, fallback] = name.split(/\s*,\s*'/);
    const found = context.get(key.trim().toLowerCase());
    if (found && found.length > 0) return found[0];
    return fallback !== undefined ? fallback.replace(/'$/, "") : whole;
  });
}

/** Whether a statement could allow `action` at all (used to name what would have to change). */
export function mentionsAction(entry: SourcedStatement, action: string): boolean {
  const { statement } = entry;
  if (statement.Action !== undefined) return asList(statement.Action).some((pattern) => matchesAction(pattern, action));
  return !asList(statement.NotAction).some((pattern) => matchesGlob(pattern, action, true));
}
