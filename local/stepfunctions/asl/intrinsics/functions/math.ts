/** The math functions: States.MathRandom, States.MathAdd. */
import { randomInt } from "node:crypto";
import type { IntrinsicFunctionTable } from "../arguments";

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

export const MATH_FUNCTIONS: IntrinsicFunctionTable = {
  "States.MathRandom": {
    minArgs: 2,
    maxArgs: 3,
    run(args) {
      const start = args.integer(0);
      const end = args.integer(1);
      if (end <= start) throw args.failure(`the end (${end}) must be greater than the start (${start})`);
      if (args.length === 3) {
        const random = seededRandom(args.integer(2));
        return start + Math.floor(random() * (end - start));
      }
      return randomInt(start, end);
    },
  },
  "States.MathAdd": {
    minArgs: 2,
    maxArgs: 2,
    run(args) {
      const [first, second] = [0, 1].map((index) => args.integer(index));
      for (const [index, value] of [first, second].entries()) {
        if (value < INT32_MIN || value > INT32_MAX) {
          throw args.failure(`argument ${index + 1} (${value}) is outside the range ${INT32_MIN} to ${INT32_MAX}`);
        }
      }
      return first + second;
    },
  },
};

/**
 * A seeded generator for `States.MathRandom(start, end, seed)`, which must return the same number for the
 * same seed. Node's crypto has no seedable generator, so this is mulberry32 (public domain, 32-bit state).
 */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
