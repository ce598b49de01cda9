/**
 * Inline Map: runs the item processor once per item (of the array at ItemsPath, or of JSONata's Items), at
 * most MaxConcurrency at a time (0: no limit); the result is the array of item outputs, in item order. The
 * first failing item stops the others and fails the state with its error.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
 */
import type { MapState } from "../asl/types";
import { readRequiredPath } from "../asl/paths";
import { jsonataExpressionText, unexpectedResultType } from "../asl/jsonata/evaluate";
import { StatesError, STATES_ERRORS } from "../errors";
import type { StateRun } from "../interpreter";
import { childController } from "../signals";
import { integerField } from "./fieldValues";
import { BlockFailed, type StateHandler } from "./handler";

class SiblingFailed extends Error {}

export const mapState: StateHandler<MapState> = {
  eventPrefix: "Map",
  output: "result",
  recordsExit: true,
  countsRetries: true,
  async execute(state, input, run) {
    const items = await mapItems(state, input, run);
    const maxConcurrency = await mapConcurrency(state, input, run);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!processor) throw new StatesError(STATES_ERRORS.Runtime, "A Map state needs an ItemProcessor");
    // `Parameters` is the deprecated name of ItemSelector (JSONPath only).
    const selector = state.ItemSelector ?? (run.isJsonata ? undefined : state.Parameters);

    run.record("MapStateStarted", { length: items.length });
    const iterations = childController(run.signal);
    const results: unknown[] = new Array(items.length);
    let nextIndex = 0;
    let failure: unknown;

    const worker = async () => {
      while (nextIndex < items.length && failure === undefined && !iterations.signal.aborted) {
        const index = nextIndex++;
        // Redriven: an iteration that succeeded before keeps its output and does not run again.
        const before = run.redriveChildren?.get(index);
        if (before && "output" in before) {
          results[index] = before.output;
          continue;
        }
        const scope = run.scope.fork(iterations.signal, index);
        if (before) scope.redrive = before.plan;
        scope.record("MapIterationStarted", run.stateName, { name: run.stateName, index });
        try {
          // ItemSelector reads the Map state's input ($ or $states.input) and the item from the context object.
          const itemInput =
            selector === undefined
              ? items[index]
              : await run.payload(selector, input, "ItemSelector", { Map: { Item: { Index: index, Value: items[index] } } });
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
      if (failure !== undefined) throw new BlockFailed("MapStateFailed", failure);
      run.record("MapStateSucceeded");
      return { result: results };
    } finally {
      iterations.dispose();
    }
  },
};

async function mapItems(state: MapState, input: unknown, run: StateRun): Promise<unknown[]> {
  if (run.isJsonata) {
    const items = state.Items === undefined ? input : await run.evaluate(state.Items, "Items");
    if (!Array.isArray(items)) {
      const text = jsonataExpressionText(state.Items);
      if (text !== undefined) throw unexpectedResultType(text, "Items", "array", items);
      throw new StatesError(
        STATES_ERRORS.QueryEvaluationError,
        `The Items of a Map state must be an array, received ${JSON.stringify(items)}`,
      );
    }
    return items;
  }
  const itemsPath = state.ItemsPath ?? "$";
  const items = itemsPath === "$" ? input : readRequiredPath(itemsPath, input, run.context);
  if (!Array.isArray(items)) {
    throw new StatesError(
      STATES_ERRORS.Runtime,
      `The ItemsPath field refers to value ${JSON.stringify(items)} which is not a valid array: ${itemsPath}`,
    );
  }
  return items;
}

async function mapConcurrency(state: MapState, input: unknown, run: StateRun): Promise<number> {
  if (state.MaxConcurrencyPath !== undefined) {
    const value = readRequiredPath(state.MaxConcurrencyPath, input, run.context);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      // AWS: The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid integer: $.MaxConcurrencyValue
      throw new StatesError(
        STATES_ERRORS.Runtime,
        `The MaxConcurrencyPath field refers to value ${JSON.stringify(value)} which is not a valid integer: ${state.MaxConcurrencyPath}`,
      );
    }
    return value;
  }
  if (state.MaxConcurrency === undefined) return 0;
  return integerField(run, state.MaxConcurrency, "MaxConcurrency", 0);
}
