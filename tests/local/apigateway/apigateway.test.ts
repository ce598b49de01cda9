import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { buildLambdaEvent, mapLambdaResponse } from "../../../local/apigateway/lambdaProxy";
import { evaluateMapping, type ApiRequest } from "../../../local/apigateway/request";
import { matchRoute, parseRouteKey } from "../../../local/apigateway/routes";
import { HttpApiService } from "../../../local/apigateway/service";
import { readBody } from "../../../local/common/http";
import type { DeclaredResource, LocalContext } from "../../../local/common/service";
import type { InvokeRequest, InvokeResult } from "../../../local/common/invoker";

const routes = (...keys: string[]) => keys.map((raw) => ({ key: parseRouteKey(raw) }));

describe("HTTP API route selection", () => {
  it("prefers a literal path over a path variable, and a path variable over a greedy {proxy+}", () => {
    const table = routes("GET /pets/{proxy+}", "GET /pets/{id}", "GET /pets/dog");
    assert.equal(matchRoute(table, "GET", "/pets/dog")!.route.key.raw, "GET /pets/dog");
    assert.equal(matchRoute(table, "GET", "/pets/cat")!.route.key.raw, "GET /pets/{id}");
    assert.deepEqual(matchRoute(table, "GET", "/pets/cat")!.pathParameters, { id: "cat" });
    const greedy = matchRoute(table, "GET", "/pets/cat/toys/1")!;
    assert.equal(greedy.route.key.raw, "GET /pets/{proxy+}");
    assert.deepEqual(greedy.pathParameters, { proxy: "cat/toys/1" });
  });

  it("prefers the request's method over ANY, and falls back to $default when nothing matches", () => {
    const table = routes("ANY /x/{id}", "POST /x/{id}", "$default");
    assert.equal(matchRoute(table, "POST", "/x/1")!.route.key.raw, "POST /x/{id}");
    assert.equal(matchRoute(table, "DELETE", "/x/1")!.route.key.raw, "ANY /x/{id}");
    assert.equal(matchRoute(table, "GET", "/elsewhere")!.route.key.raw, "$default");
    assert.equal(matchRoute(routes("GET /start"), "GET", "/elsewhere"), undefined);
    assert.equal(matchRoute(routes("GET /start"), "POST", "/start"), undefined);
  });

  it("requires {proxy+} to match at least one segment and to be the last one", () => {
    assert.equal(matchRoute(routes("GET /files/{proxy+}"), "GET", "/files"), undefined);
    assert.throws(() => parseRouteKey("GET /{proxy+}/tail"), /greedy variable \{proxy\+\} must be the last segment/);
    assert.throws(() => parseRouteKey("FETCH /x"), /is not "\$default" or "<METHOD> \/path"/);
  });

  it("decodes path parameters", () => {
    assert.deepEqual(matchRoute(routes("GET /items/{name}"), "GET", "/items/a%20b")!.pathParameters, { name: "a b" });
  });
});

function apiRequest(overrides: Partial<ApiRequest> = {}): ApiRequest {
  return {
    apiId: "abc123",
    stage: "$default",
    routeKey: "POST /jobs/{id}",
    requestId: "req-1",
    method: "POST",
    rawPath: "/jobs/42",
    rawQueryString: "input=%7B%22a%22%3A1%7D&tag=x&tag=y",
    headers: { "content-type": "application/json", "x-trace": "t-1", "user-agent": "test" },
    query: new Map([
      ["input", ['{"a":1}']],
      ["tag", ["x", "y"]],
    ]),
    pathParameters: { id: "42" },
    body: Buffer.from(JSON.stringify({ document: { title: "T", pages: 3 }, name: "run-1" })),
    sourceIp: "127.0.0.1",
    domainName: "127.0.0.1:3000",
    accountId: "123456789012",
    timeEpoch: Date.UTC(2026, 10, 24, 22, 0, 0),
    ...overrides,
  };
}

