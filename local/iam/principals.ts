/**
 * Credentials the runtime issues, as STS would for a role session: each local function's processes get an access
 * key, a secret and a session token that identify the function's role (session name: the function's name, as
 * Lambda names it). Requests signed with them are verified against the secret, like AWS verifies them.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../common/access";

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

interface Session extends IssuedCredentials {
  principal: Extract<Principal, { kind: "role" }>;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export class CredentialIssuer {
  private readonly sessions = new Map<string, Session>();

  issue(principal: Extract<Principal, { kind: "role" }>): IssuedCredentials {
    // ASIA: the prefix AWS gives temporary (session) access keys.
    const accessKeyId = `ASIA${[...randomBytes(16)].map((byte) => BASE32[byte % 32]).join("")}`;
    const session: Session = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: randomBytes(48).toString("base64"),
      principal,
    };
    this.sessions.set(accessKeyId, session);
    return { accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken };
  }

  session(accessKeyId: string): Session | undefined {
    return this.sessions.get(accessKeyId);
  }

  /** Whether an access key looks like one this runtime issues (a session key it does not know is refused). */
  static looksIssued(accessKeyId: string): boolean {
    return /^ASIA[A-Z2-7]{16}$/.test(accessKeyId);
  }
}

/** The ARN AWS names a caller by in its messages. */
export function principalArn(principal: Principal, accountId: string): string {
  switch (principal.kind) {
    case "role":
      return `arn:aws:sts::${accountId}:assumed-role/${principal.roleArn.split("/").pop()}/${principal.sessionName}`;
    case "service":
      return principal.service;
    case "terminal":
      return `arn:aws:iam::${accountId}:user/terminal`;
    case "anonymous":
      return "anonymous";
  }
}
