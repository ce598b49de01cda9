/**
 * Writes gathered during one event-loop turn and committed together in one transaction: one fsync for every
 * request answered in that turn instead of one each. Callers wait on `committed()` before acknowledging.
 */
export interface WriteOperation {
  kind: "put" | "delete" | "deletePrefix";
  collection: string;
  /** The key, or the prefix for deletePrefix. */
  key: string;
  value?: unknown;
}

export class WriteBatch {
  operations: WriteOperation[] = [];
  /** The latest pending put/delete per collection and key (with its position), for reads before the commit. */
  private latest = new Map<string, { operation: WriteOperation; position: number }>();
  /** Pending prefix deletions, checked by `pending` (rare) rather than applied to `latest` (per write). */
  private prefixDeletes: Array<{ collection: string; prefix: string; position: number }> = [];
  private scheduled = false;
  private waiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];

  /**
   * `commit` writes the operations in one transaction; `settle` is told who waits for it, and resolves them once
   * the transaction is durable (by default at once: the commit itself was).
   */
  constructor(
    private readonly commit: (operations: WriteOperation[]) => void,
    private readonly settle: (waiters: Array<{ resolve(): void; reject(error: unknown): void }>) => void = (waiters) => {
      for (const waiter of waiters) waiter.resolve();
    },
  ) {}

  add(operation: WriteOperation): void {
    if (operation.kind === "deletePrefix") {
      const position = this.operations.push(operation);
      this.prefixDeletes.push({ collection: operation.collection, prefix: operation.key, position });
    } else {
      const latestKey = `${operation.collection}\0${operation.key}`;
      const latest = this.latest.get(latestKey);
      // A put of a key whose put is still pending (no prefix deletion since) takes that put's place: the row is written
      // once per commit however often it changed in the turn (an execution's events of one turn share a row).
      if (operation.kind === "put" && latest?.operation.kind === "put" && !this.prefixDeletedSince(operation, latest.position)) {
        latest.operation.value = operation.value;
        return;
      }
      this.latest.set(latestKey, { operation, position: this.operations.push(operation) });
    }
    this.schedule();
  }

  /** Whether a prefix deletion covering the operation's key was added after `position`. */
  private prefixDeletedSince(operation: WriteOperation, position: number): boolean {
    for (let index = this.prefixDeletes.length - 1; index >= 0 && this.prefixDeletes[index].position > position; index--) {
      const deletion = this.prefixDeletes[index];
      if (deletion.collection === operation.collection && operation.key.startsWith(deletion.prefix)) return true;
    }
    return false;
  }

  /** Whether a put of `key` waits for the commit, with no deletion after it: a put now would take its place. */
  hasPendingPut(collection: string, key: string): boolean {
    const latest = this.latest.get(`${collection}\0${key}`);
    return latest?.operation.kind === "put" && !this.prefixDeletedSince(latest.operation, latest.position);
  }

  /** A write still waiting for the commit: `{value}` (undefined value: deleted), or undefined if none. */
  pending(collection: string, key: string): { value: unknown } | undefined {
    const latest = this.latest.get(`${collection}\0${key}`);
    const deletedAfter = this.prefixDeletes.some(
      (deletion) => deletion.collection === collection && key.startsWith(deletion.prefix) && deletion.position > (latest?.position ?? 0),
    );
    if (deletedAfter) return { value: undefined };
    if (!latest) return undefined;
    return { value: latest.operation.kind === "put" ? latest.operation.value : undefined };
  }

  committed(): Promise<void> {
    if (this.operations.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Batches whose commit failed (their writes are not in the store). */
  failedCommits = 0;

  /** Commits now (also used on close). */
  flush(): void {
    this.scheduled = false;
    const operations = this.operations;
    const waiters = this.waiters;
    this.operations = [];
    this.latest = new Map();
    this.prefixDeletes = [];
    this.waiters = [];
    try {
      if (operations.length > 0) this.commit(operations);
    } catch (error) {
      this.failedCommits++;
      for (const waiter of waiters) waiter.reject(error);
      throw error;
    }
    this.settle(waiters);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current turn's I/O callbacks and microtasks, so every request handled in this turn shares it.
    setImmediate(() => {
      try {
        this.flush();
      } catch {
        // the waiters got the error; a failed commit must not crash the runtime
      }
    });
  }
}
