/** Helpers for specs that read IAM policy documents back from recorded resources. */
import { strict as assert } from "node:assert";
import type { RecordedResource } from "../mocks";

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string>;
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

export function parsePolicy(text: unknown): PolicyDocument {
  assert.equal(typeof text, "string", "a policy must be serialized JSON text");
  const document = JSON.parse(text as string) as PolicyDocument;
  assert.equal(document.Version, "2012-10-17");
  return document;
}

export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every RolePolicy's document, by logical name. */
export function rolePolicies(resources: RecordedResource[]): Map<string, { role: string; document: PolicyDocument }> {
  return new Map(
    resources
      .filter((resource) => resource.type === "aws:iam/rolePolicy:RolePolicy")
      .map((resource) => [resource.name, { role: resource.inputs.role, document: parsePolicy(resource.inputs.policy) }]),
  );
}

/** An IAM ARN pattern (`*` and `?` wildcards, as ArnLike reads them) as a RegExp. */
export function arnPattern(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}
