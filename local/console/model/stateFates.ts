/**
 * What happened to each state of an execution, read from its history (GetExecutionHistory's wire events):
 * its fate, its last input and output or error and cause, and the events that belong to it. Pure: the
 * execution page and the tests use it alike.
 *
 * An event belongs to the state whose `*StateEntered` event it descends from through `previousEventId`
 * (a Parallel branch or Map iteration is its own chain); Parallel and Map bookkeeping events belong to the
 * innermost Parallel or Map still open.
 */

/** An event as GetExecutionHistory returns it (dates in epoch seconds, one `*EventDetails` member). */
export interface WireEvent {
  id: number;
  previousEventId: number;
  type: string;
  timestamp: number;
  [details: string]: unknown;
}

export type Fate = "succeeded" | "failed" | "caught" | "running" | "waiting" | "notReached";

export interface StateRecord {
  name: string;
  fate: Fate;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  events: WireEvent[];
}

const FAILURE_EVENTS = new Set([
  "TaskFailed",
  "TaskTimedOut",
  "TaskStartFailed",
  "TaskSubmitFailed",
  "LambdaFunctionFailed",
  "LambdaFunctionTimedOut",
  "LambdaFunctionStartFailed",
  "LambdaFunctionScheduleFailed",
  "ParallelStateFailed",
  "MapStateFailed",
  "ExecutionFailed",
  "FailStateEntered",
]);
const SUCCESS_EVENTS = new Set(["TaskSucceeded", "LambdaFunctionSucceeded", "ParallelStateSucceeded", "MapStateSucceeded"]);

/** The `*EventDetails` member of an event, whatever the event's type. */
export function detailsOf(event: WireEvent): Record<string, any> | undefined {
  for (const key of Object.keys(event)) if (key.endsWith("EventDetails")) return event[key] as Record<string, any>;
  return undefined;
}

interface Visit {
  record: StateRecord;
  exited: boolean;
  outcome?: "success" | "failure";
  submitted: boolean;
}

/** Each state's record, by name; states never entered are absent (their fate is `notReached`). */
export function stateRecords(events: readonly WireEvent[], executionStatus: string): Map<string, StateRecord> {
  const visits = new Map<string, Visit>();
  const ownerById = new Map<number, string | undefined>();
  const openContainers: string[] = [];
  for (const event of events) {
    const details = detailsOf(event);
    let owner: string | undefined;
    if (event.type.endsWith("StateEntered")) owner = details?.name;
    else if (/^(ParallelState|MapState|MapIteration)/.test(event.type) && !event.type.endsWith("StateExited"))
      owner = openContainers.at(-1);
    else if (event.type.endsWith("StateExited")) owner = details?.name;
    else {
      const previous = events[event.previousEventId - 1];
      owner = previous && !previous.type.endsWith("StateExited") ? ownerById.get(event.previousEventId) : undefined;
    }
    ownerById.set(event.id, owner);
    if (owner === undefined) continue;

    let visit = visits.get(owner);
    if (event.type.endsWith("StateEntered")) {
      const events = visit?.record.events ?? [];
      visit = { record: { name: owner, fate: "running", input: details?.input, events }, exited: false, submitted: false };
      visits.set(owner, visit);
      if (event.type === "ParallelStateEntered" || event.type === "MapStateEntered") openContainers.push(owner);
    }
    if (!visit) continue;
    visit.record.events.push(event);
    if (event.type.endsWith("StateExited")) {
      visit.exited = true;
      visit.record.output = details?.output;
      const index = openContainers.lastIndexOf(owner);
      if (index >= 0) openContainers.splice(index, 1);
    } else if (FAILURE_EVENTS.has(event.type)) {
      visit.outcome = "failure";
      if (details?.error !== undefined || details?.cause !== undefined || event.type !== "FailStateEntered") {
        visit.record.error = details?.error;
        visit.record.cause = details?.cause;
      }
    } else if (SUCCESS_EVENTS.has(event.type)) {
      visit.outcome = "success";
      visit.record.error = visit.record.cause = undefined;
    } else if (event.type === "TaskSubmitted") visit.submitted = true;
    else if (event.type === "TaskScheduled" || event.type === "LambdaFunctionScheduled") {
      // A new attempt (after a Retry): an earlier attempt's failure is no longer the state's fate.
      visit.submitted = false;
      visit.outcome = undefined;
    }
  }

  const records = new Map<string, StateRecord>();
  for (const [name, visit] of visits) {
    visit.record.fate = fateOf(visit, executionStatus);
    records.set(name, visit.record);
  }
  return records;
}

function fateOf(visit: Visit, executionStatus: string): Fate {
  if (visit.exited) return visit.outcome === "failure" ? "caught" : "succeeded";
  if (visit.outcome === "failure") return "failed";
  if (executionStatus !== "RUNNING") return "failed";
  return visit.submitted ? "waiting" : "running";
}
