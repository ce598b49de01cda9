/**
 * The start endpoint of a callback workflow: an API Gateway route whose integration calls Step Functions
 * StartExecution directly (no Lambda in between) and answers with `{"executionArn", "startDate"}`.
 *
 * - `http` (default): an HTTP API with the `StepFunctions-StartExecution` AWS service integration.
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services-reference.html
 * - `rest`: a REST API (through `@pulumi/awsx`) with an `aws` integration to `states:action/StartExecution`, for
 *   API keys and usage plans. https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-api-gateway.html
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { ResolvedStartApi } from "./args";
import { servicePrincipalTrustPolicy, startExecutionPolicy } from "./policies";

export interface StartApiContext {
  /** Component name: children are named from it. */
  name: string;
  parent: pulumi.Resource;
  stateMachineArn: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
  tags: Record<string, string>;
  tracing: boolean;
}

export interface StartApi {
  /** Full URL of the start route. */
  startUrl: pulumi.Output<string>;
  /** Role API Gateway assumes to call StartExecution. */
  role: aws.iam.Role;
  httpApi?: aws.apigatewayv2.Api;
  restApi?: awsx.classic.apigateway.API;
  apiKey?: aws.apigateway.ApiKey;
}

/** Where the execution input comes from, per method: GET takes `?input=<URL-encoded JSON>`, POST the body. */
export const HTTP_API_INPUT_SOURCE = { GET: "$request.querystring.input", POST: "$request.body" } as const;

export function createStartApi(api: ResolvedStartApi, context: StartApiContext): StartApi | undefined {
  if (api.type === "none") return undefined;
  const role = createApiRole(context);
  return api.type === "http" ? createHttpStartApi(api, context, role) : createRestStartApi(api, context, role);
}

/**
 * API Gateway's integration role: trusted by apigateway.amazonaws.com, allowed StartExecution on this state
 * machine only. No aws:SourceArn condition: API Gateway does not document sending it when it assumes an
 * integration's credentials role, and a condition it never satisfies would break every request.
 */
function createApiRole(context: StartApiContext): aws.iam.Role {
  const { name, parent } = context;
  const role = new aws.iam.Role(
    `${name}-api-role`,
    {
      description: "API Gateway: starts executions of one state machine.",
      assumeRolePolicy: pulumi.jsonStringify(servicePrincipalTrustPolicy("apigateway.amazonaws.com")),
      tags: context.tags,
    },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-api-start-execution`,
    { role: role.id, policy: pulumi.jsonStringify(startExecutionPolicy(context.stateMachineArn)) },
    { parent },
  );
  return role;
}

function createHttpStartApi(api: ResolvedStartApi, context: StartApiContext, role: aws.iam.Role): StartApi {
  const { name, parent, tags } = context;
  const httpApi = new aws.apigatewayv2.Api(
    `${name}-api`,
    { protocolType: "HTTP", description: `Starts executions of the ${name} callback workflow.`, tags },
    { parent },
  );
  const integration = new aws.apigatewayv2.Integration(
    `${name}-start-integration`,
    {
      apiId: httpApi.id,
      integrationType: "AWS_PROXY",
      integrationSubtype: "StepFunctions-StartExecution",
      credentialsArn: role.arn,
      // AWS service integrations of HTTP APIs only support payload format 1.0.
      payloadFormatVersion: "1.0",
      requestParameters: { StateMachineArn: context.stateMachineArn, Input: HTTP_API_INPUT_SOURCE[api.method] },
    },
    { parent },
  );
  const route = new aws.apigatewayv2.Route(
    `${name}-start-route`,
    {
      apiId: httpApi.id,
      routeKey: `${api.method} ${api.path}`,
      target: pulumi.interpolate`integrations/${integration.id}`,
      authorizationType: api.authorization,
    },
    { parent },
  );
  new aws.apigatewayv2.Stage(
    `${name}-stage`,
    {
      apiId: httpApi.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: { throttlingBurstLimit: api.throttle.burstLimit, throttlingRateLimit: api.throttle.rateLimit },
      tags,
    },
    { parent, dependsOn: [route] },
  );
  // The $default stage is served at the API's root, so the route's URL is the endpoint plus its path.
  return { startUrl: pulumi.interpolate`${httpApi.apiEndpoint}${api.path}`, role, httpApi };
}

/** Stage name of the REST variant (a REST API has no root stage). */
export const REST_STAGE_NAME = "v1";

function createRestStartApi(api: ResolvedStartApi, context: StartApiContext, role: aws.iam.Role): StartApi {
  const { name, parent, tags } = context;
  const swagger = buildStartRestSwagger({
    title: name,
    path: api.path,
    method: api.method,
    authorization: api.authorization,
    apiKeyRequired: api.apiKeyRequired,
    region: context.region,
    partition: context.partition,
    credentialsRoleArn: role.arn,
    stateMachineArn: context.stateMachineArn,
  });
  const restApi = new awsx.classic.apigateway.API(
    `${name}-rest-api`,
    {
      swaggerString: pulumi.jsonStringify(swagger),
      stageName: REST_STAGE_NAME,
      apiKeySource: api.apiKeyRequired ? "HEADER" : undefined,
      // awsx would default binaryMediaTypes to */*, making every body binary and bypassing the mapping template.
      restApiArgs: { description: `Starts executions of the ${name} callback workflow.`, tags, binaryMediaTypes: [] },
      stageArgs: { tags, xrayTracingEnabled: context.tracing },
    },
    { parent },
  );
  new aws.apigateway.MethodSettings(
    `${name}-rest-throttle`,
    {
      restApi: restApi.restAPI.id,
      stageName: restApi.stage.stageName,
      methodPath: "*/*",
      settings: { throttlingBurstLimit: api.throttle.burstLimit, throttlingRateLimit: api.throttle.rateLimit },
    },
    { parent },
  );
  let apiKey: aws.apigateway.ApiKey | undefined;
  if (api.apiKeyRequired) {
    const usagePlan = new aws.apigateway.UsagePlan(
      `${name}-usage-plan`,
      {
        description: `Callers of the ${name} start endpoint.`,
        apiStages: [{ apiId: restApi.restAPI.id, stage: restApi.stage.stageName }],
        throttleSettings: { burstLimit: api.throttle.burstLimit, rateLimit: api.throttle.rateLimit },
        tags,
      },
      { parent },
    );
    apiKey = new aws.apigateway.ApiKey(`${name}-api-key`, { description: `Key for ${name}'s start endpoint.`, tags }, { parent });
    new aws.apigateway.UsagePlanKey(
      `${name}-usage-plan-key`,
      { keyId: apiKey.id, keyType: "API_KEY", usagePlanId: usagePlan.id },
      { parent },
    );
  }
  return { startUrl: pulumi.interpolate`${restApi.stage.invokeUrl}${api.path}`, role, restApi, apiKey };
}

