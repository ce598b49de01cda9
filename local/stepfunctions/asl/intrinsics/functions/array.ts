/** The array functions: States.Array, ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength, ArrayUnique. */
import { isDeepStrictEqual } from "node:util";
import { describeValue, type IntrinsicFunctionTable } from "../arguments";

const ARRAY_RANGE_LIMIT = 1_000;

export const ARRAY_FUNCTIONS: IntrinsicFunctionTable = {
  "States.Array": {
    minArgs: 0,
    maxArgs: Infinity,
    run: (args) => args.values,
  },
  "States.ArrayPartition": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const array = args.array(0);
      const chunkSize = args.integer(1);
      if (chunkSize <= 0) throw args.failure(`the chunk size must be a positive integer, received ${JSON.stringify(args.values[1])}`);
      args.expectWithinPayloadLimit(array);
      const chunks: unknown[][] = [];
      for (let start = 0; start < array.length; start += chunkSize) chunks.push(array.slice(start, start + chunkSize));
      return chunks;
    },
  },
  "States.ArrayContains": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const array = args.array(0);
      args.expectWithinPayloadLimit(array);
      return array.some((item) => isDeepStrictEqual(item, args.values[1]));
    },
  },
  "States.ArrayRange": {
    minArgs: 3,
    maxArgs: 3,
    run(args) {
      const [first, last, step] = [0, 1, 2].map((index) => args.integer(index));
      if (step === 0) throw args.failure("the step (argument 3) must not be zero");
      const count = Math.floor((last - first) / step) + 1;
      if (count > ARRAY_RANGE_LIMIT) throw args.failure(`the range would have ${count} items; the limit is ${ARRAY_RANGE_LIMIT}`);
      return Array.from({ length: Math.max(count, 0) }, (_, index) => first + index * step);
    },
  },
  "States.ArrayGetItem": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const array = args.array(0);
      const index = args.values[1];
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
        throw args.failure(`argument 2 must be a non-negative integer index, received ${describeValue(index)}`);
      }
      if (index >= array.length) throw args.failure(`index ${index} is out of bounds for an array of length ${array.length}`);
      return array[index];
    },
  },
  "States.ArrayLength": {
    minArgs: 1,
    maxArgs: 1,
    run: (args) => args.array(0).length,
  },
  "States.ArrayUnique": {
    minArgs: 1,
    maxArgs: 1,
    run(args) {
      const unique: unknown[] = [];
      for (const item of args.array(0)) {
        if (!unique.some((kept) => isDeepStrictEqual(kept, item))) unique.push(item);
      }
      return unique;
    },
  },
};
