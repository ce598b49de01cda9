/**
 * RedriveExecution: which executions can be redriven, and where a redriven one starts again.
 *
 * A redrive continues the same execution from the state that did not finish, with the input that state had;
 * the states that succeeded are not run again. In an inline Map or Parallel state only the iterations and
 * branches that failed or were aborted run again; the others keep the output they had.
 * https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 *
 * Everything needed is in the history: each event carries the key of the thread (execution, branch, iteration)
 * that recorded it, a `*StateEntered` without its `*StateExited` is the state left unfinished, its input is in
 * the Entered event, and the variables a thread had assigned are in its Exited events. Iterations and branches
 * are found by their thread key, `<parent>.<fork>@<index>`. Nothing besides the history is stored, so a redriven
 * execution resumed after a restart plans its redrive again from the same events.
 */
import type { HistoryEvent } from "./history";
import type { ExecutionStatus } from "./execution";
import type { State, SubStateMachine } from "./asl/types";
import { MAX_EXECUTION_MS } from "./limits";

/** Where one thread (the execution, a branch, an iteration) starts again. */
export interface ThreadPlan {
  /** The state left unfinished, the input it had, and the variables the thread had assigned before it. */
  resumeAt?: { stateName: string; input: unknown; variables: Record<string, unknown> };
  /** When that state is a Map or Parallel: how each of its iterations or branches (by index) stood. */
  children?: Map<number, ChildOutcome>;
}

/** An iteration or branch: succeeded (its output is kept) or to run again from its own plan. */
export type ChildOutcome = { output: unknown } | { plan: ThreadPlan };

/** The journal key of the top thread of an attempt: "0" for the first run, "r<n>" for the n-th redrive. */
export function attemptKey(redriveCount: number): string {
  return redriveCount === 0 ? "0" : `r${redriveCount}`;
}

/** Whether a thread key belongs to the given attempt (its top thread or a fork under it). */
export function inAttempt(thread: string | undefined, redriveCount: number): boolean {
  const root = attemptKey(redriveCount);
  return thread === root || (thread !== undefined && thread.startsWith(`${root}.`));
}

/**
 * The plan of redrive number `redriveCount`, from the history of the attempts before it: each attempt's plan
 * builds on the one before (an iteration skipped in a redrive because it had succeeded keeps its output).
 */
export function planRedrive(events: readonly HistoryEvent[], redriveCount: number, definition: SubStateMachine): ThreadPlan {
  const terminal = terminalStates(definition);
  const byThread = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    if (event.thread === undefined) continue;
    const list = byThread.get(event.thread);
    if (list) list.push(event);
    else byThread.set(event.thread, [event]);
  }
  let plan: ThreadPlan = {};
  for (let attempt = 0; attempt < redriveCount; attempt++) {
    const outcome = threadOutcome(attemptKey(attempt), byThread, plan, terminal);
    // A top thread always ends unfinished in an attempt that was redriven; if not, start over from StartAt.
    plan = "plan" in outcome ? outcome.plan : {};
  }
  return plan;
}

const FORK_KEY = /^(.*)\.\d+@(\d+)$/;

