/**
 * What a callback channel declares and hands back to the workflow: the target of its task state, the rights the
 * state machine needs to reach it, and the roles that answer its tokens (granted once the state machine exists).
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { StepTarget } from "../definition";
import type { ResolvedFunctionArgs } from "../functionArgs";
import type { LambdaStep } from "../lambdaStep";
import type { ResolvedFunctionRef } from "../resolveSteps";

export interface ChannelContext {
  /** Prefix of every child's name: `<component>-<step-slug>`. */
  prefix: string;
  stepName: string;
  parent: pulumi.Resource;
  tags: Record<string, string>;
  /** Declares a function defined here (log group, role, function) under `${prefix}-${role}`. */
  defineFunction(role: string, fn: ResolvedFunctionArgs, description: string): LambdaStep;
  /** The ARN of a referenced function, defining it when it is defined here; its role when it is. */
  referFunction(role: string, fn: ResolvedFunctionRef, description: string): { arn: pulumi.Input<string>; defined?: LambdaStep };
}

export interface ChannelResources {
  target: StepTarget<pulumi.Input<string>>;
  /** Functions the state machine invokes for this step. */
  invokedFunctionArns: pulumi.Input<string>[];
  /** Further policies of the state machine's role (send to the queue, publish to the topic), by name suffix. */
  stateMachinePolicies: Record<string, aws.iam.PolicyDocument>;
  /** Roles of functions defined here that answer this step's tokens, by name suffix. */
  tokenResponders: Record<string, aws.iam.Role>;
  /** What the workflow exposes of the channel. */
  outputs: ChannelOutputs;
}

export interface ChannelOutputs {
  queueUrl?: pulumi.Output<string>;
  queueArn?: pulumi.Output<string>;
  deadLetterQueueUrl?: pulumi.Output<string>;
  topicArn?: pulumi.Output<string>;
  /** Base URL of the approval links' API. */
  approvalUrl?: pulumi.Output<string>;
}
