/**
 * The state every local service keeps across restarts. The runtime opens one store per stack (local/store:
 * SQLite under `.local/<stack>/`, or in memory with `--state memory`) and hands it to every service through
 * LocalContext. A service keeps its working state in its own memory, as before, and mirrors every change
 * into a collection (write-behind); on start it reads its collections back.
 *
 * "Acknowledged means kept": writes are batched and committed once per event-loop turn, so a service that
 * answers a request with success must `await store.committed()` first; the answer then leaves only after
 * what the request changed is on disk.
 */

/** A named set of JSON values by string key, e.g. "states.executions" or "sqs.messages". */
export interface StoreCollection<T> {
  /** The latest value written for `key` (including writes not yet committed). */
  get(key: string): T | undefined;
  /** Writes (or replaces) one value; committed with the current event-loop turn's batch. */
  put(key: string, value: T): void;
  delete(key: string): void;
  /** Every committed entry whose key starts with `prefix`, in key order (for loading at start). */
  entries(prefix?: string): Array<[key: string, value: T]>;
  /** Deletes every entry whose key starts with `prefix` (a finished message's parts, a deleted bucket). */
  deletePrefix(prefix: string): void;
  /**
   * True while a put of `key` waits for the current batch's commit: a put of it now replaces that write in the same
   * commit (the row is written once), where after the commit it is another write.
   */
  uncommitted(key: string): boolean;
}

export interface StateStore {
  /** True when state survives the process (SQLite on disk); false for `--state memory`. */
  readonly durable: boolean;
  /** Folder holding the state (durable stores only), e.g. `<project>/.local/dev/state`. */
  readonly directory?: string;
  collection<T>(name: string): StoreCollection<T>;
  /**
   * A folder a service may keep its own files in (S3 object bodies, dynalite's data), created on demand;
   * undefined for the in-memory store. Files written there must be synced before the write is acknowledged.
   */
  filesFor(service: string): string | undefined;
  /** Resolves once every write made before this call is committed (on disk, for a durable store). */
  committed(): Promise<void>;
  /**
   * How many batches failed to commit since the store opened: a service whose memory mirrors the store knows from a
   * change in it that the store may lack some of its writes.
   */
  readonly failedCommits: number;
  /** Commits what is pending and closes the store (the runtime's clean stop). */
  close(): void;
}
