/**
 * Task `Resource` ARNs the local engine runs: the optimized Lambda integration (request-response and
 * callback), plain function ARNs, and the SQS sendMessage and SNS publish integrations (request-response
 * and callback). Everything else is rejected when the definition is loaded.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html
 */

export type MessagingAction = "sqs:sendMessage" | "sns:publish";

export type TaskResource =
  | { kind: "lambdaInvoke"; resource: "invoke" }
  | { kind: "lambdaInvokeWaitForTaskToken"; resource: "invoke.waitForTaskToken" }
  | { kind: "lambdaFunction"; functionArn: string }
  | { kind: "messaging"; action: MessagingAction; waitForTaskToken: boolean };

const OPTIMIZED_LAMBDA = /^arn:aws(?:-cn|-us-gov)?:states:::lambda:(invoke|invoke\.waitForTaskToken)$/;
const MESSAGING = /^arn:aws(?:-cn|-us-gov)?:states:::(sqs:sendMessage|sns:publish)(\.waitForTaskToken)?$/;
const FUNCTION_ARN = /^arn:aws(?:-cn|-us-gov)?:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$/;

/** Resources come from definitions and are read at every run of their task: each is parsed once. */
const parsedResources = new Map<string, TaskResource | undefined>();
const PARSED_RESOURCE_LIMIT = 5_000;

export function parseTaskResource(arn: string): TaskResource | undefined {
  if (parsedResources.has(arn)) return parsedResources.get(arn);
  const parsed = parseResource(arn);
  if (parsedResources.size >= PARSED_RESOURCE_LIMIT) parsedResources.clear();
  parsedResources.set(arn, parsed);
  return parsed;
}

function parseResource(arn: string): TaskResource | undefined {
  const optimized = OPTIMIZED_LAMBDA.exec(arn);
  if (optimized) {
    return optimized[1] === "invoke"
      ? { kind: "lambdaInvoke", resource: "invoke" }
      : { kind: "lambdaInvokeWaitForTaskToken", resource: "invoke.waitForTaskToken" };
  }
  const messaging = MESSAGING.exec(arn);
  if (messaging) return { kind: "messaging", action: messaging[1] as MessagingAction, waitForTaskToken: messaging[2] !== undefined };
  if (FUNCTION_ARN.test(arn)) return { kind: "lambdaFunction", functionArn: arn };
  return undefined;
}

export function isSupportedResource(arn: string): boolean {
  return parseTaskResource(arn) !== undefined;
}
