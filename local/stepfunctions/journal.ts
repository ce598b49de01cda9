/**
 * What an execution writes down so that it can continue after the runtime restarts (even after kill -9).
 *
 * The engine is replayed, not snapshotted: on restart a running execution is run again from its input, and
 * every step that touched the outside world answers from the journal instead of acting again: history events
 * already recorded are not recorded twice, a Lambda call that returned gives the same result, a token is the
 * same token, a timer keeps its absolute deadline. Each Parallel branch and Map iteration is a thread with a
 * key derived from where it was forked ("0", "0.1", "0.1.0"), and within a thread steps happen in a fixed
 * order, so "the n-th step of thread k" names the same step in both runs.
 */
import type { StoreCollection } from "../common/store";
import type { HistoryEvent } from "./history";

/** A step's recorded outcome: its value, or the StatesError it threw. */
export type EffectEntry = { value: unknown } | { error: { error: string; cause: string } };

export interface ExecutionJournal {
  /** The event a thread recorded at position `sequence` before the restart, if any. */
  replayedEvent(thread: string, sequence: number): HistoryEvent | undefined;
  /** The same event without taking it (a step whose value that event records looks ahead). */
  peekEvent(thread: string, sequence: number): HistoryEvent | undefined;
  saveEvent(thread: string, sequence: number, event: HistoryEvent): void;
  effect(thread: string, sequence: number): EffectEntry | undefined;
  saveEffect(thread: string, sequence: number, entry: EffectEntry): void;
  /** True while some thread still has recorded events ahead of it (replay: no live log lines). */
  readonly replaying: boolean;
  /** The execution closed: its replay data is no longer needed. */
  discardReplayData(): void;
}

/** The journal of an execution that nothing will ever replay (in-memory state). */
export const NO_JOURNAL: ExecutionJournal = {
  replayedEvent: () => undefined,
  peekEvent: () => undefined,
  saveEvent: () => undefined,
  effect: () => undefined,
  saveEffect: () => undefined,
  replaying: false,
  discardReplayData: () => undefined,
};

/** A history event as stored: the event and the thread step that recorded it. */
export interface StoredEvent {
  thread: string;
  sequence: number;
  event: HistoryEvent;
}

/** What an execution had recorded before the restart: its events (of the attempt replayed) and its effects. */
export interface RecordedJournal {
  events: readonly StoredEvent[];
  effects: ReadonlyArray<[string, EffectEntry]>;
}

/**
 * A row of the events collection: the events one execution recorded in one store batch (one turn of the event loop),
 * in order. Rows kept before events were grouped hold one event each.
 */
export type StoredEventRow = StoredEvent[] | StoredEvent;

/** The events of rows read in key order, in the order they were recorded. */
export function eventsOfRows(rows: ReadonlyArray<StoredEventRow>): StoredEvent[] {
  return rows.flat();
}

export interface JournalCollections {
  events: StoreCollection<StoredEventRow>;
  effects: StoreCollection<EffectEntry>;
}

/**
 * Keys start with the execution's short journal id (its sequence number in base 36, not its 100-character ARN:
 * keys are repeated in every row and in the table's index), then the position; event ids are zero-padded so key
 * order is id order. An events row is keyed by the id of its first event.
 */
export const eventKey = (journalId: string, id: number) => `${journalId}\u0001${String(id).padStart(8, "0")}`;
const effectKey = (journalId: string, thread: string, sequence: number) => `${journalId}\u0001${thread}#${sequence}`;

/**
 * Largest row of events (characters of JSON) that takes in more: the store's table is WITHOUT ROWID, so SQLite keeps
 * a row of up to about 1,000 bytes in its page and moves a longer one to overflow pages, each mostly empty: rows of
 * one turn's events, unbounded, doubled the bytes on disk per execution (bench/durable.ts). Small events still share
 * a row; a large one has its own. It also keeps one JSON value far from V8's string limit (an inline Map's
 * iterations can record hundreds of events in one turn).
 */
const ROW_BUDGET_CHARS = 900;

export class StoredJournal implements ExecutionJournal {
  /** Made only for a replay (a new execution, the most common, needs neither). */
  private recordedEvents?: Map<string, HistoryEvent>;
  private recordedEffects?: Map<string, EffectEntry>;
  private eventsAhead = 0;
  /**
   * The row this execution's events go to while its write waits for the store's commit: the events of one turn are
   * one row (a history event each would be about 15 rows per execution, and SQLite's cost is mostly per row).
   */
  private openRow?: { key: string; events: StoredEvent[]; chars: number };

  /**
   * `recorded` is read when the replay first asks for it: an execution restored without being replayed (one that
   * waits on a callback, api.ts) reads its journal only when something wakes it.
   */
  constructor(
    private readonly journalId: string,
    private readonly collections: JournalCollections,
    private recorded?: () => RecordedJournal,
  ) {}

  private load(): void {
    const recorded = this.recorded?.();
    this.recorded = undefined;
    if (!recorded) return;
    this.recordedEvents = new Map(recorded.events.map((stored) => [`${stored.thread}#${stored.sequence}`, stored.event]));
    const prefixLength = `${this.journalId}\u0001`.length;
    this.recordedEffects = new Map(recorded.effects.map(([key, entry]) => [key.slice(prefixLength), entry]));
    this.eventsAhead = this.recordedEvents.size;
  }

  get replaying(): boolean {
    if (this.recorded) this.load();
    return this.eventsAhead > 0;
  }

  replayedEvent(thread: string, sequence: number): HistoryEvent | undefined {
    if (this.recorded) this.load();
    if (this.eventsAhead === 0) return undefined;
    const key = `${thread}#${sequence}`;
    const event = this.recordedEvents!.get(key);
    if (event) {
      this.recordedEvents!.delete(key);
      this.eventsAhead--;
    }
    return event;
  }

  peekEvent(thread: string, sequence: number): HistoryEvent | undefined {
    if (this.recorded) this.load();
    return this.eventsAhead === 0 ? undefined : this.recordedEvents!.get(`${thread}#${sequence}`);
  }

  saveEvent(thread: string, sequence: number, event: HistoryEvent): void {
    const stored = { thread, sequence, event };
    // Measured once here (a few microseconds): the row's size decides whether the event joins it.
    const chars = JSON.stringify(stored).length;
    const row = this.openRow;
    if (row && row.chars + chars <= ROW_BUDGET_CHARS && this.collections.events.uncommitted(row.key)) {
      row.events.push(stored);
      row.chars += chars;
    } else this.openRow = { key: eventKey(this.journalId, event.id), events: [stored], chars };
    // Put again each time: the store writes the row once, at the commit, with every event it holds by then.
    this.collections.events.put(this.openRow!.key, this.openRow!.events);
  }

  effect(thread: string, sequence: number): EffectEntry | undefined {
    if (this.recorded) this.load();
    return this.recordedEffects?.get(`${thread}#${sequence}`);
  }

  saveEffect(thread: string, sequence: number, entry: EffectEntry): void {
    this.collections.effects.put(effectKey(this.journalId, thread, sequence), entry);
  }

  discardReplayData(): void {
    this.recorded = undefined;
    this.recordedEffects = undefined;
    this.recordedEvents = undefined;
    this.eventsAhead = 0;
    // The batch holds the row until its commit; kept here, a closed execution's last turn of events stayed in memory.
    this.openRow = undefined;
    this.collections.effects.deletePrefix(`${this.journalId}\u0001`);
  }
}
