/**
 * What the local origin reads of a request's AWS Signature Version 4: the signing (service) name that routes it,
 * and whether it is signed at all.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import type { IncomingMessage } from "node:http";

/** The SigV4 credential scope's service name, from the Authorization header or a presigned URL. */
export function signingNameOf(req: IncomingMessage, url: URL): string | undefined {
  const authorization = req.headers.authorization;
  const credential = authorization ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : url.searchParams.get("X-Amz-Credential");
  if (!credential) return undefined;
  // AKID/DATE/REGION/SERVICE/aws4_request; an access key id has no "/", so the service is the 4th part.
  const parts = decodeURIComponent(credential).split("/");
  return parts.length === 5 && parts[4] === "aws4_request" ? parts[3] : undefined;
}

/** Whether the request carries any AWS signature (used by routes with `authorizationType: AWS_IAM`). */
export function isSigned(req: IncomingMessage, url: URL): boolean {
  return /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? "") || url.searchParams.has("X-Amz-Signature");
}
