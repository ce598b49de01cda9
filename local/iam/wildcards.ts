/**
 * IAM's wildcard matching: `*` any run of characters, `?` one character. Actions match case-insensitively;
 * ARNs segment by segment (a wildcard does not span the colons between partition, service, region and account),
 * the resource part as a whole. Hand-written because IAM's rules (segments, case) are not a general glob's.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */

const compiled = new Map<string, RegExp>();

function globRegExp(pattern: string, flags: string): RegExp {
  const key = `${flags}:${pattern}`;
  let regExp = compiled.get(key);
  if (!regExp) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    regExp = new RegExp(`^${source}$`, flags);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, regExp);
  }
  return regExp;
}

/** A plain glob (StringLike): case-sensitive, `*` spans anything. */
export function matchesGlob(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*") && !pattern.includes("?"))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  return globRegExp(pattern, ignoreCase ? "is" : "s").test(value);
}

/** `states:SendTask*` against `states:SendTaskSuccess`: case-insensitive. */
export function matchesAction(pattern: string, action: string): boolean {
  return matchesGlob(pattern, action, true);
}

/** ARN against an ARN pattern (Resource, ArnLike): the first five segments separately, then the resource part. */
export function matchesArn(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  const patternParts = splitArn(pattern);
  const arnParts = splitArn(arn);
  if (!patternParts || !arnParts) return matchesGlob(pattern, arn);
  return patternParts.every((part, index) => matchesGlob(part, arnParts[index]));
}

function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let rest = arn;
  for (let index = 0; index < 5; index++) {
    const at = rest.indexOf(":");
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts[0] === "arn" ? parts : undefined;
}
