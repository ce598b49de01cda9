/**
 * Step Functions state in the runtime's store: state machines, the definitions executions started with,
 * executions, their histories and journals (journal.ts), and the token registry's key and tokens.
 */
import { createHash, randomBytes } from "node:crypto";
import type { StateStore, StoreCollection } from "../common/store";
import type { Execution, ExecutionKeeping, ExecutionStatus } from "./execution";
import type { HistoryEvent } from "./history";
import { eventsOfRows, StoredJournal, type EffectEntry, type JournalCollections, type RecordedJournal, type StoredEvent } from "./journal";
import type { StoredToken, TokenPersistence } from "./tokens";
import { inAttempt } from "./redrive";

export interface StoredMachine {
  arn: string;
  name: string;
  roleArn: string;
  type: "STANDARD" | "EXPRESS";
  definitionText: string;
  creationDate: number;
  loggingConfiguration: Record<string, unknown>;
  tracingConfiguration: Record<string, unknown>;
  /** The current revision (absent: the first one, and on rows kept before revisions were kept). */
  revisionId?: string;
  /** When the current revision was made (absent on rows kept before: the creation date). */
  updateDate?: number;
  /** DELETING: deleted while executions still ran (absent on rows kept before: ACTIVE). */
  status?: "ACTIVE" | "DELETING";
  /** Key/value pairs in the order they were added (ListTagsForResource keeps it). */
  tags?: Array<[string, string]>;
}

export interface StoredExecution {
  arn: string;
  name: string;
  machineArn: string;
  machineName: string;
  roleArn: string;
  /** Key of the definition this execution started with (it keeps it even if the machine changes). */
  definitionHash: string;
  /** The revision the execution started with (UpdateStateMachine makes new ones). */
  revisionId?: string;
  revisionDate?: number;
  input: string;
  startDate: number;
  sequence: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** RedriveExecution: how many times, and when last (absent on rows kept before redrive existed). */
  redriveCount?: number;
  redriveDate?: number;
}

/** Stored events as history events (rows kept before events carried their thread get it from the journal key). */
export function eventsOf(stored: readonly StoredEvent[]): HistoryEvent[] {
  return stored.map((entry) => (entry.event.thread === undefined ? { ...entry.event, thread: entry.thread } : entry.event));
}

/**
 * One execution as read back: its row and definition at once; its history and (while running) its journal's
 * effects only when first asked for (`record`, read once), since most restored executions never need them.
 */
export interface LoadedExecution {
  stored: StoredExecution;
  definitionText: string;
  record(): { events: StoredEvent[]; effects: Array<[string, EffectEntry]> };
}

export class StepFunctionsPersistence {
  private readonly machines: StoreCollection<StoredMachine>;
  private readonly definitions: StoreCollection<string>;
  private readonly executions: StoreCollection<StoredExecution>;
  private readonly journal: JournalCollections;
  /** The journal collections as executions write them: nothing once the runtime is stopping (one for all). */
  private readonly guardedJournal: JournalCollections;
  private readonly tokens: StoreCollection<StoredToken>;
  private readonly meta: StoreCollection<string>;
  private readonly savedDefinitions = new Set<string>();
  /** Set on shutdown: what an interrupted execution does afterwards must not reach the store. */
  private stopped = false;

  constructor(private readonly store: StateStore) {
    this.machines = store.collection("states.machines");
    this.definitions = store.collection("states.definitions");
    this.executions = store.collection("states.executions");
    this.journal = { events: store.collection("states.events"), effects: store.collection("states.effects") };
    this.guardedJournal = { events: this.guarded(this.journal.events), effects: this.guarded(this.journal.effects) };
    this.tokens = store.collection("states.tokens");
    this.meta = store.collection("states.meta");
  }

  /** The token registry's HMAC key (made once per state folder, so tokens stay valid across restarts) and rows. */
  tokenPersistence(): TokenPersistence {
    let key = this.meta.get("tokenKey");
    if (!key) {
      key = randomBytes(32).toString("base64");
      this.meta.put("tokenKey", key);
    }
    const tokens = this.tokens;
    const isStopped = () => this.stopped;
    return {
      key: Buffer.from(key, "base64"),
      tokens: {
        get: (token) => tokens.get(token),
        put: (token, value) => void (isStopped() || tokens.put(token, value)),
        delete: (token) => void (isStopped() || tokens.delete(token)),
        deletePrefix: (prefix) => void (isStopped() || tokens.deletePrefix(prefix)),
        uncommitted: (token) => tokens.uncommitted(token),
        entries: (prefix) => tokens.entries(prefix),
      },
    };
  }

  saveMachine(machine: StoredMachine): void {
    this.machines.put(machine.arn, machine);
  }

  deleteMachine(arn: string): void {
    this.machines.delete(arn);
  }

  loadMachines(): StoredMachine[] {
    return this.machines.entries().map(([, machine]) => machine);
  }

