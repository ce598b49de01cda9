/**
 * The durable store: one SQLite database per stack (`state.db`), through the binding sqliteDriver.ts picks.
 *
 * Why these settings:
 * - WAL journal: a commit appends to the log instead of rewriting pages, and a crash at any point leaves
 *   either the whole transaction or none of it (https://www.sqlite.org/wal.html).
 * - `synchronous = NORMAL` plus our own fdatasync of the log before a commit is acknowledged (walSync.ts): an
 *   acknowledged write survives not only `kill -9` of the runtime but also a power cut or an OS crash, as with
 *   FULL, without the event loop waiting for the disk. That is the meaning of "acknowledged means kept";
 *   batching (one transaction per event-loop turn, one sync for every commit before it) pays for the syncs.
 * - `locking_mode = EXCLUSIVE`: the runtime holds the database's lock for its whole life, so a second runtime
 *   on the same folder is refused by SQLite itself, and the lock dies with the process (even after kill -9:
 *   the OS drops it), so there is never a stale lock to clean up.
 * - `cache_size = -2000` (2 MB, SQLite's own default, which node:sqlite keeps): better-sqlite3 is built with 16 MB,
 *   and at the end of every write transaction SQLite walked that whole page cache (`pcache1TruncateUnsafe`, about 4%
 *   of the runtime's CPU under the e2e benchmark, measured with perf); 2 MB holds what the writes touch.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StateStore, StoreCollection } from "../common/store";
import { isBusyError, openSqlDatabase, type SqlDatabase } from "./sqliteDriver";
import { WalSync } from "./walSync";
import { WriteBatch } from "./writeBatch";

const DATABASE_FILE = "state.db";
const OWNER_FILE = "owner.json";
const FILES_FOLDER = "files";

/** Another runtime holds the state folder. */
export class StateFolderInUseError extends Error {}

export interface OpenSqliteStoreOptions {
  /** Starts from empty state (`npm start -- --reset`), after taking the lock. */
  reset?: boolean;
}

export class SqliteStore implements StateStore {
  readonly durable = true;
  private readonly batch: WriteBatch;
  private readonly walSync: WalSync;
  private readonly database: SqlDatabase;
  private closed = false;

  private constructor(
    readonly directory: string,
    database: SqlDatabase,
  ) {
    this.database = database;
    this.walSync = new WalSync(path.join(directory, DATABASE_FILE + "-wal"));
    const upsert = database.prepare(
      "INSERT INTO entries (collection, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
    );
    const remove = database.prepare("DELETE FROM entries WHERE collection = ? AND key = ?");
    const removePrefix = database.prepare("DELETE FROM entries WHERE collection = ? AND key >= ? AND key < ?");
    this.batch = new WriteBatch(
      (operations) => {
        database.exec("BEGIN");
        try {
          for (const operation of operations) {
            if (operation.kind === "put") upsert.run(operation.collection, operation.key, JSON.stringify(operation.value));
            else if (operation.kind === "delete") remove.run(operation.collection, operation.key);
            else removePrefix.run(operation.collection, operation.key, prefixEnd(operation.key));
          }
          database.exec("COMMIT");
        } catch (error) {
          database.exec("ROLLBACK");
          throw error;
        }
      },
      (waiters) => this.walSync.after(waiters),
    );
  }

  /** Opens (creating if needed) the store in `directory`; throws StateFolderInUseError if another runtime has it. */
  static open(directory: string, options: OpenSqliteStoreOptions = {}): SqliteStore {
    fs.mkdirSync(directory, { recursive: true });
    const database = openSqlDatabase(path.join(directory, DATABASE_FILE));
    try {
      database.exec("PRAGMA locking_mode = EXCLUSIVE");
      database.exec("PRAGMA journal_mode = WAL");
      database.exec("PRAGMA synchronous = NORMAL");
      database.exec("PRAGMA cache_size = -2000");
      // The first write takes the exclusive lock, held until close.
      database.exec(
        "CREATE TABLE IF NOT EXISTS entries (collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (collection, key)) WITHOUT ROWID",
      );
      database.exec("BEGIN IMMEDIATE; COMMIT");
    } catch (error) {
      database.close();
      if (isBusyError(error)) {
        throw new StateFolderInUseError(
          `The state folder ${directory} is in use by another local runtime${describeOwner(directory)}. ` +
            `Stop it first, or give this one its own state (another --stack, or --state memory).`,
        );
      }
      throw error;
    }
    fs.writeFileSync(path.join(directory, OWNER_FILE), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
    const store = new SqliteStore(directory, database);
    if (options.reset) {
      database.exec("DELETE FROM entries");
      fs.rmSync(path.join(directory, FILES_FOLDER), { recursive: true, force: true });
    }
    return store;
  }

  collection<T>(name: string): StoreCollection<T> {
    const select = this.database.prepare("SELECT key, value FROM entries WHERE collection = ? AND key >= ? AND key < ? ORDER BY key");
    const selectOne = this.database.prepare("SELECT value FROM entries WHERE collection = ? AND key = ?");
    const batch = this.batch;
    return {
      get: (key) => {
        const pending = batch.pending(name, key);
        if (pending) return pending.value as T | undefined;
        const row = selectOne.get(name, key);
        return row ? (JSON.parse(row.value as string) as T) : undefined;
      },
      put: (key, value) => batch.add({ kind: "put", collection: name, key, value }),
      delete: (key) => batch.add({ kind: "delete", collection: name, key }),
      deletePrefix: (prefix) => batch.add({ kind: "deletePrefix", collection: name, key: prefix }),
      uncommitted: (key) => batch.hasPendingPut(name, key),
      entries: (prefix = "") =>
        select.all(name, prefix, prefixEnd(prefix)).map((row) => [row.key as string, JSON.parse(row.value as string) as T]),
    };
  }

  filesFor(service: string): string {
    const folder = path.join(this.directory, FILES_FOLDER, service);
    fs.mkdirSync(folder, { recursive: true });
    return folder;
  }

  committed(): Promise<void> {
    return this.batch.committed();
  }

  get failedCommits(): number {
    return this.batch.failedCommits;
  }

  /** Bytes the database takes on disk now, after moving the write-ahead log into the database file. */
  sizeOnDisk(): number {
    this.database.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    let total = 0;
    for (const suffix of ["", "-wal"]) {
      try {
        total += fs.statSync(path.join(this.directory, DATABASE_FILE + suffix)).size;
      } catch {
        // no such file yet
      }
    }
    return total;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.batch.flush();
    // Closing checkpoints the log into the database file and syncs it: what the log sync still had to cover is kept.
    this.database.close();
    this.walSync.close();
  }
}

/** The smallest string greater than every string starting with `prefix` (for key range scans). */
function prefixEnd(prefix: string): string {
  return prefix + "\uffff";
}

function describeOwner(directory: string): string {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(directory, OWNER_FILE), "utf8"));
    return ` (pid ${owner.pid}, started ${owner.startedAt})`;
  } catch {
    return "";
  }
}
