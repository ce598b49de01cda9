/**
 * Execution history, recorded with AWS's event names and detail fields so GetExecutionHistory reads like
 * AWS's. https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 */

export type HistoryEventType =
  | "ExecutionStarted"
  | "ExecutionSucceeded"
  | "ExecutionFailed"
  | "ExecutionAborted"
  | "ExecutionTimedOut"
  | "ExecutionRedriven"
  | "TaskStateEntered"
  | "TaskStateExited"
  | "TaskScheduled"
  | "TaskStarted"
  | "TaskSubmitted"
  | "TaskSucceeded"
  | "TaskFailed"
  | "TaskTimedOut"
  | "LambdaFunctionScheduled"
  | "LambdaFunctionStarted"
  | "LambdaFunctionSucceeded"
  | "LambdaFunctionFailed"
  | "LambdaFunctionTimedOut"
  | "PassStateEntered"
  | "PassStateExited"
  | "ChoiceStateEntered"
  | "ChoiceStateExited"
  | "WaitStateEntered"
  | "WaitStateExited"
  | "SucceedStateEntered"
  | "SucceedStateExited"
  | "FailStateEntered"
  | "ParallelStateEntered"
  | "ParallelStateStarted"
  | "ParallelStateSucceeded"
  | "ParallelStateFailed"
  | "ParallelStateExited"
  | "MapStateEntered"
  | "MapStateStarted"
  | "MapStateSucceeded"
  | "MapStateFailed"
  | "MapStateExited"
  | "MapIterationStarted"
  | "MapIterationSucceeded"
  | "MapIterationFailed";

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Milliseconds since the epoch (the wire sends epoch seconds). */
  timestamp: number;
  type: HistoryEventType;
  details?: Record<string, unknown>;
  /**
   * The journal key of the thread that recorded it ("0", "0.1@2", "r1"): redrive reads a failed attempt back
   * per thread (redrive.ts). Never on the wire.
   */
  thread?: string;
}

/** Detail fields that carry execution data, left out when `includeExecutionData` is false. */
const DATA_FIELDS = new Set([
  "input",
  "output",
  "parameters",
  "inputDetails",
  "outputDetails",
  "assignedVariables",
  "assignedVariablesDetails",
]);

/** AWS names the detail member after the event, except that every `*StateEntered/Exited` shares one. */
export function detailsMemberName(type: HistoryEventType): string {
  if (type.endsWith("StateEntered")) return "stateEnteredEventDetails";
  if (type.endsWith("StateExited")) return "stateExitedEventDetails";
  return `${type[0].toLowerCase()}${type.slice(1)}EventDetails`;
}

/** One event as the JSON 1.0 wire carries it. */
export function eventToWire(event: HistoryEvent, includeExecutionData = true): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    timestamp: event.timestamp / 1000,
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
  };
  if (event.details) {
    const details: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event.details)) {
      if (value === undefined || (!includeExecutionData && DATA_FIELDS.has(key))) continue;
      details[key] = value;
    }
    wire[detailsMemberName(event.type)] = details;
  }
  return wire;
}

function summaryOf(events: readonly HistoryEvent[]): { length: number; lastType: HistoryEventType | undefined } {
  return { length: events.length, lastType: events[events.length - 1]?.type };
}

/**
 * Appends events for one execution. Each branch of a Parallel or iteration of a Map is a `HistoryThread`
 * so `previousEventId` points at the event that came before it in the same branch, as on AWS.
 */
export class History {
  private kept?: HistoryEvent[];
  /** Known while the events are only in the store (restored, or released): read without loading them. */
  private summary?: { length: number; lastType: HistoryEventType | undefined };

  /** `load` gives the events recorded before a restart; they are read from the store when first asked for. */
  constructor(
    private readonly now: () => number,
    private readonly onEvent?: (event: HistoryEvent) => void,
    private load?: () => HistoryEvent[],
  ) {}

  /** Every event, kept in memory from now on (the engine appends to them). */
  get events(): HistoryEvent[] {
    if (!this.kept) {
      this.kept = this.load?.() ?? [];
      this.load = undefined;
      this.summary = undefined;
    }
    return this.kept;
  }

  /**
   * Every event, for a reader (GetExecutionHistory, the console): read from the store each time while they are only
   * there, so looking at old executions does not bring their histories back into memory for good.
   */
  read(): readonly HistoryEvent[] {
    return this.kept ?? this.load?.() ?? [];
  }

  get length(): number {
    return this.kept ? this.kept.length : this.summarized().length;
  }

  /** The type of the latest event, if any. */
  get lastType(): HistoryEventType | undefined {
    return this.kept ? this.kept[this.kept.length - 1]?.type : this.summarized().lastType;
  }

  /** Count and last type of events only in the store, read once without keeping the events. */
  private summarized(): NonNullable<History["summary"]> {
    return (this.summary ??= summaryOf(this.load?.() ?? []));
  }

  /** False while a restored execution's events are still only in the store. */
  get loaded(): boolean {
    return this.kept !== undefined;
  }

  /**
   * Lets go of the events in memory: `load` reads them back from the store, which holds every one of them (the
   * caller has seen them committed). A finished execution's history is read far less often than it is kept, and
   * kept as objects it weighs several times its JSON.
   */
  release(load: () => HistoryEvent[]): void {
    if (!this.kept) return;
    this.summary = summaryOf(this.kept);
    this.kept = undefined;
    this.load = load;
  }

  thread(previousEventId = 0): HistoryThread {
    return new HistoryThread(this, previousEventId);
  }

  append(type: HistoryEventType, previousEventId: number, details?: Record<string, unknown>, thread?: string): HistoryEvent {
    const id = this.events.length + 1;
    // Made whole at once (one object shape for every event), not given its thread afterwards.
    const event: HistoryEvent =
      thread === undefined
        ? { id, previousEventId, timestamp: this.now(), type, details }
        : { id, previousEventId, timestamp: this.now(), type, details, thread };
    this.events.push(event);
    this.onEvent?.(event);
    return event;
  }
}

export class HistoryThread {
  constructor(
    private readonly history: History,
    public lastEventId: number,
  ) {}

  /** `threadKey`: the journal key of the engine thread recording it (HistoryEvent.thread). */
  record(type: HistoryEventType, details?: Record<string, unknown>, threadKey?: string): HistoryEvent {
    const event = this.history.append(type, this.lastEventId, details, threadKey);
    this.lastEventId = event.id;
    return event;
  }

  /** Continues after the latest event of the whole history (after branches or iterations have joined). */
  catchUp(): void {
    this.lastEventId = this.history.events.length;
  }

  /** A new thread continuing from this one's last event (a Parallel branch, a Map iteration). */
  fork(): HistoryThread {
    return new HistoryThread(this.history, this.lastEventId);
  }
}
