/**
 * The contract between the local Lambda service (local/lambda) and its callers: the Step Functions
 * engine (lambda:invoke tasks), S3 event notifications and the Lambda Invoke API.
 *
 * Results are shaped like the Lambda Invoke API's response, so callers apply AWS's own rules to them:
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */

import type { Principal } from "./access";

export type InvocationType = "RequestResponse" | "Event";

export interface InvokeRequest {
  /** Function name, full ARN, or partial ARN; an optional `:qualifier` suffix is accepted like AWS does. */
  functionName: string;
  /** The event, as JSON text (exactly what the caller sends on the wire). */
  payload: string;
  invocationType: InvocationType;
  /** Aborts the wait for a result (e.g. the calling execution was stopped). */
  signal?: AbortSignal;
  /** Who invokes (a state machine's role, S3, API Gateway), for IAM; absent for calls already authorized. */
  caller?: Principal;
  /** The execution on whose behalf the function is invoked, if any (listed with denied calls). */
  executionArn?: string;
}

export interface InvokeResult {
  /** 200 for RequestResponse, 202 for Event. */
  statusCode: number;
  /**
   * RequestResponse: the function's response as JSON text, or its error object
   * (`{"errorType","errorMessage","trace"}`) when `functionError` is set. Event: empty string.
   */
  payload: string;
  /**
   * "Unhandled" when the function threw, crashed, or timed out (AWS's X-Amz-Function-Error).
   * A function timeout's payload has no `errorType` (AWS: "Task timed out after N seconds"); a crashed
   * runtime's has `errorType: "Runtime.ExitError"`. Step Functions reports both as `Lambda.Unknown`.
   */
  functionError?: "Unhandled";
  executedVersion: string;
  /** The request id the function saw as `context.awsRequestId`. */
  requestId: string;
}

/** Thrown (as `error.name`) when no such function exists; AWS answers 404 ResourceNotFoundException. */
export class ResourceNotFoundException extends Error {
  override readonly name = "ResourceNotFoundException";
}

/** Thrown when the function's concurrency limit is reached and the caller cannot wait (AWS: 429). */
export class TooManyRequestsException extends Error {
  override readonly name = "TooManyRequestsException";
}

export interface LambdaInvoker {
  invoke(request: InvokeRequest): Promise<InvokeResult>;
}

/** Thrown when the payload exceeds AWS's limit (6 MB RequestResponse, 1 MB Event); AWS answers 413. */
export class RequestTooLargeException extends Error {
  override readonly name = "RequestTooLargeException";
}

/** Thrown when the payload is not JSON; AWS answers 400 InvalidRequestContentException. */
export class InvalidRequestContentException extends Error {
  override readonly name = "InvalidRequestContentException";
}
