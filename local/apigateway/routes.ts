/**
 * HTTP API route keys and API Gateway's rule for picking one: the most specific match wins — literal
 * paths, then paths with variables, then greedy `{proxy+}`; a route for the request's method before `ANY`;
 * `$default` when nothing else matches.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
 */

export interface RouteKey {
  /** As declared: "GET /start", "ANY /items/{id}", "$default". */
  raw: string;
  /** Upper-case method or "ANY"; undefined for `$default`. */
  method?: string;
  segments: PathSegment[];
  isDefault: boolean;
}

export type PathSegment = { kind: "literal"; value: string } | { kind: "variable"; name: string } | { kind: "greedy"; name: string };

const METHODS = new Set(["ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** Parses a route key; throws with the reason API Gateway would give for a malformed one. */
export function parseRouteKey(raw: string): RouteKey {
  if (raw === "$default") return { raw, segments: [], isDefault: true };
  const match = /^([A-Za-z]+) (\/\S*)$/.exec(raw);
  if (!match || !METHODS.has(match[1].toUpperCase())) {
    throw new Error(`Route key "${raw}" is not "$default" or "<METHOD> /path" (methods: ${[...METHODS].join(", ")})`);
  }
  const segments = splitPath(match[2]).map((segment, index, all): PathSegment => {
    const variable = /^\{([A-Za-z0-9._-]+)(\+)?\}$/.exec(segment);
    if (!variable) {
      if (/[{}]/.test(segment)) throw new Error(`Route key "${raw}": segment "${segment}" must be a whole {variable}`);
      return { kind: "literal", value: segment };
    }
    if (variable[2] && index !== all.length - 1)
      throw new Error(`Route key "${raw}": a greedy variable {${variable[1]}+} must be the last segment`);
    return variable[2] ? { kind: "greedy", name: variable[1] } : { kind: "variable", name: variable[1] };
  });
  return { raw, method: match[1].toUpperCase(), segments, isDefault: false };
}

export interface RouteMatch<T> {
  route: T;
  pathParameters: Record<string, string>;
}

/** Picks the route API Gateway would pick for `method` and `path` (path without the stage prefix). */
export function matchRoute<T extends { key: RouteKey }>(routes: readonly T[], method: string, path: string): RouteMatch<T> | undefined {
  const requestSegments = splitPath(path);
  let best: { match: RouteMatch<T>; rank: number[] } | undefined;
  for (const route of routes) {
    const { key } = route;
    if (key.isDefault) continue;
    if (key.method !== "ANY" && key.method !== method.toUpperCase()) continue;
    const pathParameters = matchSegments(key.segments, requestSegments);
    if (!pathParameters) continue;
    const greedy = key.segments.filter((segment) => segment.kind === "greedy").length;
    const variables = key.segments.filter((segment) => segment.kind === "variable").length;
    const literals = key.segments.length - greedy - variables;
    // Lower is better, compared element by element.
    const rank = [greedy, variables, key.method === "ANY" ? 1 : 0, -literals];
    if (!best || compareRanks(rank, best.rank) < 0) best = { match: { route, pathParameters }, rank };
  }
  if (best) return best.match;
  const fallback = routes.find((route) => route.key.isDefault);
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

function matchSegments(pattern: readonly PathSegment[], request: readonly string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const segment = pattern[index];
    if (segment.kind === "greedy") {
      if (index >= request.length) return undefined; // {proxy+} needs at least one segment
      parameters[segment.name] = request.slice(index).map(safeDecode).join("/");
      return parameters;
    }
    if (index >= request.length) return undefined;
    if (segment.kind === "literal") {
      if (segment.value !== request[index]) return undefined;
    } else {
      parameters[segment.name] = safeDecode(request[index]);
    }
  }
  return pattern.length === request.length ? parameters : undefined;
}

function compareRanks(left: number[], right: number[]): number {
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return left[index] - right[index];
  return 0;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
