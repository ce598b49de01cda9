/**
 * Runs every branch on the same input; the result is the array of branch outputs. The first branch to fail
 * stops the others and fails the state with its error.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
 */
import type { ParallelState } from "../asl/types";
import { childController } from "../signals";
import { BlockFailed, type StateHandler } from "./handler";

class SiblingFailed extends Error {}

export const parallelState: StateHandler<ParallelState> = {
  eventPrefix: "Parallel",
  output: "result",
  recordsExit: true,
  countsRetries: true,
  async execute(state, input, run) {
    const branchInput = await run.payload(run.isJsonata ? state.Arguments : state.Parameters, input, "Arguments");
    run.record("ParallelStateStarted");
    const branches = childController(run.signal);
    let failure: unknown;
    try {
      const results = await Promise.all(
        state.Branches.map((branch, index) => {
          // Redriven: a branch that succeeded before keeps its output and does not run again.
          const before = run.redriveChildren?.get(index);
          if (before && "output" in before) return before.output;
          const scope = run.scope.fork(branches.signal, index);
          if (before) scope.redrive = before.plan;
          return run.runBlock(branch, branchInput, scope).catch((error) => {
            if (failure === undefined && !run.signal.aborted) {
              failure = error;
              branches.abort(new SiblingFailed());
            }
            return undefined;
          });
        }),
      );
      if (run.signal.aborted) throw run.signal.reason;
      run.scope.thread.catchUp();
      if (failure !== undefined) throw new BlockFailed("ParallelStateFailed", failure);
      run.record("ParallelStateSucceeded");
      return { result: results };
    } finally {
      branches.dispose();
    }
  },
};
