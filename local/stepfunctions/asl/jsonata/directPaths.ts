/**
 * A shortcut for the expressions most fields hold: `$states.input.a.b`, `$name.x`, and comparisons of
 * such paths with literals (`$states.input.count < 0`). The jsonata library evaluates every expression
 * through promises, step by step, which costs a state machine more than the rest of a transition; these
 * shapes are read directly instead. Whenever the data could make JSONata's answer differ (an array on
 * the way, where JSONata maps over items; nothing found; operands that are not two numbers or two
 * strings), the shortcut steps aside and the library evaluates the expression as usual.
 */
import type jsonata from "jsonata";

/** Returned when the shortcut cannot answer exactly as JSONata would. */
export const NOT_DIRECT = Symbol("notDirect");

export type DirectEvaluator = (bindings: Record<string, unknown>) => unknown;

const COMPARISONS: Record<string, (left: number | string, right: number | string) => boolean> = {
  "<": (left, right) => left < right,
  "<=": (left, right) => left <= right,
  ">": (left, right) => left > right,
  ">=": (left, right) => left >= right,
  "=": (left, right) => left === right,
  "!=": (left, right) => left !== right,
};

function hasOnlyKeys(node: object, allowed: readonly string[]): boolean {
  return Object.keys(node).every((key) => allowed.includes(key));
}

/** A direct evaluator for `expression`'s syntax tree, or undefined when it has another shape. */
export function directEvaluator(ast: jsonata.ExprNode): DirectEvaluator | undefined {
  const operand = directOperand(ast);
  if (operand) return operand;
  if (ast.type !== "binary" || !hasOnlyKeys(ast, ["type", "value", "position", "lhs", "rhs"])) return undefined;
  const compare = COMPARISONS[ast.value as string];
  const left = directOperand(ast.lhs as jsonata.ExprNode);
  const right = directOperand(ast.rhs as jsonata.ExprNode);
  if (!compare || !left || !right) return undefined;
  return (bindings) => {
    const leftValue = left(bindings);
    const rightValue = right(bindings);
    const bothNumbers = typeof leftValue === "number" && typeof rightValue === "number";
    const bothStrings = typeof leftValue === "string" && typeof rightValue === "string";
    return bothNumbers || bothStrings ? compare(leftValue, rightValue) : NOT_DIRECT;
  };
}

function directOperand(node: jsonata.ExprNode): DirectEvaluator | undefined {
  if ((node.type === "number" || node.type === "string") && hasOnlyKeys(node, ["type", "value", "position"])) {
    const value = node.value;
    return () => value;
  }
  if (node.type === "variable" && node.value !== "" && hasOnlyKeys(node, ["type", "value", "position"])) {
    return pathReader(node.value as string, []);
  }
  if ((node.type as string) !== "path" || !hasOnlyKeys(node, ["type", "steps", "position"]) || !node.steps || node.steps.length < 2)
    return undefined;
  const [first, ...rest] = node.steps;
  if (first.type !== "variable" || first.value === "" || !hasOnlyKeys(first, ["type", "value", "position"])) return undefined;
  if (!rest.every((step) => step.type === "name" && hasOnlyKeys(step, ["type", "value", "position"]))) return undefined;
  return pathReader(
    first.value as string,
    rest.map((step) => step.value as string),
  );
}

function pathReader(variable: string, names: string[]): DirectEvaluator {
  return (bindings) => {
    let value: unknown = Object.hasOwn(bindings, variable) ? bindings[variable] : undefined;
    for (const name of names) {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return NOT_DIRECT;
      value = Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
    }
    // Arrays (JSONata's sequences) and nothing-found keep the library's exact semantics.
    if (value === undefined || Array.isArray(value) || typeof value === "function") return NOT_DIRECT;
    return value;
  };
}
