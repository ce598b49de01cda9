/**
 * The input the console's "Start execution" editor starts with. A definition may name one in its top-level
 * `Comment` ("... Example input: {"outcome": "success"}"), the one place of an ASL document meant for
 * people; otherwise the latest execution's input (most often the user wants to run it again); otherwise
 * `{}`. AWS's own console offers `{"Comment": "Insert your JSON here"}`, which no workflow expects.
 */

const EXAMPLE_MARKER = "Example input:";

export function defaultInputFor(definitionText: string, latestInput: string | undefined): string {
  const example = exampleFromComment(definitionText);
  if (example !== undefined) return JSON.stringify(example, null, 2);
  if (latestInput !== undefined) {
    try {
      return JSON.stringify(JSON.parse(latestInput), null, 2);
    } catch {
      return latestInput;
    }
  }
  return "{}";
}

/** The JSON value after "Example input:" in the definition's top-level Comment, if it parses. */
export function exampleFromComment(definitionText: string): unknown {
  let comment: unknown;
  try {
    comment = JSON.parse(definitionText).Comment;
  } catch {
    return undefined;
  }
  if (typeof comment !== "string") return undefined;
  const at = comment.indexOf(EXAMPLE_MARKER);
  if (at < 0) return undefined;
  const rest = comment.slice(at + EXAMPLE_MARKER.length).trim();
  // The example runs to the end of the comment, or to the longest prefix that is JSON.
  for (let end = rest.length; end > 0; end--) {
    try {
      return JSON.parse(rest.slice(0, end));
    } catch {
      // try a shorter prefix
    }
  }
  return undefined;
}
