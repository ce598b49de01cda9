/** The `lambda` channel: a function receives the token in its event (`lambda:invoke.waitForTaskToken`). */
import type { ResolvedLambdaChannel } from "../resolveSteps";
import type { ChannelContext, ChannelResources } from "./context";

export function declareLambdaChannel(channel: ResolvedLambdaChannel, context: ChannelContext): ChannelResources {
  const receiver = context.referFunction("receiver", channel.tokenReceiver, `Receives the task token of ${context.stepName}.`);
  return {
    target: { functionArn: receiver.arn },
    invokedFunctionArns: [receiver.arn],
    stateMachinePolicies: {},
    tokenResponders: receiver.defined ? { receiver: receiver.defined.role } : {},
    outputs: {},
  };
}
