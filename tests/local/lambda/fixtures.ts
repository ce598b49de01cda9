/**
 * Declares functions for LambdaService tests the way the program loader hands them over: a DeclaredResource
 * whose `code` is a Pulumi AssetArchive (here with a hand-written `index.js` instead of a serialized closure).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { DeclaredResource, LocalContext } from "../../../local/common/service";
import { LambdaService, type LambdaServiceOptions } from "../../../local/lambda/service";

export const REPOSITORY = path.resolve(__dirname, "../../..");
export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";

export interface FunctionDeclaration {
  name: string;
  /** The module written as index.js; exports `handler`. */
  code: string;
  runtime?: string;
  timeout?: number;
  reservedConcurrentExecutions?: number;
  variables?: Record<string, string>;
  handler?: string;
}

export function declareFunction(declaration: FunctionDeclaration): DeclaredResource {
  const arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${declaration.name}`;
  const inputs: Record<string, any> = {
    name: declaration.name,
    runtime: declaration.runtime ?? "nodejs20.x",
    handler: declaration.handler ?? "index.handler",
    timeout: declaration.timeout ?? 3,
    role: `arn:aws:iam::${ACCOUNT_ID}:role/${declaration.name}-role`,
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(declaration.code) }),
    environment: declaration.variables ? { variables: declaration.variables } : undefined,
    reservedConcurrentExecutions: declaration.reservedConcurrentExecutions,
  };
  return {
    urn: `urn:pulumi:test::lambda-tests::aws:lambda/function:Function::${declaration.name}`,
    type: "aws:lambda/function:Function",
    name: declaration.name,
    id: declaration.name,
    inputs,
    state: { ...inputs, arn },
  };
}

export interface LambdaHarness {
  service: LambdaService;
  context: LocalContext;
  /** Every `[source] line` logged, in order. */
  logs: Array<{ source: string; line: string }>;
  workDirectory: string;
  close(): Promise<void>;
}

export async function startLambda(
  functions: FunctionDeclaration[],
  options: Partial<LambdaServiceOptions> & { origin?: string } = {},
): Promise<LambdaHarness> {
  const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-test-"));
  const logs: Array<{ source: string; line: string }> = [];
  const context: LocalContext = {
    origin: options.origin ?? "http://127.0.0.1:9",
    region: REGION,
    accountId: ACCOUNT_ID,
    lambda: undefined as any,
    log: (source, line) => logs.push({ source, line }),
  };
  const service = new LambdaService(context, {
    workDirectory,
    nodeCacheDirectory: path.join(REPOSITORY, ".local", "node"),
    nodeModulesDirectory: path.join(REPOSITORY, "node_modules"),
    ...options,
  });
  context.lambda = service;
  for (const declaration of functions) await service.provision(declareFunction(declaration), []);
  return {
    service,
    context,
    logs,
    workDirectory,
    close: async () => {
      await service.close();
      fs.rmSync(workDirectory, { recursive: true, force: true });
    },
  };
}

export function linesOf(harness: LambdaHarness, source: string): string[] {
  return harness.logs.filter((entry) => entry.source === source).map((entry) => entry.line);
}
