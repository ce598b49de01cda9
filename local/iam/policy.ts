/**
 * IAM policy documents as the program declares them (standard IAM JSON), read into one normalized shape.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */
import type { ResourcePolicyReading } from "../common/access";
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

/** The elements IAM knows; any other name makes the document malformed. */
const DOCUMENT_ELEMENTS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_ELEMENTS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const VERSIONS = new Set(["2012-10-17", "2008-10-17"]);

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
  if (!isObject(document) || !("Statement" in document)) throw new PolicyError(`${source}: a policy document needs a Statement`);
  const unknown = Object.keys(document).find((name) => !DOCUMENT_ELEMENTS.has(name));
  if (unknown) throw new PolicyError(`${source}: unknown policy element ${JSON.stringify(unknown)} (Version, Id, Statement)`);
  const { Statement, Version } = document as unknown as PolicyDocument;
  if (Version !== undefined && !VERSIONS.has(Version as string))
    throw new PolicyError(`${source}: Version ${JSON.stringify(Version)} is not a policy language version (2012-10-17 or 2008-10-17)`);
  const statements = Array.isArray(Statement) ? Statement : [Statement];
  return statements.map((statement: unknown, index) => {
    if (!isObject(statement)) throw new PolicyError(`${source}: statement ${index} is ${JSON.stringify(statement)}, not an object`);
    const name = typeof statement.Sid === "string" ? statement.Sid : index;
    const problem = statementProblem(statement);
    if (problem) throw new PolicyError(`${source}: statement ${name} ${problem}`);
    // IAM refuses these when the policy is put (`pulumi up` would fail), so the local runtime does too.
    const conditionError = statement.Condition === undefined ? undefined : conditionProblem(statement.Condition);
    if (conditionError)
      throw new PolicyError(`${source}: MalformedPolicyDocument: Syntax errors in policy. Statement ${name}: ${conditionError}`);
    return {
      statement: statement as unknown as PolicyStatement,
      source: typeof statement.Sid === "string" ? `${source}, statement "${statement.Sid}"` : `${source}, statement ${index}`,
      variables: Version === "2012-10-17",
    };
  });
}

/** What is wrong with one statement's elements (their presence and JSON shapes), as a phrase; undefined when nothing. */
function statementProblem(statement: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(statement).find((name) => !STATEMENT_ELEMENTS.has(name));
  if (unknown) return `has an unknown element ${JSON.stringify(unknown)}`;
  if (statement.Sid !== undefined && typeof statement.Sid !== "string") return `has Sid ${JSON.stringify(statement.Sid)} (a string)`;
  if (statement.Effect !== "Allow" && statement.Effect !== "Deny") return `has Effect ${JSON.stringify(statement.Effect)} (Allow or Deny)`;
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) return "needs exactly one of Action and NotAction";
  if (statement.Principal !== undefined && statement.NotPrincipal !== undefined) return "has both Principal and NotPrincipal";
  if (statement.Resource !== undefined && statement.NotResource !== undefined) return "has both Resource and NotResource";
  for (const element of ["Action", "NotAction", "Resource", "NotResource"]) {
    const value = statement[element];
    if (value !== undefined && !isStringOrList(value))
      return `has ${element} ${JSON.stringify(value)} (a string or a non-empty list of strings)`;
  }
  for (const element of ["Action", "NotAction"]) {
    // IAM: "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    const unprefixed = asList(statement[element] as string | string[] | undefined).find(
      (action) => action !== "*" && !/^[\w-]+:\S+$/.test(action),
    );
    if (unprefixed !== undefined)
      return `has ${element} ${JSON.stringify(unprefixed)} (an action is "service:Name", e.g. "sqs:SendMessage")`;
  }
  for (const element of ["Principal", "NotPrincipal"]) {
    const value = statement[element];
    if (value !== undefined && !isPrincipalBlock(value))
      return `has ${element} ${JSON.stringify(value)} ("*" or a map such as {"AWS": "<arn>"} or {"Service": "<service>.amazonaws.com"})`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringOrList(value: unknown): boolean {
  return typeof value === "string" || (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string"));
}

/** `"*"`, or a map of principal types (AWS, Service, Federated, CanonicalUser) to a name or a list of names. */
function isPrincipalBlock(value: unknown): boolean {
  if (value === "*") return true;
  if (!isObject(value) || Object.keys(value).length === 0) return false;
  return Object.entries(value).every(
    ([type, names]) => ["AWS", "Service", "Federated", "CanonicalUser"].includes(type) && isStringOrList(names),
  );
}

/**
 * A resource-based policy set through a service's own API (SQS's queue Policy, SNS's topic Policy), read with
 * the one parser above: either why it is no policy, or the counts the services' quotas are about. Unlike an
 * identity policy, every statement must say whom it is for (Principal or NotPrincipal).
 */
export function readResourcePolicy(text: string, source: string): ResourcePolicyReading {
  try {
    const statements = readPolicy(text, source);
    if (statements.length === 0) return { problem: `${source}: the Statement list is empty` };
    const unaddressed = statements.find(({ statement }) => statement.Principal === undefined && statement.NotPrincipal === undefined);
    if (unaddressed) return { problem: `${unaddressed.source} needs a Principal (a resource-based policy names whom it allows or denies)` };
    return { statements: statements.map(({ statement }) => ({ actions: asList(statement.Action ?? statement.NotAction).length })) };
  } catch (error) {
    if (error instanceof PolicyError) return { problem: error.message };
    throw error;
  }
}

export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
