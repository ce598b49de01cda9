/**
 * Reading a Path (`$.a.b`, `$$.Execution.Id`, `$.items[?(@.x)]`) from a state's data or the context object.
 * Its own module because both the input/output processing (`paths.ts`) and the intrinsic functions'
 * path arguments read paths, and the template processing in `paths.ts` evaluates intrinsics.
 */
import { JSONPath } from "jsonpath-plus";
import { StatesError, STATES_ERRORS } from "../errors";

/** Thrown by `readPath` when a path selects nothing; each caller turns it into the error AWS reports there. */
export class PathNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`The JSONPath '${path}' selects nothing`);
    this.name = "PathNotFoundError";
  }
}

/** Whether `path` starts with `$$`, i.e. reads the context object instead of the state's input. */
export function isContextPath(path: string): boolean {
  return path.startsWith("$$");
}

/**
 * Whether a path can select at most one node (no wildcard, deep scan, filter, script, slice or union).
 * AWS returns the node itself for such a path and an array of matches for any other.
 * Scans the text itself because jsonpath-plus's tokens lose the difference between `['a:b']` (a name)
 * and `[a:b]` (a slice).
 */
export function isDefinitePath(path: string): boolean {
  let quote: string | null = null;
  let bracketDepth = 0;
  for (let index = 0; index < path.length; index++) {
    const char = path[index];
    if (quote) {
      if (char === "\\") index++;
      else if (char === quote) quote = null;
      continue;
    }
    if ((char === "'" || char === '"') && bracketDepth > 0) quote = char;
    else if (char === "[") bracketDepth++;
    else if (char === "]") bracketDepth--;
    else if (char === "*") return false;
    else if (char === "." && path[index + 1] === ".") return false;
    else if (bracketDepth > 0 && (char === "?" || char === "(" || char === ":" || char === ",")) return false;
  }
  return true;
}

/**
 * The workflow variables a path reads as `$name...`, carried by the context object under this symbol so
 * that every reader of paths (templates, intrinsic arguments, Choice rules) sees them without one more
 * parameter; a symbol key never appears in `$$` or in JSON.
 */
export const VARIABLES = Symbol("workflowVariables");
const VARIABLE_PATH = /^\$([\p{L}_][\p{L}\p{Nd}_]*)(.*)$/su;

/**
 * Evaluates a Path: `$...` against `data`, `$$...` against `context` (the context object), `$name...`
 * against the workflow variable `name`. A definite path returns the selected value; an indefinite one
 * (wildcard, filter, slice, ...) returns the array of selected values, `[]` when it matches nothing, as on
 * AWS. Throws `PathNotFoundError` when a definite path selects nothing, and `States.Runtime` when the
 * path cannot be evaluated.
 */
export function readPath(path: string, data: unknown, context?: unknown): unknown {
  const { source, variable, jsonPath, compiled } = pathSource(path);
  let target: unknown = data;
  if (source === "context") target = context;
  else if (source === "variable") {
    const variables = (context as { [VARIABLES]?: Record<string, unknown> } | undefined)?.[VARIABLES];
    if (!variables || !Object.hasOwn(variables, variable!)) throw new PathNotFoundError(path);
    target = variables[variable!];
  }
  if (target === undefined) throw new PathNotFoundError(path);
  // Definite paths are walked here: jsonpath-plus reads `$['a, b']` as a union of 'a' and ' b' and
  // finds `length` on arrays and strings, where AWS (Jayway JsonPath) does neither.
  if (compiled.steps) return walkSteps(path, target, compiled.steps);
  let matches: unknown[];
  try {
    matches = JSONPath({ path: jsonPath, json: target as object, wrap: true });
  } catch (error) {
    throw new StatesError(STATES_ERRORS.Runtime, `Invalid path '${path}': ${(error as Error).message}`);
  }
  if (compiled.definite) {
    if (!Array.isArray(matches) || matches.length === 0) throw new PathNotFoundError(path);
    return matches[0];
  }
  // AWS: a wildcard, slice or filter that matches nothing (`$.items[*]` on `{}`) is `[]`, not an error.
  return Array.isArray(matches) ? matches : [];
}

/** What a Path reads (the state's data, the context object or a variable) and the JSONPath it applies there. */
interface PathSource {
  source: "data" | "context" | "variable";
  variable?: string;
  jsonPath: string;
  compiled: CompiledPath;
}

/** Paths come from definitions and are read at every run of their state: each is taken apart once. */
const pathSources = new Map<string, PathSource>();

function pathSource(path: string): PathSource {
  let found = pathSources.get(path);
  if (!found) {
    const variable = isContextPath(path) ? null : VARIABLE_PATH.exec(path);
    if (isContextPath(path)) found = { source: "context", jsonPath: path.slice(1), compiled: compilePath(path.slice(1)) };
    else if (variable)
      found = { source: "variable", variable: variable[1], jsonPath: `$${variable[2]}`, compiled: compilePath(`$${variable[2]}`) };
    else found = { source: "data", jsonPath: path, compiled: compilePath(path) };
    if (pathSources.size >= COMPILED_PATH_LIMIT) pathSources.clear();
    pathSources.set(path, found);
  }
  return found;
}

export interface CompiledPath {
  definite: boolean;
  /** The steps of a definite path in simple notation; null when jsonpath-plus must evaluate it. */
  steps: PathStep[] | null;
}

/** Paths come from definitions, so there are few of them and each is read once per state run. */
const compiledPaths = new Map<string, CompiledPath>();
const COMPILED_PATH_LIMIT = 5_000;

export function compilePath(jsonPath: string): CompiledPath {
  let compiled = compiledPaths.get(jsonPath);
  if (!compiled) {
    const definite = isDefinitePath(jsonPath);
    compiled = { definite, steps: definite ? pathSteps(jsonPath) : null };
    if (compiledPaths.size >= COMPILED_PATH_LIMIT) compiledPaths.clear();
    compiledPaths.set(jsonPath, compiled);
  }
  return compiled;
}

function walkSteps(path: string, target: unknown, steps: PathStep[]): unknown {
  let node = target;
  for (const step of steps) {
    if (step.kind === "field") {
      if (node === null || typeof node !== "object" || Array.isArray(node) || !Object.hasOwn(node, step.name)) {
        throw new PathNotFoundError(path);
      }
      node = (node as Record<string, unknown>)[step.name];
    } else {
      if (!Array.isArray(node) || step.index >= node.length) throw new PathNotFoundError(path);
      node = node[step.index];
    }
  }
  return node;
}

export type PathStep = { kind: "field"; name: string } | { kind: "index"; index: number };

/**
 * Splits a path written only with `.name`, `['name']`, `["name"]` and `[0]` steps; returns null for any
 * other syntax (wildcards, filters, ...).
 */
export function pathSteps(path: string): PathStep[] | null {
  if (!path.startsWith("$")) return null;
  const steps: PathStep[] = [];
  const pattern = /\.([^.[\]'"*]+)|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*(\d+)\s*\]/y;
  let position = 1;
  while (position < path.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(path);
    if (!match) return null;
    if (match[4] !== undefined) steps.push({ kind: "index", index: Number(match[4]) });
    else steps.push({ kind: "field", name: (match[1] ?? match[2] ?? match[3]).replace(/\\(.)/g, "$1") });
    position = pattern.lastIndex;
  }
  return steps;
}
