/**
 * An in-process LambdaInvoker for engine tests: functions are plain async handlers; a thrown error
 * becomes a function error shaped as Lambda reports it (`X-Amz-Function-Error: Unhandled`).
 */
import { randomUUID } from "node:crypto";
import { ResourceNotFoundException, type InvokeRequest, type InvokeResult, type LambdaInvoker } from "../../../../local/common/invoker";

export interface FakeInvocation {
  functionName: string;
  event: unknown;
  invocationType: string;
  signal?: AbortSignal;
}

export type FakeHandler = (event: any, invocation: FakeInvocation) => unknown | Promise<unknown>;

/** Thrown by a handler to simulate a runtime crash (`Runtime.ExitError`) instead of a handled error. */
export class SimulatedCrash extends Error {}

export class FakeLambda implements LambdaInvoker {
  readonly calls: FakeInvocation[] = [];
  private readonly handlers = new Map<string, FakeHandler>();

  on(functionName: string, handler: FakeHandler): this {
    this.handlers.set(functionName, handler);
    return this;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    // "name", "name:qualifier", or "arn:aws:lambda:region:account:function:name[:qualifier]"
    const name = request.functionName.includes(":function:")
      ? request.functionName.split(":function:")[1].split(":")[0]
      : request.functionName.split(":")[0];
    const handler = this.handlers.get(name);
    if (!handler) throw new ResourceNotFoundException(`Function not found: ${request.functionName}`);
    const invocation: FakeInvocation = {
      functionName: name,
      event: JSON.parse(request.payload),
      invocationType: request.invocationType,
      signal: request.signal,
    };
    this.calls.push(invocation);
    const requestId = randomUUID();
    const base = { executedVersion: "$LATEST", requestId };
    if (request.invocationType === "Event") {
      Promise.resolve()
        .then(() => handler(invocation.event, invocation))
        .catch(() => undefined);
      return { ...base, statusCode: 202, payload: "" };
    }
    try {
      const result = await handler(invocation.event, invocation);
      return { ...base, statusCode: 200, payload: result === undefined ? "null" : JSON.stringify(result) };
    } catch (error) {
      const errorType = error instanceof SimulatedCrash ? "Runtime.ExitError" : (error as Error).name;
      return {
        ...base,
        statusCode: 200,
        functionError: "Unhandled",
        payload: JSON.stringify({ errorType, errorMessage: (error as Error).message, trace: ["at handler (index.js:1:1)"] }),
      };
    }
  }
}

export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
