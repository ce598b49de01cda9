/**
 * Evaluation of a parsed intrinsic call: arguments first (literals, `$`/`$$` paths, nested calls), then the
 * function from the registry.
 */
import { StatesError, STATES_ERRORS } from "../../errors";
import { isContextPath, PathNotFoundError, readPath } from "../pathReader";
import { IntrinsicArguments } from "./arguments";
import { parseIntrinsic } from "./parser";
import { INTRINSIC_FUNCTIONS } from "./registry";
import { IntrinsicSyntaxError, type IntrinsicArgument, type IntrinsicCall } from "./syntax";

/** Where an intrinsic is evaluated, for error messages. */
export interface IntrinsicOptions {
  /** The payload template field holding the expression, e.g. "message.$". */
  field?: string;
}

interface Evaluation {
  expression: string;
  input: unknown;
  context: unknown;
  field?: string;
}

/**
 * Evaluates an intrinsic function call against the state's effective input (`$...` arguments) and the
 * context object (`$$...` arguments). Malformed expressions and wrong arguments fail with
 * `States.IntrinsicFailure`; a path argument selecting nothing fails with `States.Runtime`, like any path
 * in a payload template.
 */
export function evaluateIntrinsic(expression: string, input: unknown, context: unknown, options: IntrinsicOptions = {}): unknown {
  let call: IntrinsicCall;
  try {
    call = parseIntrinsic(expression);
  } catch (error) {
    if (error instanceof IntrinsicSyntaxError) throw new StatesError(STATES_ERRORS.IntrinsicFailure, error.message);
    throw error;
  }
  return evaluateCall(call, { expression, input, context, field: options.field });
}

function evaluateCall(call: IntrinsicCall, evaluation: Evaluation): unknown {
  // The parser only builds calls to registered functions.
  const definition = INTRINSIC_FUNCTIONS.get(call.name)!;
  const values = call.args.map((argument) => evaluateArgument(argument, evaluation));
  return definition.run(new IntrinsicArguments(values, call));
}

function evaluateArgument(argument: IntrinsicArgument, evaluation: Evaluation): unknown {
  switch (argument.kind) {
    case "string":
    case "number":
    case "boolean":
      return argument.value;
    case "null":
      return null;
    case "call":
      return evaluateCall(argument, evaluation);
    case "path":
      try {
        return readPath(argument.path, evaluation.input, evaluation.context);
      } catch (error) {
        if (!(error instanceof PathNotFoundError)) throw error;
        const source = JSON.stringify((isContextPath(argument.path) ? evaluation.context : evaluation.input) ?? null);
        const where = evaluation.field ? `the field '${evaluation.field}'` : `the intrinsic function '${evaluation.expression}'`;
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `The JSONPath '${argument.path}' specified for ${where} could not be found in the input '${source}'`,
        );
      }
  }
}
