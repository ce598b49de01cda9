/**
 * dynalite parses every request's expressions (UpdateExpression, ConditionExpression, KeyConditionExpression,
 * FilterExpression, ProjectionExpression) with generated PEG parsers, which under the pipeline's load were close
 * to half of dynalite's time: each chunk sends the same three expressions with the same names and values. This
 * memoizes the parsers' results by expression, names and values, so a repeated expression is parsed once.
 *
 * dynalite offers no hook for this, so its parser modules' `parse` functions are wrapped in place (dynalite
 * calls them through the module objects). What a parse does besides returning the tree is replayed on a hit:
 * it marks the names and values the expression used (dynalite then reports the unused ones as AWS does), and
 * a failed parse is never cached (it throws again, with the same message). dynalite rewrites parts of an update
 * tree while applying it (`SET a = b + :x` resolves `b` per item), so every caller gets its own copy.
 */

type ParseContext = {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
  [other: string]: unknown;
};
type Parser = { parse(input: string, options: { context: ParseContext }): unknown; [memoized]?: true };

const memoized = Symbol("memoized by the local runtime");
/** Distinct expressions kept per parser; a program sends a handful, so the bound only guards against a flood of unique ones. */
const MAX_ENTRIES = 1000;
/**
 * Longest key (expression, names and values as JSON) worth keeping: the values are part of it (an item's body can
 * be 400 KB), and a stream of large unique values must not fill memory with trees nobody asks for again.
 */
const MAX_KEY_LENGTH = 4096;

interface CachedParse {
  tree: unknown;
  usedNames: string[];
  usedValues: string[];
}

/** Wraps dynalite's expression parsers (once per process; dynalite's modules are shared by every instance). */
export function memoizeDynaliteExpressions(): void {
  for (const name of ["conditionParser", "updateParser", "projectionParser"]) {
    const parser: Parser = require(`dynalite/db/${name}`);
    if (parser[memoized]) continue;
    parser.parse = memoizedParse(parser.parse.bind(parser));
    parser[memoized] = true;
  }
}

function memoizedParse(parse: Parser["parse"]): Parser["parse"] {
  const cache = new Map<string, CachedParse>();
  return (input, options) => {
    const context = options.context;
    const key = JSON.stringify([input, context.attrNames ?? null, context.attrVals ?? null, context.isKeyCondition === true]);
    if (key.length > MAX_KEY_LENGTH) return parse(input, options);
    let cached = cache.get(key);
    if (!cached) {
      // A context of its own, every name and value unused: what this expression uses is then known whatever the
      // request's other expressions used before it.
      const probe: ParseContext = {
        ...context,
        unusedAttrNames: allUnused(context.attrNames),
        unusedAttrVals: allUnused(context.attrVals),
      };
      const tree = parse(input, { ...options, context: probe });
      cached = {
        tree: copyTree(tree),
        usedNames: Object.keys(context.attrNames ?? {}).filter((name) => !(name in probe.unusedAttrNames!)),
        usedValues: Object.keys(context.attrVals ?? {}).filter((name) => !(name in probe.unusedAttrVals!)),
      };
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(key, cached);
    }
    for (const name of cached.usedNames) if (context.unusedAttrNames) delete context.unusedAttrNames[name];
    for (const name of cached.usedValues) if (context.unusedAttrVals) delete context.unusedAttrVals[name];
    return copyTree(cached.tree);
  };
}

function allUnused(names: Record<string, unknown> | undefined): Record<string, boolean> {
  const unused: Record<string, boolean> = {};
  for (const name of Object.keys(names ?? {})) unused[name] = true;
  return unused;
}

/**
 * A deep copy of a parse tree (plain data: objects, arrays, strings, numbers, booleans). Not structuredClone: the
 * parsers build some maps with `Object.create(null)`, and a copy with Object's prototype would find "constructor"
 * or "toString" in them, names an attribute may have.
 */
function copyTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyTree);
  if (value === null || typeof value !== "object") return value;
  const copy = Object.create(Object.getPrototypeOf(value));
  for (const key of Object.keys(value)) copy[key] = copyTree((value as Record<string, unknown>)[key]);
  return copy;
}
