import assert from "node:assert/strict";
import { StatesError } from "../../../local/stepfunctions/errors";

/** Asserts that `action` throws a StatesError named `error` whose cause equals `cause` (or matches it). */
export function assertThrowsStatesError(action: () => unknown, error: string, cause?: string | RegExp): StatesError {
  let thrown: unknown;
  try {
    action();
  } catch (caught) {
    thrown = caught;
  }
  assert.ok(thrown instanceof StatesError, `expected a StatesError ${error}, got ${thrown === undefined ? "no error" : String(thrown)}`);
  assert.equal(thrown.error, error, `cause was: ${thrown.cause}`);
  if (typeof cause === "string") assert.equal(thrown.cause, cause);
  else if (cause) assert.match(thrown.cause, cause);
  return thrown;
}
