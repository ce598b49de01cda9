/** The syntax tree of an intrinsic function call, shared by the parser, the evaluator and validation. */

/** One argument of an intrinsic call, as parsed. */
export type IntrinsicArgument =
  | {
      kind: "string";
      /** The literal with its escapes resolved. */
      value: string;
      /** The literal split on its unescaped `{}` placeholders (used when it is a States.Format template). */
      formatParts: string[];
    }
  | { kind: "number"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "path"; path: string }
  | IntrinsicCall;

export interface IntrinsicCall {
  kind: "call";
  /** Full name, e.g. "States.Format" */
  name: string;
  args: IntrinsicArgument[];
}

/** A malformed intrinsic expression: reported by validation, or as `States.IntrinsicFailure` at run time. */
export class IntrinsicSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
    readonly position: number,
  ) {
    super(`Invalid intrinsic function '${expression}': ${reason} (at character ${position + 1})`);
    this.name = "IntrinsicSyntaxError";
  }
}

/** Whether a `.$` field's value is an intrinsic function call rather than a path. */
export function isIntrinsic(value: string): boolean {
  return /^States\.[A-Za-z0-9]*\s*\(/.test(value);
}
