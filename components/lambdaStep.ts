/**
 * One Lambda function of a workflow, built the same way wherever the project declares one (the workflow's
 * steps, the pipeline's chunk processor): its own log group with retention, its own role (its logs, its extra
 * statements, X-Ray when traced), and a `CallbackFunction` whose upload is the handler alone.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import packageJson from "../package.json";
import type { ResolvedFunctionArgs } from "./args";
import { lambdaTrustPolicy, statementsPolicy, writeLogsPolicy, xrayWritePolicy } from "./policies";

/**
 * The production dependencies Pulumi would otherwise pack into every code archive. Handlers use only the AWS SDK
 * v3, which the Node.js Lambda runtimes ship; every other dependency is the local runtime's (`npm start`), and
 * `@pulumi/*` packages Pulumi leaves out by itself. So the upload is the handler alone (`__index.js`); the deploy
 * tests check each archive's file list and run the serialized code with nothing else beside it.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
 */
export function packagesLeftOutOfArchives(dependencies: Record<string, string> = packageJson.dependencies): string[] {
  return Object.keys(dependencies)
    .filter((name) => !name.startsWith("@pulumi/"))
    .sort();
}

export interface LambdaStep {
  function: aws.lambda.CallbackFunction<any, any>;
  role: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
}

export interface LambdaStepSettings {
  runtime: string;
  tracing: boolean;
  logRetentionInDays: number;
  tags: Record<string, string>;
  /** Children are parented here. */
  parent: pulumi.Resource;
  /** The function's description when `fn.description` is not set; the role's description. */
  description: string;
  roleDescription: string;
  /** Further policies the role needs before the function first runs (e.g. a task-response grant). */
  grants?: (role: aws.iam.Role) => pulumi.Resource[];
}

/** Declares `${prefix}-logs`, `${prefix}-role`, its policies and the function `${prefix}`. */
export function createLambdaStep(prefix: string, fn: ResolvedFunctionArgs, settings: LambdaStepSettings): LambdaStep {
  const { tags, parent } = settings;
  const opts = { parent };
  const logGroup = new aws.cloudwatch.LogGroup(`${prefix}-logs`, { retentionInDays: settings.logRetentionInDays, tags }, opts);
  const role = new aws.iam.Role(
    `${prefix}-role`,
    { description: settings.roleDescription, assumeRolePolicy: pulumi.jsonStringify(lambdaTrustPolicy()), tags },
    opts,
  );
  const policies: pulumi.Resource[] = [
    new aws.iam.RolePolicy(`${prefix}-logs-policy`, { role: role.id, policy: pulumi.jsonStringify(writeLogsPolicy(logGroup.arn)) }, opts),
  ];
  if (fn.policyStatements.length > 0) {
    policies.push(
      new aws.iam.RolePolicy(
        `${prefix}-extra-policy`,
        { role: role.id, policy: pulumi.jsonStringify(statementsPolicy(fn.policyStatements)) },
        opts,
      ),
    );
  }
  if (settings.tracing) {
    policies.push(new aws.iam.RolePolicy(`${prefix}-xray`, { role: role.id, policy: pulumi.jsonStringify(xrayWritePolicy()) }, opts));
  }
  policies.push(...(settings.grants?.(role) ?? []));
  const func = new aws.lambda.CallbackFunction<any, any>(
    prefix,
    {
      callbackFactory: fn.callbackFactory,
      // Always our own role: without one, CallbackFunction attaches nine broad managed FullAccess policies.
      role,
      runtime: settings.runtime,
      timeout: fn.timeoutSeconds,
      memorySize: fn.memorySize,
      description: fn.description ?? settings.description,
      environment: Object.keys(fn.environment).length > 0 ? { variables: fn.environment } : undefined,
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      tracingConfig: settings.tracing ? { mode: "Active" } : undefined,
      codePathOptions: { extraExcludePackages: packagesLeftOutOfArchives() },
      tags,
    },
    // The role must hold its permissions before the function first runs.
    { parent, dependsOn: policies },
  );
  return { function: func, role, logGroup };
}
