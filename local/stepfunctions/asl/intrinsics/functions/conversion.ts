/** Functions that turn values into strings and back: States.Format, States.StringToJson, States.JsonToString. */
import type { IntrinsicFunctionTable } from "../arguments";

export const CONVERSION_FUNCTIONS: IntrinsicFunctionTable = {
  "States.Format": {
    minArgs: 1,
    maxArgs: Infinity,
    run(args) {
      const template = args.call.args[0];
      // A literal template keeps `\{\}` apart from placeholders; a template read from a path has no escapes.
      const parts = template.kind === "string" ? template.formatParts : args.string(0).split("{}");
      const values = args.values.slice(1);
      if (parts.length - 1 !== values.length) {
        throw args.failure(`the template has ${parts.length - 1} '{}' placeholder(s) but ${values.length} value(s) were given`);
      }
      return parts.reduce((text, part, index) => text + formatValue(values[index - 1]) + part);
    },
  },
  "States.StringToJson": {
    minArgs: 1,
    maxArgs: 1,
    run(args) {
      const text = args.string(0);
      // Recorded on AWS: an empty or all-whitespace string gives null rather than failing.
      if (text.trim() === "") return null;
      try {
        return JSON.parse(text);
      } catch (error) {
        throw args.failure(`argument 1 is not valid JSON (${(error as Error).message})`);
      }
    },
  },
  "States.JsonToString": {
    minArgs: 1,
    maxArgs: 1,
    run: (args) => JSON.stringify(args.values[0]),
  },
};

/** How States.Format renders a non-string value (as AWS's Java runtime prints it: `{a=1, b=[x, y]}`). */
function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}=${formatValue(item)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}
