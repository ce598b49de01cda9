/**
 * Tags on state machines: TagResource, UntagResource, ListTagsForResource, and `tags` on CreateStateMachine.
 * A resource holds at most 50 tags; keys are 1–128 characters and values 0–256, of Unicode letters, digits,
 * white space and `_ . : / = + - @`.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_TagResource.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_Tag.html
 */
import { StepFunctionsApiError } from "./apiErrors";

export const MAX_TAGS_PER_RESOURCE = 50;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** A tag as the wire carries it. */
export interface WireTag {
  key: string;
  value?: string;
}

/** Checks a `tags` list field and returns it as key → value (a later duplicate key wins, as AWS merges). */
export function parseTags(tags: unknown[], field = "tags"): Map<string, string> {
  const parsed = new Map<string, string>();
  const violations: string[] = [];
  tags.forEach((tag, index) => {
    const where = `'${field}.${index + 1}.member`;
    if (tag === null || typeof tag !== "object" || Array.isArray(tag)) {
      throw new StepFunctionsApiError("SerializationException", `STRUCTURE_VALUE expected for '${field}' member ${index + 1}`);
    }
    const { key, value = "" } = tag as Partial<WireTag>;
    if (typeof key !== "string" || typeof value !== "string") {
      throw new StepFunctionsApiError(
        "SerializationException",
        `STRING_VALUE expected for the key and value of '${field}' member ${index + 1}`,
      );
    }
    if (key.length < 1 || key.length > 128)
      violations.push(`Value '${key}' at ${where}.key' failed to satisfy constraint: Member must have length between 1 and 128`);
    else if (!TAG_TEXT.test(key))
      violations.push(
        `Value '${key}' at ${where}.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ${TAG_TEXT.source}`,
      );
    if (value.length > 256)
      violations.push(
        `Value '${value}' at ${where}.value' failed to satisfy constraint: Member must have length less than or equal to 256`,
      );
    else if (!TAG_TEXT.test(value))
      violations.push(
        `Value '${value}' at ${where}.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ${TAG_TEXT.source}`,
      );
    parsed.set(key, value);
  });
  if (violations.length > 0) {
    const count = violations.length === 1 ? "1 validation error" : `${violations.length} validation errors`;
    throw new StepFunctionsApiError("ValidationException", `${count} detected: ${violations.join("; ")}`);
  }
  return parsed;
}

/** Adds `added` to `tags` in place, refusing a result over the per-resource limit (nothing is changed then). */
export function mergeTags(tags: Map<string, string>, added: Map<string, string>, resourceArn: string): void {
  const keys = new Set([...tags.keys(), ...added.keys()]);
  if (keys.size > MAX_TAGS_PER_RESOURCE) {
    throw new StepFunctionsApiError(
      "TooManyTags",
      `Too many tags: the resource '${resourceArn}' would have ${keys.size} tags; at most ${MAX_TAGS_PER_RESOURCE} are allowed`,
    );
  }
  for (const [key, value] of added) tags.set(key, value);
}

export function tagsToWire(tags: ReadonlyMap<string, string>): WireTag[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}
