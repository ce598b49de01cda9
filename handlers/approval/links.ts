/**
 * Approval links: `<url>/approve?token=<base64url>` and `<url>/reject?token=<base64url>`. The task token is the
 * only secret a link holds and the only one it needs: a link answers exactly the task whose token it carries,
 * and answering another task would take that task's token, which only its own message holds. base64url keeps
 * the token intact in URLs and email clients (no `+`, `/` or `=` to be re-encoded or read as a space).
 */

export const APPROVAL_ACTIONS = ["approve", "reject"] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/** Route paths of the approval API, one per action. */
export const APPROVAL_PATHS: Record<ApprovalAction, string> = { approve: "/approve", reject: "/reject" };

export const TOKEN_PARAMETER = "token";

export function encodeToken(taskToken: string): string {
  return Buffer.from(taskToken, "utf8").toString("base64url");
}

/** The token a link carries, or undefined when the parameter is not base64url (a mangled or made-up link). */
export function decodeToken(parameter: string | undefined): string | undefined {
  if (typeof parameter !== "string" || !/^[A-Za-z0-9_-]+$/.test(parameter)) return undefined;
  const token = Buffer.from(parameter, "base64url").toString("utf8");
  // Step Functions tokens are 1 to 2048 characters; a round trip that changes the text was not base64url of a token.
  if (token.length === 0 || token.length > 2048 || encodeToken(token) !== parameter) return undefined;
  return token;
}

/** The approve and reject links for one token, under the approval API's base URL. */
export function approvalLinks(baseUrl: string, taskToken: string): Record<ApprovalAction, string> {
  const base = baseUrl.replace(/\/+$/, "");
  const query = `?${TOKEN_PARAMETER}=${encodeToken(taskToken)}`;
  return { approve: `${base}${APPROVAL_PATHS.approve}${query}`, reject: `${base}${APPROVAL_PATHS.reject}${query}` };
}