export interface StartRestSwaggerOptions {
  title: string;
  path: string;
  method: "GET" | "POST";
  authorization: "NONE" | "AWS_IAM";
  apiKeyRequired: boolean;
  region: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  credentialsRoleArn: pulumi.Input<string>;
  stateMachineArn: pulumi.Input<string>;
}

/**
 * The REST API as an OpenAPI 2.0 document with API Gateway's extensions. Built whole (rather than from awsx
 * routes) because awsx's integration routes cannot carry the credentials role and mapping template a Step
 * Functions integration needs. https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
 */
export function buildStartRestSwagger(options: StartRestSwaggerOptions): Record<string, unknown> {
  const operation: Record<string, unknown> = {
    summary: "Starts an execution; answers with its executionArn and startDate.",
    produces: ["application/json"],
    responses: { "200": { description: "Execution started" }, "400": { description: "Rejected by Step Functions" } },
    "x-amazon-apigateway-integration": {
      type: "aws",
      httpMethod: "POST",
      uri: pulumi.interpolate`arn:${options.partition}:apigateway:${options.region}:states:action/StartExecution`,
      credentials: options.credentialsRoleArn,
      passthroughBehavior: "WHEN_NO_TEMPLATES",
      requestTemplates: {
        "application/json": pulumi.output(options.stateMachineArn).apply((arn) => startExecutionTemplate(arn, options.method)),
      },
      responses: { default: { statusCode: "200" }, "4\\d{2}": { statusCode: "400" } },
    },
  };
  if (options.method === "GET") {
    operation.parameters = [
      { name: "input", in: "query", required: false, type: "string", description: "Execution input, URL-encoded JSON" },
    ];
  }
  if (options.authorization === "AWS_IAM") operation["x-amazon-apigateway-auth"] = { type: "AWS_IAM" };
  if (options.apiKeyRequired) operation.security = [{ api_key: [] }];
  return {
    swagger: "2.0",
    info: { title: options.title, version: "1.0" },
    paths: { [options.path]: { [options.method.toLowerCase()]: operation } },
    ...(options.apiKeyRequired ? { securityDefinitions: { api_key: { type: "apiKey", name: "x-api-key", in: "header" } } } : {}),
  };
}

/**
 * VTL mapping template turning the request into a StartExecution body. GET: the `input` query parameter
 * (`{}` when absent); POST: the JSON body (sent with `Content-Type: application/json`, the only type the
 * template is declared for). `$util.escapeJavaScript` makes the input a JSON string value, but it also turns
 * `'` into `\'`, which JSON does not allow; AWS's reference says to turn it back with `.replaceAll("\\'", "'")`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 */
export function startExecutionTemplate(stateMachineArn: string, method: "GET" | "POST"): string {
  const arn = JSON.stringify(stateMachineArn);
  const escaped = (value: string) => `$util.escapeJavaScript(${value}).replaceAll("\\\\'", "'")`;
  if (method === "POST") return `{"stateMachineArn": ${arn}, "input": "${escaped("$input.json('$')")}"}`;
  return [
    `#set($executionInput = $input.params('input'))`,
    `#if($executionInput == "")#set($executionInput = "{}")#end`,
    `{"stateMachineArn": ${arn}, "input": "${escaped("$executionInput")}"}`,
  ].join("\n");
}
