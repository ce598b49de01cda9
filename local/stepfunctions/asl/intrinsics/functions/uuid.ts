/** States.UUID: a random version 4 UUID. */
import { randomUUID } from "node:crypto";
import type { IntrinsicFunctionTable } from "../arguments";

export const UUID_FUNCTIONS: IntrinsicFunctionTable = {
  "States.UUID": {
    minArgs: 0,
    maxArgs: 0,
    run: () => randomUUID(),
  },
};
