/**
 * Local API Gateway HTTP APIs (`aws:apigatewayv2/*`): the program's routes served on the local origin, with
 * Lambda proxy integrations and the Step Functions AWS service integrations, as deployed stages would serve
 * them. A `$default` stage is served at the origin's root, a named stage under `/<stage>`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api.html
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { isSigned } from "../common/sigv4";
import { requestPrincipal, type Principal } from "../common/access";
import type { InvokeResult } from "../common/invoker";
import { buildLambdaEvent, jsonResult, mapLambdaResponse, type HttpResult, type PayloadFormatVersion } from "./lambdaProxy";
import { evaluateMapping, type ApiRequest } from "./request";
import { matchRoute, parseRouteKey, type RouteKey } from "./routes";

/** What the API Gateway emulation needs from the Step Functions emulation (its `call`). */
export interface StepFunctionsCaller {
  call(operation: string, request: Record<string, unknown>): Promise<object>;
}

interface HttpApi {
  id: string;
  name: string;
  routes: ApiRoute[];
  integrations: Map<string, ApiIntegration>;
  stages: Map<string, { stageVariables: Record<string, string> }>;
}

interface ApiRoute {
  key: RouteKey;
  target?: string;
  authorizationType: string;
  apiId: string;
}

interface ApiIntegration {
  id: string;
  integrationType: string;
  subtype?: string;
  uri?: string;
  payloadFormatVersion: PayloadFormatVersion;
  requestParameters: Record<string, string>;
  /** The role API Gateway assumes to call the integration (`credentialsArn`); without one it calls as itself. */
  credentialsArn?: string;
  /** Why the emulation cannot run it, if it cannot. */
  unsupported?: string;
}

/** Step Functions operations behind the HTTP API subtypes, and their parameter names → API request fields. */
const STEP_FUNCTIONS_SUBTYPES: Record<string, { operation: string; parameters: Record<string, string>; required: string }> = {
  "StepFunctions-StartExecution": {
    operation: "StartExecution",
    parameters: { StateMachineArn: "stateMachineArn", Name: "name", Input: "input", TraceHeader: "traceHeader" },
    required: "StateMachineArn",
  },
  "StepFunctions-StopExecution": {
    operation: "StopExecution",
    parameters: { ExecutionArn: "executionArn", Cause: "cause", Error: "error" },
    required: "ExecutionArn",
  },
};

export class HttpApiService implements LocalService {
  /** IAM-authorized routes are called with requests signed for "execute-api". */
  readonly signingNames = ["execute-api"] as const;
  readonly resourceTypes = [
    "aws:apigatewayv2/api:Api",
    "aws:apigatewayv2/route:Route",
    "aws:apigatewayv2/integration:Integration",
    "aws:apigatewayv2/stage:Stage",
    "aws:apigatewayv2/deployment:Deployment",
  ] as const;

  private readonly apis = new Map<string, HttpApi>();

  constructor(
    private readonly context: LocalContext,
    private readonly stepFunctions?: StepFunctionsCaller,
  ) {}

