/**
 * Every supported intrinsic function, by name. To add one, add it to its family's table.
 * The families are listed in the order the parser names them when it meets an unknown function.
 */
import type { IntrinsicFunction } from "./arguments";
import { ARRAY_FUNCTIONS } from "./functions/array";
import { CONVERSION_FUNCTIONS } from "./functions/conversion";
import { ENCODING_FUNCTIONS } from "./functions/encoding";
import { MATH_FUNCTIONS } from "./functions/math";
import { OBJECT_FUNCTIONS } from "./functions/object";
import { STRING_FUNCTIONS } from "./functions/string";
import { UUID_FUNCTIONS } from "./functions/uuid";

export const INTRINSIC_FUNCTIONS: ReadonlyMap<string, IntrinsicFunction> = new Map(
  [CONVERSION_FUNCTIONS, ARRAY_FUNCTIONS, ENCODING_FUNCTIONS, OBJECT_FUNCTIONS, MATH_FUNCTIONS, STRING_FUNCTIONS, UUID_FUNCTIONS].flatMap(
    (family) => Object.entries(family),
  ),
);

/** Names of every supported intrinsic function. */
export const INTRINSIC_FUNCTION_NAMES: readonly string[] = [...INTRINSIC_FUNCTIONS.keys()];

/** "exactly 1 argument", "at least 1 argument", "2 to 3 arguments". */
export function describeArity(definition: IntrinsicFunction): string {
  const plural = (count: number) => `${count} argument${count === 1 ? "" : "s"}`;
  if (definition.minArgs === definition.maxArgs) return `exactly ${plural(definition.minArgs)}`;
  if (definition.maxArgs === Infinity) return `at least ${plural(definition.minArgs)}`;
  return `${definition.minArgs} to ${definition.maxArgs} arguments`;
}
