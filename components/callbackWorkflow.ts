/**
 * `CallbackWorkflow`: a Step Functions state machine made of steps (Lambda tasks, callback steps that hand a
 * task token out over a channel and wait until someone answers it, pass/succeed/fail), plus the functions,
 * queues, topics and APIs its channels need, least-privilege roles, logs and an HTTP start endpoint.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
import * as aws from "@pulumi/aws";
import type * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { type CallbackWorkflowArgs, type ResolvedArgs, resolveArgs } from "./args";
import { declareApprovalChannel } from "./channels/approval";
import type { ChannelContext, ChannelOutputs, ChannelResources } from "./channels/context";
import { declareLambdaChannel } from "./channels/lambda";
import { declareSnsChannel } from "./channels/sns";
import { declareSqsChannel } from "./channels/sqs";
import { buildDefinition, type StepTarget } from "./definition";
import type { ResolvedFunctionArgs } from "./functionArgs";
import { createLambdaStep, type LambdaStep } from "./lambdaStep";
import { invokePolicy, serviceTrustPolicy, stateMachineLogDeliveryPolicy, taskResponsePolicy, xrayWritePolicy } from "./policies";
import { type ResolvedChannel, type ResolvedFunctionRef, stepSlug } from "./resolveSteps";
import { createStartApi } from "./startApi";

export * from "./args";
export type * from "./steps";
export type { WorkflowFunctionArgs } from "./functionArgs";

export const CALLBACK_WORKFLOW_TYPE = "sfn-callback:index:CallbackWorkflow";

/**
 * CloudWatch Logs' prefix for vended logs: Step Functions writes there without growing the account's log
 * resource policy, which otherwise nears its 5,120-character limit and fails CreateStateMachine.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
 */
export const VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/";

export { stepSlug };

export class CallbackWorkflow extends pulumi.ComponentResource {
  /** Every function the workflow defined, by `<step name>` (lambda steps) or `<step name>.<role>` (receiver, worker, notifier, answer, subscriber-N). */
  public readonly functions: Record<string, LambdaStep>;
  /** Physical names of those functions, with the same keys. */
  public readonly functionNames: pulumi.Output<Record<string, string>>;
  /** What each callback step's channel exposes (queue URL, topic ARN, approval URL), by step name. */
  public readonly channels: Record<string, ChannelOutputs>;
  public readonly stateMachine: aws.sfn.StateMachine;
  public readonly stateMachineRole: aws.iam.Role;
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly stateMachineName: pulumi.Output<string>;
  /** Execution log group, under /aws/vendedlogs/states/ (absent when `logging.level` is `OFF`). */
  public readonly logGroup?: aws.cloudwatch.LogGroup;
  /** Role API Gateway assumes to start executions (absent when `api.type` is `none`). */
  public readonly apiRole?: aws.iam.Role;
  /** The HTTP API (default `api.type`). */
  public readonly httpApi?: aws.apigatewayv2.Api;
  /** The REST API (`api.type: "rest"`). */
  public readonly restApi?: awsx.classic.apigateway.API;
  /** The API key (`api.apiKeyRequired`). */
  public readonly apiKey?: aws.apigateway.ApiKey;
  /** Full URL of the start route (undefined when `api.type` is `none`). */
  public readonly startUrl: pulumi.Output<string | undefined>;
  /** The arguments after defaults. */
  public readonly resolvedArgs: ResolvedArgs;

  private readonly name: string;

  constructor(name: string, args: CallbackWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is declared, the component itself included: bad args leave no trace in the stack.
    const resolved = resolveArgs(args);
    super(CALLBACK_WORKFLOW_TYPE, name, {}, opts);
    this.name = name;
    this.resolvedArgs = resolved;
    const { tags } = resolved;
    const invokeOpts = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, invokeOpts).accountId;
    const region = aws.getRegionOutput({}, invokeOpts).region;
    const partition = aws.getPartitionOutput({}, invokeOpts).partition;

