/**
 * What changed between two evaluations of a program, resource by resource (matched by URN, as Pulumi
 * matches them), and how to say it in one log line.
 */
import type { EvaluatedResource } from "./evaluator";

export interface ProgramDiff {
  /** In the new program's declaration order. */
  added: EvaluatedResource[];
  /** In the old program's declaration order. */
  removed: EvaluatedResource[];
  /** Declared in both, differently. */
  changed: Array<{ previous: EvaluatedResource; next: EvaluatedResource }>;
}

export function diffPrograms(previous: readonly EvaluatedResource[], next: readonly EvaluatedResource[]): ProgramDiff {
  const before = new Map(previous.map((resource) => [resource.urn, resource]));
  const after = new Set(next.map((resource) => resource.urn));
  const diff: ProgramDiff = { added: [], removed: previous.filter((resource) => !after.has(resource.urn)), changed: [] };
  for (const resource of next) {
    const old = before.get(resource.urn);
    if (!old) diff.added.push(resource);
    else if (JSON.stringify([old.inputs, old.state]) !== JSON.stringify([resource.inputs, resource.state]))
      diff.changed.push({ previous: old, next: resource });
  }
  return diff;
}

export function isEmpty(diff: ProgramDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length === 0;
}

/** "function X code changed; state machine Y definition changed; route GET /foo added" (components left out). */
export function describeDiff(diff: ProgramDiff): string {
  const parts: string[] = [];
  for (const { previous, next } of diff.changed) {
    if (!next.custom) continue;
    parts.push(`${label(next)} ${changeOf(previous, next)} changed`);
  }
  for (const resource of diff.added) if (resource.custom) parts.push(`${label(resource)} added`);
  for (const resource of diff.removed) if (resource.custom) parts.push(`${label(resource)} removed`);
  return parts.join("; ") || "no resource changed";
}

function label(resource: EvaluatedResource): string {
  const physical = resource.state.name ?? resource.id ?? resource.name;
  switch (resource.type) {
    case "aws:lambda/function:Function":
      return `function ${physical}`;
    case "aws:sfn/stateMachine:StateMachine":
      return `state machine ${physical}`;
    case "aws:apigatewayv2/route:Route":
      return `route ${resource.inputs.routeKey}`;
    case "aws:dynamodb/table:Table":
      return `table ${physical}`;
  }
  if (resource.type.startsWith("aws:s3/bucket")) return `${shortType(resource.type)} ${resource.state.bucket ?? resource.id}`;
  return `${shortType(resource.type)} ${resource.name}`;
}

/** "aws:s3/bucketV2:BucketV2" → "BucketV2". */
function shortType(type: string): string {
  return type.split(":").pop() ?? type;
}

function changeOf(previous: EvaluatedResource, next: EvaluatedResource): string {
  const differs = (key: string) => JSON.stringify(previous.inputs[key]) !== JSON.stringify(next.inputs[key]);
  if (next.type === "aws:lambda/function:Function") return differs("code") ? "code" : "configuration";
  if (next.type === "aws:sfn/stateMachine:StateMachine") return differs("definition") ? "definition" : "configuration";
  return "configuration";
}
