/**
 * How Step Functions calls Lambda and reads its answers: the optimized integration's response object and
 * the error names a function failure becomes.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Lambda.* errors)
 */
import type { Principal } from "../common/access";
import type { InvocationType, InvokeRequest, InvokeResult, LambdaInvoker } from "../common/invoker";
import { StatesError } from "./errors";
import type { TaskCancellation } from "./signals";
import { randomUUID } from "node:crypto";

export interface FunctionCall {
  functionName: string;
  qualifier?: string;
  payload: string;
  invocationType: InvocationType;
  /** The task's cancellation: the invoker gets its signal, the wait ends when it is cancelled. */
  cancellation: TaskCancellation;
  /** The state machine's role session, as which Step Functions invokes. */
  caller?: Principal;
  executionArn?: string;
}

/** A task's Invoke request; its `signal` is the task's, made when the invoker first reads it. */
class TaskInvokeRequest implements InvokeRequest {
  readonly functionName: string;
  readonly payload: string;
  readonly invocationType: InvocationType;
  readonly caller?: Principal;
  readonly executionArn?: string;
  // A private field, not a property: whoever logs or copies the request sees only what an Invoke request holds.
  readonly #cancellation: TaskCancellation;

  constructor(call: FunctionCall) {
    this.functionName = call.qualifier ? `${call.functionName}:${call.qualifier}` : call.functionName;
    this.payload = call.payload;
    this.invocationType = call.invocationType;
    this.caller = call.caller;
    this.executionArn = call.executionArn;
    this.#cancellation = call.cancellation;
  }

  get signal(): AbortSignal {
    return this.#cancellation.signal;
  }
}

/** Invokes and turns every failure into the StatesError AWS reports; resolves only for a successful call. */
export async function callFunction(lambda: LambdaInvoker, call: FunctionCall): Promise<InvokeResult> {
  let result: InvokeResult;
  try {
    const { cancellation } = call;
    // Raced with the cancellation so a stopped or timed-out task ends now even if the invoker is slow to honour it.
    // The signal is made only if the invoker reads it (see TaskCancellation).
    const invocation = lambda.invoke(new TaskInvokeRequest(call));
    result = await cancellation.race(invocation);
  } catch (thrown) {
    if (call.cancellation.aborted) throw call.cancellation.reason;
    const error = thrown as Error;
    if (error?.name === "ResourceNotFoundException" || error?.name === "TooManyRequestsException") {
      throw new StatesError(`Lambda.${error.name}`, error.message);
    }
    // Lambda's 403 reaches the execution as the SDK's generic service exception, with Lambda's answer in the cause.
    if (error?.name === "AccessDeniedException") {
      throw new StatesError(
        "Lambda.AWSLambdaException",
        `${error.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
    }
    throw new StatesError("Lambda.ServiceException", error?.message ?? String(thrown));
  }
  if (result.functionError) throw functionError(result);
  return result;
}

/**
 * A function error is named by the payload's `errorType`; a missing one, or a runtime/sandbox failure
 * (crash, function timeout), is `Lambda.Unknown`.
 */
export function functionError(result: InvokeResult): StatesError {
  let payload: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(result.payload);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) payload = parsed;
  } catch {
    payload = undefined;
  }
  const errorType = typeof payload?.errorType === "string" ? payload.errorType : undefined;
  if (!errorType || /^(Runtime|Sandbox)\./.test(errorType)) {
    return new StatesError(
      "Lambda.Unknown",
      `The cause could not be determined because Lambda did not return an error type. Returned payload: ${result.payload}`,
    );
  }
  return new StatesError(
    errorType,
    JSON.stringify({
      errorMessage: payload!.errorMessage,
      errorType,
      requestId: result.requestId,
      stackTrace: payload!.trace ?? payload!.stackTrace ?? [],
    }),
  );
}

/** The function's response as a JSON value (a non-JSON or empty body stays a string). */
export function parsePayload(payload: string): unknown {
  if (payload === "") return "";
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/** The result of `arn:aws:states:::lambda:invoke`, shaped as AWS returns it (the Invoke API response). */
export function invokeResponse(result: InvokeResult, now: number): Record<string, unknown> {
  const date = new Date(now).toUTCString();
  const contentLength = String(Buffer.byteLength(result.payload));
  return {
    ExecutedVersion: result.executedVersion,
    Payload: parsePayload(result.payload),
    SdkHttpMetadata: {
      AllHttpHeaders: {
        "X-Amz-Executed-Version": [result.executedVersion],
        "x-amzn-Remapped-Content-Length": ["0"],
        Connection: ["keep-alive"],
        "x-amzn-RequestId": [result.requestId],
        "Content-Length": [contentLength],
        Date: [date],
        "Content-Type": ["application/json"],
      },
      HttpHeaders: {
        Connection: "keep-alive",
        "Content-Length": contentLength,
        "Content-Type": "application/json",
        Date: date,
        "X-Amz-Executed-Version": result.executedVersion,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": result.requestId,
      },
      HttpStatusCode: result.statusCode,
    },
    SdkResponseMetadata: { RequestId: result.requestId },
    StatusCode: result.statusCode,
  };
}
