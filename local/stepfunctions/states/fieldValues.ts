/**
 * Scalar fields of JSONata states that may be written as a literal or as `{% %}` (Wait Seconds, Task
 * TimeoutSeconds, Map MaxConcurrency, Fail Error, ...): the evaluated value must have the field's type,
 * else `States.QueryEvaluationError` in AWS's "unexpected result type" words.
 */
import { jsonataExpressionText, unexpectedResultType } from "../asl/jsonata/evaluate";
import type { StateRun } from "../interpreter";

export async function integerField(run: StateRun, value: number | string, field: string, minimum: number): Promise<number> {
  const text = jsonataExpressionText(value);
  if (text === undefined) return value as number;
  const result = await run.evaluate(value, field);
  if (typeof result !== "number" || !Number.isInteger(result) || result < minimum) {
    throw unexpectedResultType(text, field, minimum > 0 ? "positive integer" : "non-negative integer", result);
  }
  return result;
}

export async function stringField(run: StateRun, value: string, field: string): Promise<string> {
  const text = jsonataExpressionText(value);
  if (text === undefined) return value;
  const result = await run.evaluate(value, field);
  if (typeof result !== "string") throw unexpectedResultType(text, field, "string", result);
  return result;
}
