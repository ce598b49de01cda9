/**
 * The `approval` channel: a notifier function receives the token and publishes to an SNS topic a message with
 * approve and reject links; an HTTP API serves the links through a function that answers the token.
 * https://aws.amazon.com/blogs/compute/implementing-serverless-manual-approval-steps-in-aws-step-functions-and-amazon-api-gateway/
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { approvalAnswerFactory } from "../../handlers/approval/answer";
import { APPROVAL_PATHS } from "../../handlers/approval/links";
import { APPROVAL_ENVIRONMENT, approvalNotifierFactory } from "../../handlers/approval/notify";
import { FUNCTION_DEFAULTS } from "../functionArgs";
import { publishPolicy } from "../policies";
import type { ResolvedApprovalChannel } from "../resolveSteps";
import type { ChannelContext, ChannelResources } from "./context";
import { declareSubscription, declareTopic } from "./sns";

export function declareApprovalChannel(channel: ResolvedApprovalChannel, context: ChannelContext): ChannelResources {
  const { prefix, parent, tags } = context;
  const opts = { parent };
  const topic = declareTopic(channel.topic, undefined, context);
  if (channel.email !== undefined) declareSubscription(topic.topicArn, { protocol: "email", endpoint: channel.email }, 0, context);

  const answer = context.defineFunction(
    "answer",
    { callbackFactory: approvalAnswerFactory, environment: {}, policyStatements: [], ...FUNCTION_DEFAULTS },
    `Answers ${context.stepName}'s approve and reject links.`,
  );
  const api = new aws.apigatewayv2.Api(
    `${prefix}-approval-api`,
    { protocolType: "HTTP", description: `Approve and reject links of ${context.stepName}.`, tags },
    opts,
  );
  const integration = new aws.apigatewayv2.Integration(
    `${prefix}-approval-integration`,
    { apiId: api.id, integrationType: "AWS_PROXY", integrationUri: answer.function.arn, payloadFormatVersion: "2.0" },
    opts,
  );
  // Under a path of its own: the local runtime serves every API on one origin, where a bare /approve could clash.
  const basePath = `/${prefix}`;
  // The links are public by design: the token each carries is what authorizes it.
  const routes = Object.entries(APPROVAL_PATHS).map(
    ([action, path]) =>
      new aws.apigatewayv2.Route(
        `${prefix}-approval-${action}`,
        {
          apiId: api.id,
          routeKey: `GET ${basePath}${path}`,
          target: pulumi.interpolate`integrations/${integration.id}`,
          authorizationType: "NONE",
        },
        opts,
      ),
  );
  new aws.apigatewayv2.Stage(
    `${prefix}-approval-stage`,
    {
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      // People click links: a few per second is plenty, and it caps what a leaked message can cost.
      defaultRouteSettings: { throttlingBurstLimit: 10, throttlingRateLimit: 5 },
      tags,
    },
    { parent, dependsOn: routes },
  );
  new aws.lambda.Permission(
    `${prefix}-approval-invoke`,
    {
      function: answer.function.name,
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
    },
    opts,
  );

  const notifier = context.defineFunction(
    "notifier",
    {
      callbackFactory: approvalNotifierFactory,
      environment: {
        [APPROVAL_ENVIRONMENT.topicArn]: topic.topicArn,
        [APPROVAL_ENVIRONMENT.apiUrl]: pulumi.interpolate`${api.apiEndpoint}${basePath}`,
        ...(channel.subject !== undefined ? { [APPROVAL_ENVIRONMENT.subject]: channel.subject } : {}),
      },
      policyStatements: publishPolicy(topic.topicArn, topic.kmsKeyArn).Statement,
      ...FUNCTION_DEFAULTS,
    },
    `Sends ${context.stepName}'s approval request with its links.`,
  );
  return {
    target: { functionArn: notifier.function.arn },
    invokedFunctionArns: [notifier.function.arn],
    stateMachinePolicies: {},
    tokenResponders: { answer: answer.role },
    outputs: { topicArn: topic.topicArn, approvalUrl: pulumi.interpolate`${api.apiEndpoint}${basePath}` },
  };
}
