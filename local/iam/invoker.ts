/**
 * Lambda's own check when a service invokes a function on someone's behalf: the caller (a state machine's role
 * session, S3, API Gateway) needs lambda:InvokeFunction on the function, from its role's policies or the function's
 * resource policy. Refused invocations reject with AccessDeniedException carrying Lambda's message.
 */
import { AccessDeniedException, type AccessControl } from "../common/access";
import type { InvokeRequest, InvokeResult, LambdaInvoker } from "../common/invoker";

export function authorizingInvoker(
  invoker: LambdaInvoker,
  access: AccessControl,
  /** The function's ARN (with the qualifier asked for), or undefined when no such function exists (the invoker then answers 404). */
  functionArnOf: (functionName: string) => string | undefined,
): LambdaInvoker {
  return {
    invoke(request: InvokeRequest): Promise<InvokeResult> {
      if (request.caller) {
        const resource = functionArnOf(request.functionName);
        if (resource) {
          const decision = access.authorize({
            principal: request.caller,
            action: "lambda:InvokeFunction",
            resource,
            executionArn: request.executionArn,
          });
          if (!decision.allowed) return Promise.reject(new AccessDeniedException(decision.message));
        }
      }
      return invoker.invoke(request);
    },
  };
}
