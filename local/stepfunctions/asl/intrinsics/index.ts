/**
 * Intrinsic functions of JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
 * https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
 *
 * `syntax.ts` holds the syntax tree, `parser.ts` builds it, `evaluator.ts` runs it, and `registry.ts` maps
 * each name to its arity and implementation (one file per family under `functions/`).
 */
export { evaluateIntrinsic, type IntrinsicOptions } from "./evaluator";
export { parseIntrinsic } from "./parser";
export { INTRINSIC_FUNCTION_NAMES } from "./registry";
export { IntrinsicSyntaxError, isIntrinsic, type IntrinsicArgument, type IntrinsicCall } from "./syntax";