    const functions: Record<string, LambdaStep> = {};
    const defineFunction = (key: string, prefix: string, fn: ResolvedFunctionArgs, description: string): LambdaStep => {
      const step = createLambdaStep(prefix, fn, {
        parent: this,
        runtime: resolved.runtime,
        tracing: resolved.tracing,
        logRetentionInDays: resolved.logging.retentionInDays,
        tags,
        description,
        roleDescription: `Lambda: ${description}`,
      });
      functions[key] = step;
      return step;
    };

    const targets: Record<string, StepTarget<pulumi.Input<string>>> = {};
    const invokedFunctionArns: pulumi.Input<string>[] = [];
    const channelPolicies: Record<string, aws.iam.PolicyDocument> = {};
    const tokenResponders: Record<string, aws.iam.Role> = {};
    const channels: Record<string, ChannelOutputs> = {};
    for (const step of resolved.steps) {
      const prefix = `${name}-${stepSlug(step.name)}`;
      if (step.type === "lambda") {
        const fn = this.referFunction(step.function, (fnArgs) =>
          defineFunction(step.name, prefix, fnArgs, `The ${step.name} step of the ${name} workflow.`),
        );
        targets[step.name] = { functionArn: fn.arn };
        invokedFunctionArns.push(fn.arn);
      } else if (step.type === "callback") {
        const context: ChannelContext = {
          prefix,
          stepName: step.name,
          parent: this,
          tags,
          defineFunction: (role, fn, description) => defineFunction(`${step.name}.${role}`, `${prefix}-${role}`, fn, description),
          referFunction: (role, fn, description) =>
            this.referFunction(fn, (fnArgs) => defineFunction(`${step.name}.${role}`, `${prefix}-${role}`, fnArgs, description)),
        };
        const declared = declareChannel(step.channel, context);
        targets[step.name] = declared.target;
        invokedFunctionArns.push(...declared.invokedFunctionArns);
        for (const [suffix, policy] of Object.entries(declared.stateMachinePolicies))
          channelPolicies[`${stepSlug(step.name)}-${suffix}`] = policy;
        for (const [suffix, role] of Object.entries(declared.tokenResponders)) tokenResponders[`${stepSlug(step.name)}-${suffix}`] = role;
        channels[step.name] = declared.outputs;
      }
    }

    // The trust condition must name the state machine before it exists (its role is an input to it), so it
    // matches the auto-named ARN by its logical-name prefix: `<name>-state-machine-<suffix>`.
    const stateMachineLogicalName = `${name}-state-machine`;
    const stateMachineRole = new aws.iam.Role(
      `${name}-sfn-role`,
      {
        description: `Step Functions: runs the ${name} workflow.`,
        assumeRolePolicy: pulumi.jsonStringify(
          serviceTrustPolicy("states.amazonaws.com", {
            accountId,
            sourceArn: pulumi.interpolate`arn:${partition}:states:${region}:${accountId}:stateMachine:${stateMachineLogicalName}-*`,
          }),
        ),
        tags,
      },
      { parent: this },
    );
    const rolePolicies: pulumi.Resource[] = [];
    if (invokedFunctionArns.length > 0) {
      rolePolicies.push(
        new aws.iam.RolePolicy(
          `${name}-sfn-invoke`,
          { role: stateMachineRole.id, policy: pulumi.jsonStringify(invokePolicy(invokedFunctionArns)) },
          { parent: this },
        ),
      );
    }
    for (const [suffix, policy] of Object.entries(channelPolicies)) {
      rolePolicies.push(
        new aws.iam.RolePolicy(
          `${name}-sfn-${suffix}`,
          { role: stateMachineRole.id, policy: pulumi.jsonStringify(policy) },
          { parent: this },
        ),
      );
    }

    let logGroup: aws.cloudwatch.LogGroup | undefined;
    if (resolved.logging.level !== "OFF") {
      logGroup = new aws.cloudwatch.LogGroup(
        `${name}-sfn-logs`,
        { namePrefix: `${VENDED_LOGS_PREFIX}${name}-`, retentionInDays: resolved.logging.retentionInDays, tags },
        { parent: this },
      );
      rolePolicies.push(
        new aws.iam.RolePolicy(
          `${name}-sfn-log-delivery`,
          { role: stateMachineRole.id, policy: pulumi.jsonStringify(stateMachineLogDeliveryPolicy()) },
          { parent: this },
        ),
      );
    }
    if (resolved.tracing) {
      rolePolicies.push(
        new aws.iam.RolePolicy(
          `${name}-sfn-xray`,
          { role: stateMachineRole.id, policy: pulumi.jsonStringify(xrayWritePolicy()) },
          { parent: this },
        ),
      );
    }