  /**
   * How a new (or restored) execution keeps itself; `loaded` is what a restored one had recorded. Its journal is
   * keyed by `sequence`, unique within a state folder.
   */
  keeping(sequence: number, definitionText: string, loaded?: LoadedExecution): ExecutionKeeping {
    const definitionHash = loaded?.stored.definitionHash ?? createHash("sha256").update(definitionText).digest("hex");
    if (!this.savedDefinitions.has(definitionHash)) {
      this.savedDefinitions.add(definitionHash);
      if (!loaded) this.definitions.put(definitionHash, definitionText);
    }
    // Replay covers the attempt that was running (a redriven execution's earlier attempts only feed its plan).
    const attempt = loaded?.stored.redriveCount ?? 0;
    const recorded =
      loaded &&
      ((): RecordedJournal => {
        const { events, effects } = loaded.record();
        return { events: events.filter((stored) => inAttempt(stored.thread, attempt)), effects };
      });
    const journalId = sequence.toString(36);
    const journal = new StoredJournal(journalId, this.guardedJournal, recorded);
    // A commit that fails after this may have lost some of the execution's events: its history then stays in memory.
    const failedCommits = this.store.failedCommits;
    return {
      journal,
      changed: (execution) => {
        if (this.stopped) return;
        this.executions.put(execution.arn, toStored(execution, definitionHash));
        if (execution.status !== "RUNNING") this.releaseWhenKept(execution, journalId, failedCommits);
      },
    };
  }

  /** An execution's events as the store holds them, read afresh on each call (nothing is kept here). */
  historyReader(sequence: number): () => HistoryEvent[] {
    return this.readerOf(sequence.toString(36));
  }

  private readerOf(journalId: string): () => HistoryEvent[] {
    return () => eventsOf(this.storedEvents(journalId));
  }

  /** An execution's stored events in the order they were recorded (rows of one event or of one turn's events). */
  private storedEvents(journalId: string): StoredEvent[] {
    return eventsOfRows(this.journal.events.entries(`${journalId}\u0001`).map(([, row]) => row));
  }

  /**
   * A closed execution's history leaves memory once the store has committed all of it, and is read back from the
   * store when asked for: memory then stays flat however many executions a long session runs (issue 11). If more
   * events came meanwhile it waits for those too; a redriven execution (RUNNING again) keeps its history until it
   * closes again. If any commit failed since the execution started (`failedCommits` then), the store may lack some
   * of its events: the history stays in memory, the only whole copy.
   */
  private releaseWhenKept(execution: Execution, journalId: string, failedCommits: number): void {
    const length = execution.history.length;
    this.store.committed().then(
      () => {
        if (this.stopped || execution.status === "RUNNING" || this.store.failedCommits !== failedCommits) return;
        if (execution.history.length !== length) this.releaseWhenKept(execution, journalId, failedCommits);
        else execution.history.release(this.readerOf(journalId));
      },
      () => undefined,
    );
  }

  /**
   * Every kept execution, oldest first. Only the rows are read here; each one's history and effects are read by
   * key range when first needed (effects only for running ones, the only ones replayed).
   */
  loadExecutions(): LoadedExecution[] {
    const definitionTexts = new Map(this.definitions.entries());
    for (const hash of definitionTexts.keys()) this.savedDefinitions.add(hash);
    return this.executions
      .entries()
      .map(([, stored]) => {
        let record: ReturnType<LoadedExecution["record"]> | undefined;
        const journalId = stored.sequence.toString(36);
        return {
          stored,
          definitionText: definitionTexts.get(stored.definitionHash) ?? "",
          record: () =>
            (record ??= {
              events: this.storedEvents(journalId),
              effects: stored.status === "RUNNING" ? this.journal.effects.entries(`${journalId}\u0001`) : [],
            }),
        };
      })
      .sort((a, b) => a.stored.sequence - b.stored.sequence);
  }

  /** The runtime is stopping: nothing interrupted executions do from now on is kept (they stay RUNNING). */
  stop(): void {
    this.stopped = true;
  }

  private guarded<T>(collection: StoreCollection<T>): StoreCollection<T> {
    return {
      get: (key) => collection.get(key),
      put: (key, value) => void (this.stopped || collection.put(key, value)),
      delete: (key) => void (this.stopped || collection.delete(key)),
      deletePrefix: (prefix) => void (this.stopped || collection.deletePrefix(prefix)),
      uncommitted: (key) => collection.uncommitted(key),
      entries: (prefix) => collection.entries(prefix),
    };
  }
}

function toStored(execution: Execution, definitionHash: string): StoredExecution {
  const revision = execution.machine as { revisionId?: string; updateDate?: number };
  return {
    revisionId: revision.revisionId,
    revisionDate: revision.updateDate,
    arn: execution.arn,
    name: execution.name,
    machineArn: execution.machine.arn,
    machineName: execution.machine.name,
    roleArn: execution.machine.roleArn,
    definitionHash,
    input: execution.input,
    startDate: execution.startDate,
    sequence: execution.sequence,
    status: execution.status,
    stopDate: execution.stopDate,
    output: execution.output,
    error: execution.error,
    cause: execution.cause,
    redriveCount: execution.redriveCount,
    redriveDate: execution.redriveDate,
  };
}