  async provision(resource: DeclaredResource, _all: readonly DeclaredResource[] = []): Promise<void> {
    const { inputs } = resource;
    switch (resource.type) {
      case "aws:apigatewayv2/api:Api": {
        if (inputs.protocolType !== "HTTP") {
          this.context.log("apigateway", `${resource.name}: ${inputs.protocolType} APIs are not emulated (HTTP APIs only)`);
          return;
        }
        // A reloaded API keeps its routes, integrations and stages: each is a resource of its own.
        const previous = this.apis.get(resource.id);
        this.apis.set(resource.id, {
          id: resource.id,
          name: inputs.name ?? resource.name,
          routes: previous?.routes ?? [],
          integrations: previous?.integrations ?? new Map(),
          stages: previous?.stages ?? new Map(),
        });
        if (inputs.target)
          this.context.log("apigateway", `${resource.name}: quick-create "target" is not emulated; declare routes and integrations`);
        return;
      }
      case "aws:apigatewayv2/route:Route": {
        const api = this.api(inputs.apiId, resource);
        if (!api) return;
        const authorizationType = inputs.authorizationType ?? "NONE";
        if (authorizationType !== "NONE" && authorizationType !== "AWS_IAM") {
          this.context.log(
            "apigateway",
            `${inputs.routeKey}: ${authorizationType} authorizers are not emulated; the route is open locally`,
          );
        }
        api.routes.push({ key: parseRouteKey(inputs.routeKey), target: inputs.target, authorizationType, apiId: api.id });
        return;
      }
      case "aws:apigatewayv2/integration:Integration": {
        const api = this.api(inputs.apiId, resource);
        if (api) api.integrations.set(resource.id, this.integrationOf(resource));
        return;
      }
      case "aws:apigatewayv2/stage:Stage": {
        const api = this.api(inputs.apiId, resource);
        if (api) api.stages.set(inputs.name ?? resource.state.name, { stageVariables: inputs.stageVariables ?? {} });
        return;
      }
      case "aws:apigatewayv2/deployment:Deployment":
        return; // Every stage serves the declared routes at once (as autoDeploy does).
    }
  }

  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    const { inputs } = resource;
    switch (resource.type) {
      case "aws:apigatewayv2/api:Api":
        if (!replacedBy) this.apis.delete(resource.id);
        return;
      case "aws:apigatewayv2/route:Route": {
        const api = this.apis.get(inputs.apiId);
        if (api) api.routes = api.routes.filter((route) => route.key.raw !== inputs.routeKey);
        return;
      }
      case "aws:apigatewayv2/integration:Integration":
        this.apis.get(inputs.apiId)?.integrations.delete(resource.id);
        return;
      case "aws:apigatewayv2/stage:Stage":
        this.apis.get(inputs.apiId)?.stages.delete(inputs.name ?? resource.state.name);
        return;
    }
  }

  /** Answers a request addressed to the program's routes (unsigned, or signed for execute-api). */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const requestId = apiRequestId();
    const found = this.findRoute(req.method ?? "GET", url.pathname);
    if (!found) return send(res, jsonResult(404, { message: "Not Found" }), requestId);
    const { api, stage, route, pathParameters } = found;
    if (route.authorizationType === "AWS_IAM" && !isSigned(req, url))
      return send(res, jsonResult(403, { message: "Forbidden" }), requestId);
    if (route.authorizationType === "AWS_IAM") {
      const principal = requestPrincipal(req);
      const resource = `arn:aws:execute-api:${this.context.region}:${this.context.accountId}:${api.id}/${stage}/${req.method}${url.pathname}`;
      const decision = principal && this.context.access?.authorize({ principal, action: "execute-api:Invoke", resource });
      if (decision && !decision.allowed) return send(res, jsonResult(403, { Message: decision.message }), requestId);
    }

    const integrationId = /^integrations\/(.+)$/.exec(route.target ?? "")?.[1];
    const integration = integrationId ? api.integrations.get(integrationId) : undefined;
    if (!integration) return send(res, jsonResult(404, { message: "Not Found" }), requestId);

    const request = toApiRequest(req, url, body, {
      api,
      stage,
      routeKey: route.key.raw,
      requestId,
      pathParameters,
      accountId: this.context.accountId,
    });
    const stageVariables = api.stages.get(stage)?.stageVariables ?? {};
    let result: HttpResult;
    try {
      result = await this.integrate(integration, request, stageVariables, integrationCaller(integration, request, this.context.region));
    } catch (error) {
      this.context.log("apigateway", `${route.key.raw}: integration failed: ${(error as Error).message}`);
      result = jsonResult(500, { message: "Internal Server Error" });
    }
    send(res, result, requestId);
  }

  async close(): Promise<void> {}

  /** Whether one of the program's routes answers `method path` (the console leaves those to the program). */
  serves(method: string, path: string): boolean {
    return this.findRoute(method, path) !== undefined;
  }

  /** Every served route, for the start-up listing: "GET /start → StepFunctions-StartExecution". */
  describeRoutes(): string[] {
    const lines: string[] = [];
    for (const api of this.apis.values()) {
      for (const stage of api.stages.keys()) {
        for (const route of api.routes) {
          const integration = api.integrations.get(/^integrations\/(.+)$/.exec(route.target ?? "")?.[1] ?? "");
          const prefix = stage === "$default" ? "" : `/${stage}`;
          const where = route.key.isDefault
            ? `$default${prefix ? ` (under ${prefix})` : ""}`
            : `${route.key.method} ${prefix}${route.key.raw.split(" ")[1]}`;
          lines.push(`${where} → ${integration?.subtype ?? integration?.integrationType ?? "no integration"}`);
        }
      }
    }
    return lines;
  }

  private api(apiId: string, resource: DeclaredResource): HttpApi | undefined {
    const api = this.apis.get(apiId);
    if (!api) this.context.log("apigateway", `${resource.name}: belongs to API ${apiId}, which is not an emulated HTTP API`);
    return api;
  }

  private integrationOf(resource: DeclaredResource): ApiIntegration {
    const { inputs } = resource;
    const integration: ApiIntegration = {
      id: resource.id,
      integrationType: inputs.integrationType,
      subtype: inputs.integrationSubtype,
      uri: inputs.integrationUri,
      payloadFormatVersion: inputs.payloadFormatVersion === "1.0" ? "1.0" : "2.0",
      requestParameters: inputs.requestParameters ?? {},
      credentialsArn: inputs.credentialsArn,
    };
    if (inputs.integrationType !== "AWS_PROXY") {
      integration.unsupported = `${inputs.integrationType} integrations are not emulated (AWS_PROXY only)`;
    } else if (integration.subtype) {
      const spec = STEP_FUNCTIONS_SUBTYPES[integration.subtype];
      if (!spec)
        integration.unsupported = `integration subtype ${integration.subtype} is not emulated (${Object.keys(STEP_FUNCTIONS_SUBTYPES).join(", ")})`;
      // AWS rejects the integration at creation without its required parameter.
      else if (!integration.requestParameters[spec.required])
        throw new Error(`Integration ${resource.name}: ${integration.subtype} requires requestParameters.${spec.required}`);
    } else if (!integration.uri) {
      throw new Error(`Integration ${resource.name}: an AWS_PROXY Lambda integration needs integrationUri (the function ARN)`);
    }
    if (integration.unsupported) this.context.log("apigateway", `${resource.name}: ${integration.unsupported}; its routes answer 500`);
    return integration;
  }

  private findRoute(method: string, path: string) {
    // Named stages claim their prefix first; `$default` stages serve the rest.
    const candidates: Array<{ api: HttpApi; stage: string; path: string }> = [];
    for (const api of this.apis.values()) {
      for (const stage of api.stages.keys()) {
        if (stage === "$default") continue;
        if (path === `/${stage}` || path.startsWith(`/${stage}/`))
          candidates.push({ api, stage, path: path.slice(stage.length + 1) || "/" });
      }
    }
    for (const api of this.apis.values()) if (api.stages.has("$default")) candidates.push({ api, stage: "$default", path });
    for (const candidate of candidates) {
      const match = matchRoute(candidate.api.routes, method, candidate.path);
      if (match) return { api: candidate.api, stage: candidate.stage, route: match.route, pathParameters: match.pathParameters };
    }
    return undefined;
  }

  private async integrate(
    integration: ApiIntegration,
    request: ApiRequest,
    stageVariables: Record<string, string>,
    caller: Principal,
  ): Promise<HttpResult> {
    if (integration.unsupported) return jsonResult(500, { message: "Internal Server Error" });
    if (integration.subtype) return this.callStepFunctions(integration, request, stageVariables, caller);
    const event = buildLambdaEvent(request, integration.payloadFormatVersion);
    let result: InvokeResult;
    try {
      result = await this.context.lambda.invoke({
        functionName: functionNameOf(integration.uri!),
        payload: JSON.stringify(event),
        invocationType: "RequestResponse",
        caller,
      });
    } catch (error) {
      // API Gateway answers a refused invocation as a configuration error: 500, the reason only in its logs.
      if ((error as Error)?.name === "AccessDeniedException") return jsonResult(500, { message: "Internal Server Error" });
      throw error;
    }
    return mapLambdaResponse(result, integration.payloadFormatVersion);
  }

  private async callStepFunctions(
    integration: ApiIntegration,
    request: ApiRequest,
    stageVariables: Record<string, string>,
    caller: Principal,
  ): Promise<HttpResult> {
    const spec = STEP_FUNCTIONS_SUBTYPES[integration.subtype!];
    if (!this.stepFunctions) return jsonResult(500, { message: "Internal Server Error" });
    const apiRequest: Record<string, unknown> = {};
    for (const [parameter, mapping] of Object.entries(integration.requestParameters)) {
      const field = spec.parameters[parameter];
      const value = evaluateMapping(String(mapping), request, stageVariables);
      if (field && value !== undefined) apiRequest[field] = value;
    }
    // The integration's credentials role calls Step Functions: the Step Functions answer (AccessDeniedException)
    // passes through like any other service error.
    const resource = String(apiRequest.stateMachineArn ?? apiRequest.executionArn ?? "");
    const decision = this.context.access?.authorize({ principal: caller, action: `states:${spec.operation}`, resource });
    if (decision && !decision.allowed) return jsonResult(400, { __type: "AccessDeniedException", message: decision.message });
    try {
      const response = await this.stepFunctions.call(spec.operation, apiRequest);
      return jsonResult(200, toWire(response));
    } catch (error: any) {
      // The service's own error passes through, as the integration returns it.
      if (typeof error?.code === "string") return jsonResult(400, { __type: error.code, message: error.message });
      throw error;
    }
  }
}

