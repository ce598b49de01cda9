/** JSON object manipulation: States.JsonMerge. */
import type { IntrinsicFunctionTable } from "../arguments";

export const OBJECT_FUNCTIONS: IntrinsicFunctionTable = {
  "States.JsonMerge": {
    minArgs: 3,
    maxArgs: 3,
    run(args) {
      const first = args.object(0);
      const second = args.object(1);
      if (args.boolean(2)) throw args.failure("only the shallow merge is supported, as on AWS: argument 3 must be false");
      return { ...first, ...second };
    },
  },
};
