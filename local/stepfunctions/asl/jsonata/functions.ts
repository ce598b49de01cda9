/**
 * The functions Step Functions adds to JSONata, and the one it takes away (`$eval`: use `$parse`).
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html#jsonata-functions-provided-by-sfn
 *
 * A function that fails throws; the evaluator turns it into `States.QueryEvaluationError`.
 */
import { createHash, randomUUID } from "node:crypto";
import type jsonata from "jsonata";

/** The largest array `$range` builds, as for `States.ArrayRange`. */
const RANGE_LIMIT = 1_000;
/** `$hash` digests at most this many characters, as `States.Hash` does. */
const HASH_INPUT_LIMIT = 10_000;
const HASH_ALGORITHMS: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

export class JsonataFunctionError extends Error {}

function partition(array: unknown, size: unknown): unknown[][] {
  if (!Array.isArray(array))
    throw new JsonataFunctionError(`$partition: the first argument must be an array, received ${JSON.stringify(array)}`);
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw new JsonataFunctionError(`$partition: the size must be a positive integer, received ${JSON.stringify(size)}`);
  }
  const chunks: unknown[][] = [];
  for (let start = 0; start < array.length; start += size) chunks.push(array.slice(start, start + size));
  return chunks;
}

function range(start: unknown, end: unknown, step: unknown): number[] {
  for (const [name, value] of [
    ["start", start],
    ["end", end],
    ["step", step],
  ] as const) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new JsonataFunctionError(`$range: ${name} must be an integer, received ${JSON.stringify(value)}`);
    }
  }
  const [from, to, by] = [start as number, end as number, step as number];
  if (by === 0) throw new JsonataFunctionError("$range: step must not be 0");
  const values: number[] = [];
  for (let value = from; by > 0 ? value <= to : value >= to; value += by) {
    if (values.length === RANGE_LIMIT) throw new JsonataFunctionError(`$range: the result would have more than ${RANGE_LIMIT} items`);
    values.push(value);
  }
  return values;
}

function hash(data: unknown, algorithm: unknown): string {
  if (typeof data !== "string") throw new JsonataFunctionError(`$hash: the data must be a string, received ${JSON.stringify(data)}`);
  if (data.length > HASH_INPUT_LIMIT) throw new JsonataFunctionError(`$hash: the data must be at most ${HASH_INPUT_LIMIT} characters`);
  const nodeAlgorithm = typeof algorithm === "string" ? HASH_ALGORITHMS[algorithm] : undefined;
  if (!nodeAlgorithm) {
    throw new JsonataFunctionError(
      `$hash: the algorithm must be one of ${Object.keys(HASH_ALGORITHMS).join(", ")}, received ${JSON.stringify(algorithm)}`,
    );
  }
  return createHash(nodeAlgorithm).update(data, "utf8").digest("hex");
}

/** With a seed, the same seed gives the same number (derived from a digest of the seed, not AWS's generator). */
export function random(seed?: unknown): number {
  if (seed === undefined) return Math.random();
  if (typeof seed !== "number" || !Number.isInteger(seed))
    throw new JsonataFunctionError(`$random: the seed must be an integer, received ${JSON.stringify(seed)}`);
  return createHash("sha256").update(String(seed)).digest().readUInt32BE(0) / 2 ** 32;
}

function parse(text: unknown): unknown {
  if (typeof text !== "string") throw new JsonataFunctionError(`$parse: the argument must be a string, received ${JSON.stringify(text)}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new JsonataFunctionError(`$parse: the argument is not valid JSON: ${(error as Error).message}`);
  }
}

function evalUnavailable(): never {
  throw new JsonataFunctionError("$eval is not available in Step Functions: use $parse");
}

/** Registers Step Functions' functions on a compiled expression (signatures in JSONata's own notation). */
export function registerStepFunctionsFunctions(expression: jsonata.Expression): void {
  expression.registerFunction("partition", partition, "<an:a>");
  expression.registerFunction("range", range, "<nnn:a>");
  expression.registerFunction("hash", hash, "<ss:s>");
  expression.registerFunction("random", random, "<n?:n>");
  expression.registerFunction("uuid", () => randomUUID(), "<:s>");
  expression.registerFunction("parse", parse, "<s:x>");
  expression.registerFunction("eval", evalUnavailable);
}
