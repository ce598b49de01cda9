/**
 * Lambda proxy integrations of HTTP APIs: the event a function receives and how its response becomes the
 * HTTP response, for payload format versions 2.0 and 1.0.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import type { InvokeResult } from "../common/invoker";
import type { ApiRequest } from "./request";

export type PayloadFormatVersion = "1.0" | "2.0";

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  /** Set-Cookie values, sent as separate headers. */
  cookies: string[];
  body: Buffer;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

export function buildLambdaEvent(request: ApiRequest, version: PayloadFormatVersion): Record<string, unknown> {
  const contentType = request.headers["content-type"] ?? "";
  // API Gateway base64-encodes bodies it does not recognise as text.
  const isBase64Encoded = request.body.length > 0 && !TEXT_TYPES.test(contentType) && contentType !== "";
  const body = request.body.length === 0 ? undefined : request.body.toString(isBase64Encoded ? "base64" : "utf8");
  const queryStringParameters = request.query.size
    ? Object.fromEntries([...request.query].map(([name, values]) => [name, values.join(",")]))
    : undefined;
  const pathParameters = Object.keys(request.pathParameters).length ? request.pathParameters : undefined;
  const time = new Date(request.timeEpoch);
  if (version === "2.0") {
    const { cookie, ...headers } = request.headers;
    return {
      version: "2.0",
      routeKey: request.routeKey,
      rawPath: request.rawPath,
      rawQueryString: request.rawQueryString,
      ...(cookie ? { cookies: cookie.split(/;\s*/) } : {}),
      headers,
      ...(queryStringParameters ? { queryStringParameters } : {}),
      requestContext: {
        accountId: request.accountId,
        apiId: request.apiId,
        domainName: request.domainName,
        domainPrefix: request.domainName.split(".")[0],
        http: {
          method: request.method,
          path: request.rawPath,
          protocol: "HTTP/1.1",
          sourceIp: request.sourceIp,
          userAgent: request.headers["user-agent"] ?? "",
        },
        requestId: request.requestId,
        routeKey: request.routeKey,
        stage: request.stage,
        time: time.toUTCString(),
        timeEpoch: request.timeEpoch,
      },
      ...(body !== undefined ? { body } : {}),
      ...(pathParameters ? { pathParameters } : {}),
      isBase64Encoded,
    };
  }
  return {
    version: "1.0",
    resource: request.routeKey.split(" ")[1] ?? request.routeKey,
    path: request.rawPath,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, value.split(",")])),
    queryStringParameters: queryStringParameters ?? null,
    multiValueQueryStringParameters: request.query.size ? Object.fromEntries(request.query) : null,
    requestContext: {
      accountId: request.accountId,
      apiId: request.apiId,
      domainName: request.domainName,
      httpMethod: request.method,
      path: request.rawPath,
      protocol: "HTTP/1.1",
      requestId: request.requestId,
      requestTimeEpoch: request.timeEpoch,
      resourcePath: request.routeKey.split(" ")[1] ?? request.routeKey,
      stage: request.stage,
      identity: { sourceIp: request.sourceIp, userAgent: request.headers["user-agent"] ?? "" },
    },
    pathParameters: pathParameters ?? null,
    stageVariables: null,
    body: body ?? null,
    isBase64Encoded,
  };
}

const INTERNAL_ERROR: HttpResult = jsonResult(500, { message: "Internal Server Error" });

/** Maps a function's invocation result to the HTTP response API Gateway sends. */
export function mapLambdaResponse(result: InvokeResult, version: PayloadFormatVersion): HttpResult {
  if (result.functionError) return INTERNAL_ERROR;
  let response: any;
  try {
    response = JSON.parse(result.payload);
  } catch {
    return INTERNAL_ERROR;
  }
  const structured = response !== null && typeof response === "object" && !Array.isArray(response) && "statusCode" in response;
  if (!structured) {
    // Format 2.0 infers a 200 JSON response from any other valid JSON; format 1.0 requires the structure.
    if (version === "1.0") return INTERNAL_ERROR;
    return { statusCode: 200, headers: { "content-type": "application/json" }, cookies: [], body: Buffer.from(result.payload) };
  }
  const statusCode = Number(response.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return INTERNAL_ERROR;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries<any>(response.headers ?? {})) headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries<any>(response.multiValueHeaders ?? {})) {
    if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String).join(",");
  }
  const rawBody =
    response.body === undefined || response.body === null
      ? ""
      : typeof response.body === "string"
        ? response.body
        : JSON.stringify(response.body);
  const body = response.isBase64Encoded ? Buffer.from(rawBody, "base64") : Buffer.from(rawBody);
  const cookies = Array.isArray(response.cookies) ? response.cookies.map(String) : [];
  return { statusCode, headers, cookies, body };
}

export function jsonResult(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, cookies: [], body: Buffer.from(JSON.stringify(body)) };
}
