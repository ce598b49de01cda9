/**
 * Sends each request on the one local origin to the service that answers it, the way AWS's endpoints are
 * told apart for a client that points every SDK at one URL (AWS_ENDPOINT_URL): by the SigV4 signing name in
 * `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...` (or a presigned
 * URL's `X-Amz-Credential`), then by `X-Amz-Target` or the path shape for unsigned calls
 * (`aws --no-sign-request`); anything else is a request to the program's own API routes.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import type { IncomingMessage } from "node:http";
import type { LocalService } from "../common/service";
import { MalformedCredentialError, signingNameOf } from "../common/sigv4";

/** `X-Amz-Target` prefixes of the JSON-protocol services, by signing name. */
const TARGET_PREFIXES: ReadonlyArray<[prefix: string, signingName: string]> = [
  ["AWSStepFunctions.", "states"],
  ["DynamoDB_20120810.", "dynamodb"],
  ["DynamoDBStreams_20120810.", "dynamodb"],
  ["AmazonSQS.", "sqs"],
];

/** Unsigned local pages of a service (e.g. the SNS email outbox), by path prefix. */
const LOCAL_PAGE_PREFIXES: ReadonlyArray<[prefix: string, signingName: string]> = [["/_local/sns/", "sns"]];

export type Destination =
  | { kind: "service"; service: LocalService; signingName: string }
  /** Signed for a service the runtime does not emulate. */
  | { kind: "unknownService"; signingName: string }
  /** Signed, but the credential cannot be read (400 in the service's protocol). */
  | { kind: "malformedSignature"; signingName?: string; message: string }
  /** Not an AWS API call: the program's API routes. */
  | { kind: "api" };

export class Router {
  private readonly bySigningName = new Map<string, LocalService>();

  constructor(services: readonly LocalService[]) {
    for (const service of services) {
      for (const name of service.signingNames) {
        if (this.bySigningName.has(name)) throw new Error(`Two local services answer signing name "${name}"`);
        this.bySigningName.set(name, service);
      }
    }
  }

  /** Signing names with a service behind them, for messages. */
  get signingNames(): string[] {
    return [...this.bySigningName.keys()].sort();
  }

  route(req: IncomingMessage, url: URL): Destination {
    let signed: string | undefined;
    try {
      signed = signingNameOf(req, url);
    } catch (error) {
      if (!(error instanceof MalformedCredentialError)) throw error;
      return { kind: "malformedSignature", signingName: error.signingName, message: error.message };
    }
    const signingName = signed ?? unsignedServiceOf(req, url);
    if (signingName === undefined) return { kind: "api" };
    const service = this.bySigningName.get(signingName);
    return service ? { kind: "service", service, signingName } : { kind: "unknownService", signingName };
  }
}

function unsignedServiceOf(req: IncomingMessage, url: URL): string | undefined {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") {
    const match = TARGET_PREFIXES.find(([prefix]) => target.startsWith(prefix));
    if (match) return match[1];
  }
  if (/^\/2015-03-31\/functions(\/|$)/.test(url.pathname)) return "lambda";
  const page = LOCAL_PAGE_PREFIXES.find(([prefix]) => url.pathname.startsWith(prefix));
  if (page) return page[1];
  return undefined;
}
