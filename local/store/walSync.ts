/**
 * Makes committed transactions durable without blocking the event loop: a group fdatasync of SQLite's
 * write-ahead log on libuv's thread pool.
 *
 * With `synchronous = FULL` SQLite fsyncs the log inside COMMIT, on the runtime's only JavaScript thread: measured
 * under the e2e benchmark's load, about a fifth of that thread's time went to waiting for the disk, time in which
 * no request, timer or function result was handled. Instead the store runs `synchronous = NORMAL` (in WAL mode
 * SQLite still syncs around every checkpoint, so the database file is never corrupted) and, before anyone is told
 * "committed", this file fdatasyncs the log. A sync that starts after a commit returned covers that commit's
 * frames (they are in the file's page cache by then, or already checkpointed into the synced database file), so
 * acknowledged writes survive a power cut as with FULL. One sync serves every commit made before it started.
 *
 * Written here because SQLite bindings offer no asynchronous commit, and the rule is a few lines.
 */
import * as fs from "node:fs";
import { promisify } from "node:util";
import { GroupSync } from "../common/groupSync";

const fdatasync = promisify(fs.fdatasync);

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class WalSync {
  private descriptor: number | undefined;
  private closed = false;
  private readonly syncs = new GroupSync(() => this.syncOnce());

  constructor(private readonly walFile: string) {}

  /** Resolves the waiters once a sync that starts now or later has finished (the commits they wait for are written). */
  after(waiters: Waiter[]): void {
    if (waiters.length === 0) return;
    this.syncs.request().then(
      () => waiters.forEach((waiter) => waiter.resolve()),
      (error: unknown) => waiters.forEach((waiter) => waiter.reject(error)),
    );
  }

  /**
   * Stops; the caller has closed the database, which checkpointed and synced everything, so waiters are kept.
   * The log's descriptor is closed once a sync still going has ended.
   */
  close(): void {
    this.closed = true;
    const closeDescriptor = () => {
      if (this.descriptor !== undefined) fs.closeSync(this.descriptor);
      this.descriptor = undefined;
    };
    this.syncs.request().then(closeDescriptor, closeDescriptor);
  }

  private async syncOnce(): Promise<void> {
    if (this.closed) return;
    try {
      // Opened at the first sync: SQLite creates the log at the first write.
      this.descriptor ??= fs.openSync(this.walFile, "r+");
    } catch (error) {
      // No log yet: the commits wrote no page (e.g. deleting a key that was never there), so nothing is unsynced.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    try {
      await fdatasync(this.descriptor);
    } catch (error) {
      if (!this.closed) throw error;
    }
  }
}
