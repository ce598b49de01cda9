/**
 * ValidateStateMachineDefinition: the same checks as CreateStateMachine, answered as a list of diagnostics
 * instead of an `InvalidDefinition` error, plus AWS's warnings (which never make a definition fail).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html
 */
import { jsonPointer } from "./asl/jsonPointer";
import { DefinitionError, validateDefinition, type ValidateOptions } from "./asl/validate";

export type DiagnosticSeverity = "ERROR" | "WARNING";

export interface Diagnostic {
  severity: DiagnosticSeverity;
  code: string;
  message: string;
  /** A JSON pointer into the definition (`/States/Wait/Timestamp`), where the problem has one. */
  location?: string;
}

export interface ValidationAnswer {
  result: "OK" | "FAIL";
  diagnostics: Diagnostic[];
  truncated: boolean;
}

/** A problem's leading `CODE:` (AWS's diagnostic codes are upper snake case); local rules have none. */
const CODE_PREFIX = /^([A-Z][A-Z0-9_]+): /;
/** Where a message names its place: asl-validator starts with the pointer, AWS's own messages end with "at /...". */
const LEADING_POINTER = /^(\/\S*)/;
const TRAILING_POINTER = / at (\/\S*)$/;

function toDiagnostic(problem: string): Diagnostic {
  const codeMatch = CODE_PREFIX.exec(problem);
  const code = codeMatch ? codeMatch[1] : "SCHEMA_VALIDATION_FAILED";
  const message = codeMatch ? problem.slice(codeMatch[0].length) : problem;
  const trailing = TRAILING_POINTER.exec(message);
  const location = trailing?.[1] ?? LEADING_POINTER.exec(message)?.[1];
  // The location has its own member: the message keeps only what is wrong.
  const text = trailing ? message.slice(0, trailing.index) : message;
  return { severity: "ERROR", code, message: text, ...(location ? { location } : {}) };
}

/**
 * Runs the definition checks and lists what they found. `severity: "ERROR"` (AWS's default) lists errors
 * only; `"WARNING"` lists warnings too. `maxResults` (default 100) bounds the list, and `truncated` says so.
 */
export function diagnoseDefinition(
  definitionJson: string,
  options: ValidateOptions & { severity?: DiagnosticSeverity; maxResults?: number },
): ValidationAnswer {
  const errors: Diagnostic[] = [];
  let parsed: unknown;
  try {
    ({ definition: parsed } = validateDefinition(definitionJson, options));
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    errors.push(...error.problems.map(toDiagnostic));
  }
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(definitionJson);
    } catch {
      parsed = undefined;
    }
  }
  const warnings = options.severity === "WARNING" && parsed !== undefined ? definitionWarnings(parsed) : [];
  const all = [...errors, ...warnings];
  const limit = options.maxResults || 100;
  return { result: errors.length > 0 ? "FAIL" : "OK", diagnostics: all.slice(0, limit), truncated: all.length > limit };
}

/** A string that reads as a path or an intrinsic function. */
const LOOKS_LIKE_PATH = /^\$\$?(\.|\[|$)|^States\.[A-Za-z]+\(/;

/**
 * AWS's warnings: NO_DOLLAR (a payload-template field whose value reads as a path or an intrinsic but whose
 * name lacks `.$`, so the text is passed on literally) and NO_PATH (a path in a field whose name does not end
 * with `Path`, i.e. a literal where a path was likely meant: Pass `Result`).
 */
export function definitionWarnings(definition: unknown): Diagnostic[] {
  const warnings: Diagnostic[] = [];
  const visitTemplate = (template: unknown, pointer: string) => {
    if (template === null || typeof template !== "object") return;
    for (const [key, value] of Object.entries(template)) {
      const childPointer = jsonPointer(pointer, key);
      if (typeof value === "string" && !key.endsWith(".$") && LOOKS_LIKE_PATH.test(value)) {
        warnings.push({
          severity: "WARNING",
          code: "NO_DOLLAR",
          message: `The value of the field '${key}' looks like a path or an intrinsic function, but the field name does not end with '.$', so it is passed on as a literal string`,
          location: childPointer,
        });
      } else if (value !== null && typeof value === "object") visitTemplate(value, childPointer);
    }
  };
  const visitScope = (scope: unknown, pointer: string) => {
    if (scope === null || typeof scope !== "object") return;
    const states = (scope as { States?: unknown }).States;
    if (states === null || typeof states !== "object") return;
    for (const [name, state] of Object.entries(states as Record<string, any>)) {
      if (state === null || typeof state !== "object") continue;
      const statePointer = jsonPointer(`${pointer}/States`, name);
      for (const field of ["Parameters", "ResultSelector", "ItemSelector"]) visitTemplate(state[field], `${statePointer}/${field}`);
      if (state.Type === "Pass" && typeof state.Result === "string" && LOOKS_LIKE_PATH.test(state.Result)) {
        warnings.push({
          severity: "WARNING",
          code: "PASS_RESULT_IS_STATIC",
          message:
            "The Pass state's Result looks like a path, but Result is always static: use Parameters with a '.$' field to select input",
          location: `${statePointer}/Result`,
        });
      }
      if (Array.isArray(state.Branches))
        state.Branches.forEach((branch: unknown, index: number) => visitScope(branch, `${statePointer}/Branches/${index}`));
      for (const field of ["ItemProcessor", "Iterator"]) if (state[field]) visitScope(state[field], `${statePointer}/${field}`);
    }
  };
  visitScope(definition, "");
  return warnings;
}
