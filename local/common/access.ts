/**
 * The contract between the local services and local IAM enforcement (local/iam): who makes a call, what the call
 * asks for, and the answer. A service that acts on someone's behalf (Step Functions invoking a function as its
 * role, S3 notifying a function as s3.amazonaws.com) asks `authorize` before acting; calls that arrive over HTTP
 * are checked by the runtime before the service sees them.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import type { IncomingMessage } from "node:http";

export type Principal =
  /** A session of a role, assumed by an AWS service (`lambda.amazonaws.com`, `states.amazonaws.com`, ...). */
  | { kind: "role"; roleArn: string; sessionName: string; assumedBy: string; sourceArn?: string }
  /** An AWS service principal acting itself (S3 invoking a function under the function's resource policy). */
  | { kind: "service"; service: string; sourceArn?: string; sourceAccount?: string }
  /** The person at the terminal: the AWS CLI or SDK with credentials the runtime did not issue. */
  | { kind: "terminal"; accessKeyId?: string }
  /** No signature at all, when the terminal is not trusted to call unsigned. */
  | { kind: "anonymous" };

export interface AccessRequest {
  principal: Principal;
  /** "service:Action", e.g. "lambda:InvokeFunction" */
  action: string;
  resource: string;
  /** Condition keys of this request (beyond the global ones the evaluator adds), e.g. `{"s3:prefix": ["chunks/"]}`. */
  context?: Record<string, string[]>;
  /** The execution the call belongs to, when known (listed per execution by the console). */
  executionArn?: string;
}

export interface AccessDecision {
  allowed: boolean;
  /** When denied: AWS's message ("User: <arn> is not authorized to perform: <action> on resource: <arn> because ..."). */
  message: string;
}

export interface AccessControl {
  authorize(request: AccessRequest): AccessDecision;
}

/** Thrown by a call that IAM refused (`error.name`), carrying AWS's message. */
export class AccessDeniedException extends Error {
  override readonly name = "AccessDeniedException";
}

/** Reads a request's signature into a principal, or AWS's answer when the signature is not acceptable. */
export type Identification = { principal: Principal } | { failure: { code: string; message: string; statusCode: number } };

export interface Authenticator {
  identify(req: IncomingMessage, url: URL, body: Buffer, signingName: string): Identification;
}

const requestPrincipals = new WeakMap<IncomingMessage, Principal>();

/** The runtime records who signed a request, for services that authorize inside (API Gateway's AWS_IAM routes). */
export function setRequestPrincipal(req: IncomingMessage, principal: Principal): void {
  requestPrincipals.set(req, principal);
}

export function requestPrincipal(req: IncomingMessage): Principal | undefined {
  return requestPrincipals.get(req);
}

/**
 * A resource-based policy as IAM reads it (local/iam, its one policy parser): why it is no valid policy, or the
 * counts the services' own quotas limit (SQS: at most 20 statements of at most 7 actions each).
 */
export type ResourcePolicyReading = { problem: string } | { statements: ReadonlyArray<{ actions: number }> };

/**
 * Reads a policy SQS or SNS is asked to keep (CreateQueue/SetQueueAttributes `Policy`, CreateTopic/SetTopicAttributes
 * `Policy`), so a document AWS would refuse is refused when it is set, not when a request meets it. `source` names it
 * in the reason ("policy of queue jobs").
 */
export type ResourcePolicyReader = (text: string, source: string) => ResourcePolicyReading;
