/**
 * IAM policy documents as the program declares them (standard IAM JSON), read into one normalized shape.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */
import { conditionProblem, type ConditionBlock } from "./conditions";

export type { ConditionBlock } from "./conditions";
export type PrincipalBlock = "*" | Record<string, string | string[]>;

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** One statement and where it came from, for log lines ("role X, policy Y, statement Z"). */
export interface SourcedStatement {
  statement: PolicyStatement;
  /** e.g. `inline policy "callback-handler-task-response-38e31ae" of role callback-handler-role-4c46dd7` */
  source: string;
  /** Policy variables (`${aws:username}`) are substituted only in version 2012-10-17 documents. */
  variables: boolean;
}

export class PolicyError extends Error {
  override name = "PolicyError";
}

/** Parses a policy (JSON text or object); throws PolicyError with the reason AWS's MalformedPolicyDocument would give. */
export function readPolicy(policy: unknown, source: string): SourcedStatement[] {
  let document: unknown = policy;
  if (typeof policy === "string") {
    try {
      document = JSON.parse(policy);
    } catch (error) {
      throw new PolicyError(`${source}: not valid JSON (${(error as Error).message})`);
    }
  }
  if (!document || typeof document !== "object" || !("Statement" in document))
    throw new PolicyError(`${source}: a policy document needs a Statement`);
  const { Statement, Version } = document as PolicyDocument;
  const statements = Array.isArray(Statement) ? Statement : [Statement];
  return statements.map((statement, index) => {
    if (statement?.Effect !== "Allow" && statement?.Effect !== "Deny")
      throw new PolicyError(
        `${source}: statement ${statement?.Sid ?? index} has Effect ${JSON.stringify(statement?.Effect)} (Allow or Deny)`,
      );
    if ((statement.Action === undefined) === (statement.NotAction === undefined))
      throw new PolicyError(`${source}: statement ${statement.Sid ?? index} needs exactly one of Action and NotAction`);
    // IAM refuses these when the policy is put (`pulumi up` would fail), so the local runtime does too.
    const problem = statement.Condition === undefined ? undefined : conditionProblem(statement.Condition);
    if (problem)
      throw new PolicyError(`${source}: MalformedPolicyDocument: Syntax errors in policy. Statement ${statement.Sid ?? index}: ${problem}`);
    return {
      statement,
      source: statement.Sid ? `${source}, statement "${statement.Sid}"` : `${source}, statement ${index}`,
      variables: Version === "2012-10-17",
    };
  });
}

export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
