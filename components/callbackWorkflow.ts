/**
 * `CallbackWorkflow`: a Step Functions state machine that hands a task token to a Lambda function and waits
 * (`lambda:invoke.waitForTaskToken`) until someone answers with SendTaskSuccess/SendTaskFailure, plus its
 * functions, least-privilege roles, logs and an HTTP start endpoint.
 *
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
 */
import * as aws from "@pulumi/aws";
import type * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { type CallbackWorkflowArgs, type ResolvedArgs, type ResolvedFunctionArgs, resolveArgs } from "./args";
import { buildDefinition } from "./definition";
import { invokePolicy, serviceTrustPolicy, stateMachineLogDeliveryPolicy, taskResponsePolicy, xrayWritePolicy } from "./policies";
import { createLambdaStep, type LambdaStep } from "./lambdaStep";
import { createStartApi } from "./startApi";

export * from "./args";
export { buildDefinition, STATE_NAMES, PROCESSING_FAILED_ERROR, DEFAULT_WAIT_PAYLOAD } from "./definition";

export const CALLBACK_WORKFLOW_TYPE = "sfn-callback:index:CallbackWorkflow";

/** The three steps a workflow may run as Lambda functions. */
export type WorkflowStep = "split" | "handler" | "continue";

export type WorkflowFunction = LambdaStep;

export class CallbackWorkflow extends pulumi.ComponentResource {
  /** The function that receives the task token (`WaitForCompletion`). */
  public readonly handlerFunction: aws.lambda.CallbackFunction<any, any>;
  public readonly handlerRole: aws.iam.Role;
  /** The step before the wait (`SplitDoc`), when `split` was given. */
  public readonly splitFunction?: aws.lambda.CallbackFunction<any, any>;
  public readonly splitRole?: aws.iam.Role;
  /** The step after a successful callback (`ContinueProcess`), when `continueWith` was given. */
  public readonly continueFunction?: aws.lambda.CallbackFunction<any, any>;
  public readonly continueRole?: aws.iam.Role;
  /** Physical names of the functions, keyed by step (`split`, `handler`, `continue`). */
  public readonly functionNames: pulumi.Output<Record<string, string>>;
  public readonly stateMachine: aws.sfn.StateMachine;
  public readonly stateMachineRole: aws.iam.Role;
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly stateMachineName: pulumi.Output<string>;
  /** Execution log group (absent when `logging.level` is `OFF`). */
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
    super(CALLBACK_WORKFLOW_TYPE, name, {}, opts);
    this.name = name;
    const resolved = (this.resolvedArgs = resolveArgs(args));
    const { tags } = resolved;
    const invokeOpts = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, invokeOpts).accountId;
    const region = aws.getRegionOutput({}, invokeOpts).region;
    const partition = aws.getPartitionOutput({}, invokeOpts).partition;

    const split = resolved.split && this.createFunction("split", resolved.split, resolved);
    const handler = this.createFunction("handler", resolved.handler, resolved);
    const continueWith = resolved.continueWith && this.createFunction("continue", resolved.continueWith, resolved);
    const functions = [split, handler, continueWith].filter((fn): fn is WorkflowFunction => fn !== undefined);

    // The trust condition must name the state machine before it exists (its role is an input to it), so it
    // matches the auto-named ARN by its logical-name prefix: `<name>-state-machine-<suffix>`.
    const stateMachineLogicalName = `${name}-state-machine`;
    const stateMachineRole = new aws.iam.Role(
      `${name}-sfn-role`,
      {
        description: `Step Functions: runs the ${name} callback workflow.`,
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
    const rolePolicies: pulumi.Resource[] = [
      new aws.iam.RolePolicy(
        `${name}-sfn-invoke`,
        { role: stateMachineRole.id, policy: pulumi.jsonStringify(invokePolicy(functions.map((fn) => fn.function.arn))) },
        { parent: this },
      ),
    ];

    let logGroup: aws.cloudwatch.LogGroup | undefined;
    if (resolved.logging.level !== "OFF") {
      logGroup = new aws.cloudwatch.LogGroup(
        `${name}-sfn-logs`,
        { retentionInDays: resolved.logging.retentionInDays, tags },
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

    const definition = buildDefinition<pulumi.Output<string>>({
      splitFunctionArn: split?.function.arn,
      handlerFunctionArn: handler.function.arn,
      continueFunctionArn: continueWith?.function.arn,
      timeoutSeconds: resolved.timeoutSeconds,
      heartbeatSeconds: resolved.heartbeatSeconds,
      waitPayload: resolved.waitPayload,
    });
    const stateMachine = new aws.sfn.StateMachine(
      stateMachineLogicalName,
      {
        // Only STANDARD workflows can wait for a task token; EXPRESS rejects .waitForTaskToken at creation.
        type: "STANDARD",
        roleArn: stateMachineRole.arn,
        definition: pulumi.jsonStringify(definition),
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

    // The token receiver answers the machine's tokens: SendTask* scoped to this state machine only.
    new aws.iam.RolePolicy(
      `${name}-handler-task-response`,
      { role: handler.role.id, policy: pulumi.jsonStringify(taskResponsePolicy(stateMachine.arn)) },
      { parent: this },
    );

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

    this.handlerFunction = handler.function;
    this.handlerRole = handler.role;
    this.splitFunction = split?.function;
    this.splitRole = split?.role;
    this.continueFunction = continueWith?.function;
    this.continueRole = continueWith?.role;
    this.functionNames = pulumi
      .all({ split: split?.function.name, handler: handler.function.name, continue: continueWith?.function.name })
      .apply((names) => Object.fromEntries(Object.entries(names).filter((entry): entry is [string, string] => entry[1] !== undefined)));
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
   * only), e.g. a function that finishes the work later. Returns the created policy.
   */
  grantTaskResponse(grantName: string, role: aws.iam.Role): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${this.name}-${grantName}-task-response`,
      { role: role.id, policy: pulumi.jsonStringify(taskResponsePolicy(this.stateMachineArn)) },
      { parent: this },
    );
  }

  /** One Lambda step: its own log group (with retention), its own role (logs, extras, X-Ray), and the function. */
  private createFunction(step: WorkflowStep, fn: ResolvedFunctionArgs, resolved: ResolvedArgs): WorkflowFunction {
    return createLambdaStep(`${this.name}-${step}`, fn, {
      parent: this,
      runtime: resolved.runtime,
      tracing: resolved.tracing,
      logRetentionInDays: resolved.logging.retentionInDays,
      tags: resolved.tags,
      description: `The ${step} step of the ${this.name} callback workflow.`,
      roleDescription: `Lambda: the ${step} step of ${this.name}.`,
    });
  }
}