/**
 * Who API Gateway is when it calls an integration: a session of the integration's credentials role, assumed by
 * apigateway.amazonaws.com; without one, the service principal itself, for this route (the function's resource
 * policy then has to allow it). https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
 */
function integrationCaller(integration: ApiIntegration, request: ApiRequest, region: string): Principal {
  const sourceArn = `arn:aws:execute-api:${region}:${request.accountId}:${request.apiId}/${request.stage}/${request.method}${request.rawPath}`;
  if (integration.credentialsArn)
    return {
      kind: "role",
      roleArn: integration.credentialsArn,
      sessionName: "BackplaneAssumeRoleSession",
      assumedBy: "apigateway.amazonaws.com",
      sourceArn,
    };
  return { kind: "service", service: "apigateway.amazonaws.com", sourceArn, sourceAccount: request.accountId };
}

/** JSON 1.0 timestamps are epoch seconds. */
function toWire(response: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response).map(([key, value]) => [key, value instanceof Date ? value.getTime() / 1000 : value]));
}

/** Function ARN from an integration URI: the ARN itself or an `arn:aws:apigateway:...:lambda:path/.../functions/<arn>/invocations` URI. */
export function functionNameOf(integrationUri: string): string {
  return /\/functions\/(.+)\/invocations$/.exec(integrationUri)?.[1] ?? integrationUri;
}

function toApiRequest(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  route: { api: HttpApi; stage: string; routeKey: string; requestId: string; pathParameters: Record<string, string>; accountId: string },
): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  const query = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) query.set(name, [...(query.get(name) ?? []), value]);
  return {
    apiId: route.api.id,
    stage: route.stage,
    routeKey: route.routeKey,
    requestId: route.requestId,
    method: req.method ?? "GET",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    query,
    pathParameters: route.pathParameters,
    body,
    sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
    domainName: headers.host ?? "127.0.0.1",
    accountId: route.accountId,
    timeEpoch: Date.now(),
  };
}

function send(res: ServerResponse, result: HttpResult, requestId: string): void {
  if (res.headersSent) return void res.end();
  const headers: Record<string, string | string[]> = {
    ...result.headers,
    "apigw-requestid": requestId,
    "content-length": String(result.body.length),
  };
  if (result.cookies.length) headers["set-cookie"] = result.cookies;
  res.writeHead(result.statusCode, headers).end(result.body);
}

/** API Gateway's request ids look like "Kx2fVjXXoAMEV2w=": 16 base64 characters. */
function apiRequestId(): string {
  return Buffer.from(randomUUID().replace(/-/g, "").slice(0, 22), "hex").toString("base64");
}
