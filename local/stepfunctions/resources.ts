/**
 * Task `Resource` ARNs the local engine runs: the optimized Lambda integration (request-response and
 * callback) and plain function ARNs. Everything else is rejected when the definition is loaded.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
 */

export type TaskResource =
  | { kind: "lambdaInvoke"; resource: "invoke" }
  | { kind: "lambdaInvokeWaitForTaskToken"; resource: "invoke.waitForTaskToken" }
  | { kind: "lambdaFunction"; functionArn: string };

const OPTIMIZED_LAMBDA = /^arn:aws(?:-cn|-us-gov)?:states:::lambda:(invoke|invoke\.waitForTaskToken)$/;
const FUNCTION_ARN = /^arn:aws(?:-cn|-us-gov)?:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$/;

export function parseTaskResource(arn: string): TaskResource | undefined {
  const optimized = OPTIMIZED_LAMBDA.exec(arn);
  if (optimized) {
    return optimized[1] === "invoke"
      ? { kind: "lambdaInvoke", resource: "invoke" }
      : { kind: "lambdaInvokeWaitForTaskToken", resource: "invoke.waitForTaskToken" };
  }
  if (FUNCTION_ARN.test(arn)) return { kind: "lambdaFunction", functionArn: arn };
  return undefined;
}

export function isSupportedResource(arn: string): boolean {
  return parseTaskResource(arn) !== undefined;
}