    // Built once every ARN and URL is known: pulumi.output resolves the Outputs nested in the targets.
    const definition = pulumi
      .output({ partition, targets })
      .apply((known) =>
        JSON.stringify(buildDefinition<string>({ steps: resolved.steps, targets: known.targets, partition: known.partition })),
      );
    const stateMachine = new aws.sfn.StateMachine(
      stateMachineLogicalName,
      {
        // Only STANDARD workflows can wait for a task token; EXPRESS rejects .waitForTaskToken at creation.
        type: "STANDARD",
        roleArn: stateMachineRole.arn,
        definition,
        loggingConfiguration: logGroup
          ? {
              level: resolved.logging.level,
              includeExecutionData: resolved.logging.includeExecutionData,
              // Step Functions wants the log group ARN with its `:*` suffix.
              logDestination: pulumi.interpolate`${logGroup.arn}:*`,
            }
          : { level: "OFF" },
        tracingConfiguration: { enabled: resolved.tracing },
        tags,
      },
      // Step Functions checks the role's permissions (e.g. log delivery) when the machine is created.
      { parent: this, dependsOn: rolePolicies },
    );
    this.stateMachineArn = stateMachine.arn;

    // Whoever answers the tokens of a step may answer this machine's tokens only.
    for (const [suffix, role] of Object.entries(tokenResponders)) this.grantTaskResponse(suffix, role, stateMachine.arn);

    const startApi = createStartApi(resolved.api, {
      name,
      parent: this,
      stateMachineArn: stateMachine.arn,
      accountId,
      region,
      partition,
      tags,
      tracing: resolved.tracing,
    });

    this.functions = functions;
    this.functionNames = pulumi
      .all(Object.fromEntries(Object.entries(functions).map(([key, fn]) => [key, fn.function.name])))
      .apply((names) => ({ ...names }));
    this.channels = channels;
    this.stateMachine = stateMachine;
    this.stateMachineRole = stateMachineRole;
    this.stateMachineName = stateMachine.name;
    this.logGroup = logGroup;
    this.apiRole = startApi?.role;
    this.httpApi = startApi?.httpApi;
    this.restApi = startApi?.restApi;
    this.apiKey = startApi?.apiKey;
    this.startUrl = startApi ? startApi.startUrl : pulumi.output(undefined);

    this.registerOutputs({
      stateMachineArn: this.stateMachineArn,
      stateMachineName: this.stateMachineName,
      functionNames: this.functionNames,
      startUrl: this.startUrl,
    });
  }

  /**
   * Lets another role answer this workflow's task tokens (SendTaskSuccess/Failure/Heartbeat on this state machine
   * only), e.g. an existing function given by ARN that receives a token. Returns the created policy.
   */
  grantTaskResponse(
    grantName: string,
    role: aws.iam.Role,
    stateMachineArn: pulumi.Input<string> = this.stateMachineArn,
  ): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${this.name}-${grantName}-task-response`,
      { role: role.id, policy: pulumi.jsonStringify(taskResponsePolicy(stateMachineArn)) },
      { parent: this },
    );
  }

  /** An existing function's ARN, or the function defined here by `define`. */
  private referFunction(
    fn: ResolvedFunctionRef,
    define: (fnArgs: ResolvedFunctionArgs) => LambdaStep,
  ): { arn: pulumi.Input<string>; defined?: LambdaStep } {
    if ("existingArn" in fn) return { arn: fn.existingArn };
    const defined = define(fn.definedHere);
    return { arn: defined.function.arn, defined };
  }
}

function declareChannel(channel: ResolvedChannel, context: ChannelContext): ChannelResources {
  switch (channel.type) {
    case "lambda":
      return declareLambdaChannel(channel, context);
    case "sqs":
      return declareSqsChannel(channel, context);
    case "sns":
      return declareSnsChannel(channel, context);
    case "approval":
      return declareApprovalChannel(channel, context);
  }
}