describe("HTTP API parameter mapping", () => {
  const request = apiRequest();

  it("resolves $request.querystring, $request.header, $request.path and $context values", () => {
    assert.equal(evaluateMapping("$request.querystring.input", request), '{"a":1}');
    assert.equal(evaluateMapping("$request.querystring.tag", request), "x,y");
    assert.equal(evaluateMapping("$request.header.X-Trace", request), "t-1");
    assert.equal(evaluateMapping("$request.path.id", request), "42");
    assert.equal(evaluateMapping("$context.requestId", request), "req-1");
    assert.equal(evaluateMapping("$context.requestTime", request), "24/Nov/2026:22:00:00 +0000");
  });

  it("resolves $request.body as the raw body and $request.body.x as a JSONPath into it, objects as JSON text", () => {
    assert.equal(evaluateMapping("$request.body", request), request.body.toString());
    assert.equal(evaluateMapping("$request.body.name", request), "run-1");
    assert.equal(evaluateMapping("$request.body.document", request), '{"title":"T","pages":3}');
    assert.equal(evaluateMapping("$request.body.document.pages", request), "3");
  });

  it("leaves a parameter out when its source is missing, keeps static values, and fills ${...} templates", () => {
    assert.equal(evaluateMapping("$request.querystring.absent", request), undefined);
    assert.equal(evaluateMapping("$request.body.absent", request), undefined);
    assert.equal(evaluateMapping("$request.body", apiRequest({ body: Buffer.alloc(0) })), undefined);
    assert.equal(
      evaluateMapping("arn:aws:states:us-east-1:123456789012:stateMachine:m", request),
      "arn:aws:states:us-east-1:123456789012:stateMachine:m",
    );
    assert.equal(evaluateMapping("job-${request.path.id}-${context.requestId}", request), "job-42-req-1");
  });
});

describe("Lambda proxy integration payloads", () => {
  it("builds a payload format 2.0 event as API Gateway sends it", () => {
    const event = buildLambdaEvent(apiRequest({ headers: { "content-type": "application/json", cookie: "a=1; b=2" } }), "2.0") as any;
    assert.equal(event.version, "2.0");
    assert.equal(event.routeKey, "POST /jobs/{id}");
    assert.equal(event.rawPath, "/jobs/42");
    assert.equal(event.rawQueryString, "input=%7B%22a%22%3A1%7D&tag=x&tag=y");
    assert.deepEqual(event.cookies, ["a=1", "b=2"]);
    assert.deepEqual(event.headers, { "content-type": "application/json" });
    assert.deepEqual(event.queryStringParameters, { input: '{"a":1}', tag: "x,y" });
    assert.deepEqual(event.pathParameters, { id: "42" });
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, JSON.stringify({ document: { title: "T", pages: 3 }, name: "run-1" }));
    assert.deepEqual(event.requestContext.http, {
      method: "POST",
      path: "/jobs/42",
      protocol: "HTTP/1.1",
      sourceIp: "127.0.0.1",
      userAgent: "",
    });
    assert.equal(event.requestContext.requestId, "req-1");
    assert.equal(event.requestContext.timeEpoch, Date.UTC(2026, 10, 24, 22, 0, 0));
  });

  it("base64-encodes a binary body", () => {
    const event = buildLambdaEvent(
      apiRequest({ headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0, 255]) }),
      "2.0",
    ) as any;
    assert.equal(event.isBase64Encoded, true);
    assert.equal(event.body, "AP8=");
  });

  const result = (payload: unknown, functionError?: "Unhandled"): InvokeResult => ({
    statusCode: 200,
    payload: JSON.stringify(payload),
    functionError,
    executedVersion: "$LATEST",
    requestId: "r",
  });

  it("maps a structured 2.0 response (statusCode, headers, cookies, base64 body) to the HTTP response", () => {
    const mapped = mapLambdaResponse(
      result({ statusCode: 201, headers: { "X-Id": "7" }, cookies: ["s=1"], body: "aGk=", isBase64Encoded: true }),
      "2.0",
    );
    assert.equal(mapped.statusCode, 201);
    assert.deepEqual(mapped.headers, { "x-id": "7" });
    assert.deepEqual(mapped.cookies, ["s=1"]);
    assert.equal(mapped.body.toString(), "hi");
  });

  it("infers a 200 JSON response from any other 2.0 result, but requires the structure in format 1.0", () => {
    const inferred = mapLambdaResponse(result({ hello: "world" }), "2.0");
    assert.equal(inferred.statusCode, 200);
    assert.equal(inferred.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(inferred.body.toString()), { hello: "world" });
    assert.equal(mapLambdaResponse(result({ hello: "world" }), "1.0").statusCode, 500);
  });

  it("answers 500 Internal Server Error when the function fails", () => {
    const failed = mapLambdaResponse(result({ errorType: "Error", errorMessage: "x" }, "Unhandled"), "2.0");
    assert.equal(failed.statusCode, 500);
    assert.deepEqual(JSON.parse(failed.body.toString()), { message: "Internal Server Error" });
  });
});

