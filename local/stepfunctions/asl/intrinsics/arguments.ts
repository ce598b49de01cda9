/**
 * What every intrinsic function is made of: its arity and an implementation that reads its arguments
 * through `IntrinsicArguments`, which knows the function's name so that no implementation repeats it in
 * its error messages.
 */
import { StatesError, STATES_ERRORS } from "../../errors";
import { exceedsPayloadLimit, PAYLOAD_LIMIT_BYTES } from "../../limits";
import type { IntrinsicCall } from "./syntax";

export interface IntrinsicFunction {
  minArgs: number;
  maxArgs: number;
  run(args: IntrinsicArguments): unknown;
}

/** A family of intrinsic functions, keyed by full name ("States.Format"). */
export type IntrinsicFunctionTable = Record<string, IntrinsicFunction>;

/** The string functions (Base64, Hash) accept at most this many characters. */
const STRING_LIMIT_CHARACTERS = 10_000;

/** The evaluated arguments of one call, with the checks and errors the functions share. */
export class IntrinsicArguments {
  constructor(
    /** The arguments' values, in order. */
    readonly values: unknown[],
    /** The parsed call (States.Format reads its literal template from it). */
    readonly call: IntrinsicCall,
  ) {}

  get length(): number {
    return this.values.length;
  }

  /** A `States.IntrinsicFailure` naming this function. */
  failure(message: string): StatesError {
    return new StatesError(STATES_ERRORS.IntrinsicFailure, `${this.call.name}: ${message}`);
  }

  array(index: number): unknown[] {
    const value = this.values[index];
    if (!Array.isArray(value)) throw this.failure(`argument ${index + 1} must be an array, received ${describeValue(value)}`);
    return value;
  }

  string(index: number): string {
    const value = this.values[index];
    if (typeof value !== "string") throw this.failure(`argument ${index + 1} must be a string, received ${describeValue(value)}`);
    return value;
  }

  object(index: number): Record<string, unknown> {
    const value = this.values[index];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw this.failure(`argument ${index + 1} must be a JSON object, received ${describeValue(value)}`);
    }
    return value as Record<string, unknown>;
  }

  boolean(index: number): boolean {
    const value = this.values[index];
    if (typeof value !== "boolean") throw this.failure(`argument ${index + 1} must be a boolean, received ${describeValue(value)}`);
    return value;
  }

  /** AWS rounds non-integer numeric arguments to the nearest integer (documented per function). */
  integer(index: number): number {
    const value = this.values[index];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw this.failure(`argument ${index + 1} must be a number, received ${describeValue(value)}`);
    }
    return Math.round(value);
  }

  /** Step Functions' payload quota, which the array functions' inputs may not exceed. */
  expectWithinPayloadLimit(value: unknown): void {
    if (exceedsPayloadLimit(JSON.stringify(value))) {
      throw this.failure(`the input array exceeds the payload limit of ${PAYLOAD_LIMIT_BYTES} bytes`);
    }
  }

  expectShortString(value: string): void {
    if (value.length > STRING_LIMIT_CHARACTERS) {
      throw this.failure(`the input string has ${value.length} characters; the limit is ${STRING_LIMIT_CHARACTERS}`);
    }
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
