/**
 * What the local origin reads of a request's AWS Signature Version 4: the signing (service) name that routes it,
 * and whether it is signed at all.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import type { IncomingMessage } from "node:http";

/** A credential scope that cannot be read: the request is answered 400 in its service's protocol. */
export class MalformedCredentialError extends Error {
  constructor(
    /** The service the scope seems to name (read without decoding), to pick the error's protocol. */
    readonly signingName: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The SigV4 credential scope's service name, from the Authorization header or a presigned URL. Throws
 * MalformedCredentialError when the credential is not valid percent-encoding (AWS: a client error, never a 500).
 */
export function signingNameOf(req: IncomingMessage, url: URL): string | undefined {
  const authorization = req.headers.authorization;
  const credential = authorization ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : url.searchParams.get("X-Amz-Credential");
  if (!credential) return undefined;
  // AKID/DATE/REGION/SERVICE/aws4_request; an access key id has no "/", so the service is the 4th part.
  let parts: string[];
  try {
    parts = decodeURIComponent(credential).split("/");
  } catch {
    const guessed = credential.split("/");
    throw new MalformedCredentialError(
      guessed.length === 5 ? guessed[3] : undefined,
      `The authorization header is malformed; the Credential is not valid percent-encoding: "${credential}"; ` +
        `expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    );
  }
  return parts.length === 5 && parts[4] === "aws4_request" ? parts[3] : undefined;
}

/** Whether the request carries any AWS signature (used by routes with `authorizationType: AWS_IAM`). */
export function isSigned(req: IncomingMessage, url: URL): boolean {
  return /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? "") || url.searchParams.has("X-Amz-Signature");
}