describe("HTTP API service", () => {
  const stateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:demo";
  const calls: Array<{ operation: string; request: Record<string, unknown> }> = [];
  const invocations: InvokeRequest[] = [];
  let server: http.Server;
  let origin: string;

  const declared = (type: string, name: string, id: string, inputs: Record<string, any>): DeclaredResource => ({
    urn: `urn:pulumi:test::p::${type}::${name}`,
    type,
    name,
    id,
    inputs,
    state: { ...inputs },
  });

  before(async () => {
    const context: LocalContext = {
      origin: "http://127.0.0.1:0",
      region: "us-east-1",
      accountId: "123456789012",
      log: () => undefined,
      lambda: {
        invoke: async (request) => {
          invocations.push(request);
          const event = JSON.parse(request.payload);
          return {
            statusCode: 200,
            payload: JSON.stringify({ statusCode: 202, body: `item ${event.pathParameters.id}` }),
            executedVersion: "$LATEST",
            requestId: "x",
          };
        },
      },
    };
    const stepFunctions = {
      call: async (operation: string, request: Record<string, unknown>) => {
        calls.push({ operation, request });
        if (request.name === "taken")
          throw Object.assign(new Error("Execution Already Exists: 'taken'"), { code: "ExecutionAlreadyExists" });
        return { executionArn: `${stateMachineArn.replace("stateMachine", "execution")}:e1`, startDate: new Date(1_795_000_000_123) };
      },
    };
    const service = new HttpApiService(context, stepFunctions);
    const resources = [
      declared("aws:apigatewayv2/api:Api", "api", "api1", { protocolType: "HTTP" }),
      declared("aws:apigatewayv2/integration:Integration", "start", "int-start", {
        apiId: "api1",
        integrationType: "AWS_PROXY",
        integrationSubtype: "StepFunctions-StartExecution",
        payloadFormatVersion: "1.0",
        requestParameters: { StateMachineArn: stateMachineArn, Input: "$request.querystring.input", Name: "$request.querystring.name" },
      }),
      declared("aws:apigatewayv2/integration:Integration", "fn", "int-fn", {
        apiId: "api1",
        integrationType: "AWS_PROXY",
        integrationUri:
          "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:items/invocations",
        payloadFormatVersion: "2.0",
      }),
      declared("aws:apigatewayv2/route:Route", "r1", "route-1", {
        apiId: "api1",
        routeKey: "GET /start",
        target: "integrations/int-start",
      }),
      declared("aws:apigatewayv2/route:Route", "r2", "route-2", {
        apiId: "api1",
        routeKey: "GET /secure",
        target: "integrations/int-start",
        authorizationType: "AWS_IAM",
      }),
      declared("aws:apigatewayv2/route:Route", "r3", "route-3", {
        apiId: "api1",
        routeKey: "ANY /items/{id}",
        target: "integrations/int-fn",
      }),
      declared("aws:apigatewayv2/stage:Stage", "stage", "$default", { apiId: "api1", name: "$default" }),
    ];
    for (const resource of resources) await service.provision(resource, resources);
    server = http.createServer(async (req, res) => service.handle(req, res, await readBody(req)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it("starts an execution with the mapped parameters and answers {executionArn, startDate} with startDate in epoch seconds", async () => {
    const response = await fetch(`${origin}/start?input=${encodeURIComponent('{"outcome":"success"}')}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      executionArn: "arn:aws:states:us-east-1:123456789012:execution:demo:e1",
      startDate: 1_795_000_000.123,
    });
    assert.deepEqual(calls.at(-1), { operation: "StartExecution", request: { stateMachineArn, input: '{"outcome":"success"}' } });
  });

  it("passes a Step Functions error through with status 400 and its error code", async () => {
    const response = await fetch(`${origin}/start?name=taken`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { __type: "ExecutionAlreadyExists", message: "Execution Already Exists: 'taken'" });
  });

  it("answers 403 {message: Forbidden} to an unsigned request on an AWS_IAM route, and serves a signed one", async () => {
    const unsigned = await fetch(`${origin}/secure`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { message: "Forbidden" });
    const signed = await fetch(`${origin}/secure`, {
      headers: {
        Authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=ab",
      },
    });
    assert.equal(signed.status, 200);
  });

  it("invokes the Lambda proxy integration with a 2.0 event and maps its response", async () => {
    const response = await fetch(`${origin}/items/7`, { method: "PUT", body: "x" });
    assert.equal(response.status, 202);
    assert.equal(await response.text(), "item 7");
    const invocation = invocations.at(-1)!;
    assert.equal(invocation.functionName, "arn:aws:lambda:us-east-1:123456789012:function:items");
    assert.equal(invocation.invocationType, "RequestResponse");
    assert.equal(JSON.parse(invocation.payload).routeKey, "ANY /items/{id}");
  });

  it("answers 404 {message: Not Found} when no route matches", async () => {
    const response = await fetch(`${origin}/start`, { method: "POST" });
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { message: "Not Found" });
    assert.ok(response.headers.get("apigw-requestid"));
  });
});
