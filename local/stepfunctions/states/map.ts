/**
 * Inline Map: runs the item processor once per item of the array at ItemsPath, at most MaxConcurrency at a
 * time (0: no limit); the result is the array of item outputs, in item order. The first failing item
 * stops the others and fails the state with its error.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
 */
import type { MapState } from "../asl/types";
import { readPath } from "../asl/pathReader";
import { StatesError, STATES_ERRORS, toStatesError } from "../errors";
import { childController } from "../signals";
import type { StateHandler } from "./handler";

class SiblingFailed extends Error {}

export const mapState: StateHandler<MapState> = {
  eventPrefix: "Map",
  output: "result",
  recordsExit: true,
  async execute(state, input, run) {
    const items = state.ItemsPath === undefined || state.ItemsPath === "$" ? input : readPath(state.ItemsPath, input, run.context);
    if (!Array.isArray(items)) {
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `Items at ItemsPath '${state.ItemsPath ?? "$"}' must be an array, received ${JSON.stringify(items)}`,
      );
    }
    const maxConcurrency =
      state.MaxConcurrencyPath !== undefined ? readPath(state.MaxConcurrencyPath, input, run.context) : (state.MaxConcurrency ?? 0);
    if (typeof maxConcurrency !== "number" || !Number.isInteger(maxConcurrency) || maxConcurrency < 0) {
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `MaxConcurrency must be a non-negative integer, received ${JSON.stringify(maxConcurrency)}`,
      );
    }
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!processor) throw new StatesError(STATES_ERRORS.Runtime, "A Map state needs an ItemProcessor");
    // `Parameters` is the deprecated name of ItemSelector.
    const selector = state.ItemSelector ?? state.Parameters;

    run.record("MapStateStarted", { length: items.length });
    const iterations = childController(run.signal);
    const results: unknown[] = new Array(items.length);
    let nextIndex = 0;
    let failure: unknown;

    const worker = async () => {
      while (nextIndex < items.length && failure === undefined && !iterations.signal.aborted) {
        const index = nextIndex++;
        const scope = run.scope.fork(iterations.signal);
        scope.record("MapIterationStarted", run.stateName, { name: run.stateName, index });
        try {
          const itemInput =
            selector === undefined
              ? items[index]
              : run.resolveTemplate(selector, input, { Map: { Item: { Index: index, Value: items[index] } } });
          results[index] = await run.runBlock(processor, itemInput, scope);
          scope.record("MapIterationSucceeded", run.stateName, { name: run.stateName, index });
        } catch (error) {
          if (iterations.signal.aborted) return;
          scope.record("MapIterationFailed", run.stateName, { name: run.stateName, index });
          failure = error;
          iterations.abort(new SiblingFailed());
        }
      }
    };

    try {
      const workerCount = maxConcurrency === 0 ? items.length : Math.min(maxConcurrency, items.length);
      await Promise.all(Array.from({ length: workerCount }, worker));
      if (run.signal.aborted) throw run.signal.reason;
      run.scope.thread.catchUp();
      if (failure !== undefined) {
        run.record("MapStateFailed");
        throw toStatesError(failure);
      }
      run.record("MapStateSucceeded");
      return { result: results };
    } finally {
      iterations.dispose();
    }
  },
};
