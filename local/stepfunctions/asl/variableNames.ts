/**
 * What a workflow variable may be called: letters, digits and `_`, not starting with a digit, at most 80
 * characters; `states` is reserved for JSONata's `$states`.
 * https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
 */
export const VARIABLE_NAME = /^[\p{L}_][\p{L}\p{Nd}_]{0,79}$/u;
export const RESERVED_VARIABLE = "states";