function threadOutcome(
  key: string,
  byThread: ReadonlyMap<string, HistoryEvent[]>,
  previous: ThreadPlan | undefined,
  terminal: ReadonlySet<string>,
): ChildOutcome {
  const events = byThread.get(key) ?? [];
  const variables: Record<string, unknown> = { ...previous?.resumeAt?.variables };
  let open: { name: string; input: unknown; enteredId: number } | undefined;
  let lastOutput: string | undefined;
  let lastExited: string | undefined;
  let exitedAny = false;
  for (const event of events) {
    const details = event.details ?? {};
    if (event.type.endsWith("StateEntered")) {
      open = { name: String(details.name), input: JSON.parse(String(details.input)), enteredId: event.id };
    } else if (event.type.endsWith("StateExited")) {
      open = undefined;
      exitedAny = true;
      lastOutput = details.output as string | undefined;
      lastExited = String(details.name);
      const assigned = details.assignedVariables as Record<string, string> | undefined;
      for (const [name, text] of Object.entries(assigned ?? {})) variables[name] = JSON.parse(text);
    }
  }
  if (!open) {
    // Finished only if the last state it left ends its block (a branch cut off between two states has not).
    if (lastOutput !== undefined && lastExited !== undefined && terminal.has(lastExited)) return { output: JSON.parse(lastOutput) };
    // Cut off between two states (a Map iteration or branch runs again from its start), or before its first
    // state this attempt: either way it stands as before.
    return { plan: previous ?? {} };
  }
  const plan: ThreadPlan = { resumeAt: { stateName: open.name, input: open.input, variables } };
  // The same unfinished state as before this attempt: what its iterations had done before still counts.
  const sameAsBefore = !exitedAny && previous?.resumeAt?.stateName === open.name;
  const children = new Map<number, ChildOutcome>(sameAsBefore ? previous?.children : undefined);
  const started = [...events]
    .reverse()
    .find((event) => event.id > open!.enteredId && (event.type === "MapStateStarted" || event.type === "ParallelStateStarted"));
  if (started) {
    for (const [childKey, childEvents] of byThread) {
      const match = FORK_KEY.exec(childKey);
      if (!match || match[1] !== key || childEvents[0].previousEventId !== started.id) continue;
      const index = Number(match[2]);
      const before = children.get(index);
      children.set(index, threadOutcome(childKey, byThread, before && "plan" in before ? before.plan : undefined, terminal));
    }
  }
  if (children.size > 0) plan.children = children;
  return { plan };
}

/** The states that end their block when they exit (End: true, Succeed), anywhere in the definition (names are unique). */
function terminalStates(block: SubStateMachine, into = new Set<string>()): Set<string> {
  for (const [name, state] of Object.entries(block.States) as Array<[string, State]>) {
    if (state.Type === "Succeed" || ("End" in state && state.End === true)) into.add(name);
    if (state.Type === "Parallel") for (const branch of state.Branches) terminalStates(branch, into);
    if (state.Type === "Map") {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) terminalStates(processor, into);
    }
  }
  return into;
}

/** AWS keeps executions redrivable for 14 days after they close. */
export const REDRIVABLE_PERIOD_MS = 14 * 24 * 3600 * 1000;
/** An execution's history holds at most 25,000 events; a redrive needs room for more. */
export const HISTORY_EVENT_LIMIT = 25_000;

export interface RedriveStatus {
  redriveStatus: "REDRIVABLE" | "NOT_REDRIVABLE";
  /** Only for NOT_REDRIVABLE: AWS's reason. */
  redriveStatusReason?: string;
}

export interface RedriveFacts {
  status: ExecutionStatus;
  machineType: "STANDARD" | "EXPRESS";
  machineStatus: "ACTIVE" | "DELETING" | "DELETED";
  startDate: number;
  stopDate?: number;
  historyLength: number;
  now: number;
}

/**
 * DescribeExecution's redriveStatus and redriveStatusReason, with AWS's reasons.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html#StepFunctions-DescribeExecution-response-redriveStatusReason
 */
export function redriveStatusOf(facts: RedriveFacts): RedriveStatus {
  const notRedrivable = (reason: string): RedriveStatus => ({ redriveStatus: "NOT_REDRIVABLE", redriveStatusReason: reason });
  if (facts.machineType === "EXPRESS") return notRedrivable("Execution of an EXPRESS state machine cannot be redriven.");
  if (facts.machineStatus !== "ACTIVE") return notRedrivable("State machine is in DELETING status.");
  if (facts.status === "RUNNING" || facts.status === "SUCCEEDED")
    return notRedrivable(`Execution is ${facts.status} and cannot be redriven.`);
  if (facts.historyLength >= HISTORY_EVENT_LIMIT) return notRedrivable("Execution history event limit exceeded.");
  if (facts.now - facts.startDate >= MAX_EXECUTION_MS) return notRedrivable("Execution has exceeded the max execution time.");
  if (facts.stopDate !== undefined && facts.now - facts.stopDate > REDRIVABLE_PERIOD_MS) {
    return notRedrivable("Execution redrivable period exceeded.");
  }
  return { redriveStatus: "REDRIVABLE" };
}
