/** String manipulation: States.StringSplit. */
import type { IntrinsicFunctionTable } from "../arguments";

export const STRING_FUNCTIONS: IntrinsicFunctionTable = {
  "States.StringSplit": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const text = args.string(0);
      const delimiters = new Set(args.string(1));
      // Every character of the second argument is a delimiter; AWS leaves out empty pieces.
      const pieces: string[] = [];
      let current = "";
      for (const char of text) {
        if (delimiters.has(char)) {
          if (current) pieces.push(current);
          current = "";
        } else {
          current += char;
        }
      }
      if (current) pieces.push(current);
      return pieces;
    },
  },
};
