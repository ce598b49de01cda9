/**
 * One Lambda function of a workflow, built the same way wherever the project declares one (the workflow's
 * steps, the pipeline's chunk processor): its own log group with retention, its own role (its logs, its extra
 * statements, X-Ray when traced), and a function whose upload is the serialized handler (a magic function).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import packageJson from "../package.json";
import type { ResolvedFunctionArgs } from "./functionArgs";
import { lambdaTrustPolicy, statementsPolicy, writeLogsPolicy, xrayWritePolicy } from "./policies";

/**
 * The `@aws-sdk/*` packages among the given dependencies. The Node.js Lambda runtimes ship AWS SDK v3, so they
 * are left out of every code archive: the upload is the handler alone.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
 */
export function awsSdkPackages(dependencies: Record<string, string> = packageJson.dependencies): string[] {
  return Object.keys(dependencies)
    .filter((name) => name.startsWith("@aws-sdk/"))
    .sort();
}

/**
 * Pulumi's closure serializer names a captured package module by its file (`@aws-sdk/client-sfn/dist-cjs/index.js`)
 * when the package has no `exports` map, as the SDK in this repository. A Lambda runtime whose SDK declares an
 * `exports` map refuses such a deep path (ERR_PACKAGE_PATH_NOT_EXPORTED), so a require of a package's main file
 * is rewritten to the package root. Only `require("<package>/<its main file>")` is touched.
 */
export function requirePackageRoots(code: string, mainFiles: Record<string, string> = sdkMainFiles()): string {
  return code.replace(/require\("((?:@[a-z0-9._-]+\/)?[a-z0-9._-]+)\/([^"]+)"\)/g, (call, packageName: string, file: string) =>
    mainFiles[packageName] !== undefined && mainFiles[packageName] === file ? `require("${packageName}")` : call,
  );
}

/** The main file of each `@aws-sdk/*` dependency, as its package.json declares it (`dist-cjs/index.js`). */
function sdkMainFiles(): Record<string, string> {
  return Object.fromEntries(
    awsSdkPackages().map((name) => {
      const manifest = require(`${name}/package.json`) as { main?: string };
      return [name, (manifest.main ?? "index.js").replace(/^\.\//, "")];
    }),
  );
}

export interface LambdaStep {
  function: aws.lambda.Function;
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
  // An Output list is never empty here: the component builds it around a statement of its own.
  if (!Array.isArray(fn.policyStatements) || fn.policyStatements.length > 0) {
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
  // What aws.lambda.CallbackFunction does (serialize the factory as `__index.js`), with the package-root rewrite
  // above. The upload is that file alone: handlers need only the runtime's AWS SDK, and package.json's dependencies
  // are the local runtime's (SQLite, dynalite, ...), which CallbackFunction would otherwise upload with every function.
  const code = pulumi
    .output(
      pulumi.runtime.serializeFunction(fn.callbackFactory, {
        serialize: () => true,
        exportName: "handler",
        isFactoryFunction: true,
        allowSecrets: true,
      }),
    )
    .apply(
      (serialized) => new pulumi.asset.AssetArchive({ "__index.js": new pulumi.asset.StringAsset(requirePackageRoots(serialized.text)) }),
    );
  const func = new aws.lambda.Function(
    prefix,
    {
      code,
      handler: "__index.handler",
      // Its own role, holding only what this function needs.
      role: role.arn,
      runtime: settings.runtime,
      timeout: fn.timeoutSeconds,
      memorySize: fn.memorySize,
      description: fn.description ?? settings.description,
      environment: Object.keys(fn.environment).length > 0 ? { variables: fn.environment } : undefined,
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      tracingConfig: settings.tracing ? { mode: "Active" } : undefined,
      tags,
    },
    // The role must hold its permissions before the function first runs.
    { parent, dependsOn: policies },
  );
  return { function: func, role, logGroup };
}
