/**
 * One request as an HTTP API sees it, and what API Gateway derives from it: `$context` variables and
 * `$request.*` parameter mapping values.
 * Parameter mapping: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html
 * Context variables: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
import { JSONPath } from "jsonpath-plus";

export interface ApiRequest {
  apiId: string;
  stage: string;
  routeKey: string;
  /** API Gateway's id for this request ($context.requestId), also sent back as `apigw-requestid`. */
  requestId: string;
  method: string;
  /** The path as received (including a named stage's prefix), as in the 2.0 event's `rawPath`. */
  rawPath: string;
  rawQueryString: string;
  /** Lower-cased names; repeated headers joined with commas, as API Gateway does. */
  headers: Record<string, string>;
  /** Query parameters; repeated ones keep every value. */
  query: Map<string, string[]>;
  pathParameters: Record<string, string>;
  body: Buffer;
  sourceIp: string;
  domainName: string;
  accountId: string;
  /** Request time in epoch milliseconds. */
  timeEpoch: number;
}

/** `$context.*` values an HTTP API offers. */
export function contextVariables(request: ApiRequest): Record<string, string> {
  return {
    accountId: request.accountId,
    apiId: request.apiId,
    domainName: request.domainName,
    domainPrefix: request.domainName.split(".")[0],
    httpMethod: request.method,
    path: request.rawPath,
    protocol: "HTTP/1.1",
    requestId: request.requestId,
    routeKey: request.routeKey,
    stage: request.stage,
    requestTime: formatClfTime(request.timeEpoch),
    requestTimeEpoch: String(request.timeEpoch),
    "identity.sourceIp": request.sourceIp,
    "identity.userAgent": request.headers["user-agent"] ?? "",
  };
}

/**
 * Evaluates one parameter-mapping value: a whole `$request.*`/`$context.*`/`$stageVariables.*` expression,
 * a static value, or a string with `${request.*}` parts. Undefined when an expression names nothing that
 * exists (API Gateway then leaves the parameter out).
 */
export function evaluateMapping(value: string, request: ApiRequest, stageVariables: Record<string, string> = {}): string | undefined {
  if (/^\$(request|context|stageVariables)\./.test(value) || value === "$request.body" || value === "$request.path") {
    return evaluateExpression(value.slice(1), request, stageVariables);
  }
  if (!value.includes("${")) return value;
  let missing = false;
  const result = value.replace(/\$\{([^}]+)\}/g, (_whole, expression: string) => {
    const resolved = evaluateExpression(expression, request, stageVariables);
    if (resolved === undefined) missing = true;
    return resolved ?? "";
  });
  return missing && result === "" ? undefined : result;
}

function evaluateExpression(expression: string, request: ApiRequest, stageVariables: Record<string, string>): string | undefined {
  if (expression === "request.body") return request.body.length > 0 ? request.body.toString("utf8") : undefined;
  if (expression === "request.path") return request.rawPath;
  const [, source, rest] =
    /^(request\.header|request\.querystring|request\.multivaluequerystring|request\.multivalueheader|request\.path|request\.body|context|stageVariables)\.(.+)$/.exec(
      expression,
    ) ?? [];
  switch (source) {
    case "request.header":
    case "request.multivalueheader":
      return request.headers[rest.toLowerCase()];
    case "request.querystring":
    case "request.multivaluequerystring":
      return request.query.get(rest)?.join(",");
    case "request.path":
      return request.pathParameters[rest];
    case "request.body":
      return bodyValue(request.body, rest);
    case "context":
      return contextVariables(request)[rest];
    case "stageVariables":
      return stageVariables[rest];
    default:
      return undefined;
  }
}

/** `$request.body.a.b` (a JSONPath below the body's root); objects come out as JSON text. */
function bodyValue(body: Buffer, path: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const [found] = JSONPath({ path: `$.${path}`, json: document as object, wrap: true }) as unknown[];
  if (found === undefined) return undefined;
  return typeof found === "string" ? found : JSON.stringify(found);
}

/** "24/Nov/2026:22:00:00 +0000", the Common Log Format time API Gateway uses for $context.requestTime. */
function formatClfTime(epochMs: number): string {
  const date = new Date(epochMs);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
