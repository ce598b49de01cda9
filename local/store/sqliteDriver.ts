/**
 * Which SQLite binding the durable store uses, behind the few calls it needs.
 *
 * - Node 24 and later: Node's own `node:sqlite`. better-sqlite3 12 cannot be used there: its objects derive from
 *   the raw `node::ObjectWrap`, which since Node 24.19 removes an environment cleanup hook in its destructor, and a
 *   statement collected by an idle GC (no JavaScript context entered) aborts the whole process with
 *   `Assertion failed: (env) != nullptr`. better-sqlite3 13 fixes that, but does not load on Node 20.
 * - Older Node (20, and 22, where `node:sqlite` still prints an ExperimentalWarning at first use): better-sqlite3 12,
 *   loaded only then, so Node 24 never maps its addon. It is an optional dependency: on Node 24 without a prebuilt
 *   binary its failed native build must not fail `npm ci`.
 *
 * Both are SQLite with the same SQL and pragmas; only the JavaScript surface differs, which this file hides.
 */
import { createRequire } from "node:module";

/** A prepared statement: positional parameters, rows as plain objects. */
export interface SqlStatement {
  run(...parameters: unknown[]): void;
  get(...parameters: unknown[]): Record<string, unknown> | undefined;
  all(...parameters: unknown[]): Array<Record<string, unknown>>;
}

export interface SqlDatabase {
  /** Which binding this is (shown in diagnostics). */
  readonly driver: "node:sqlite" | "better-sqlite3";
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

const requireHere = createRequire(__filename);

/** Node's major version from which `node:sqlite` is used. */
const NODE_SQLITE_FROM_MAJOR = 24;

/** Opens `file` with no busy wait: a locked database fails at once with SQLITE_BUSY (see isBusyError). */
export function openSqlDatabase(file: string): SqlDatabase {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= NODE_SQLITE_FROM_MAJOR ? openWithNodeSqlite(file) : openWithBetterSqlite3(file);
}

/** True when SQLite refused because another connection holds the lock, whichever binding threw. */
export function isBusyError(error: unknown): boolean {
  const details = error as { code?: string; errcode?: number };
  // better-sqlite3 names the code; node:sqlite throws ERR_SQLITE_ERROR with SQLite's primary code 5 (SQLITE_BUSY).
  return details.code === "SQLITE_BUSY" || (details.code === "ERR_SQLITE_ERROR" && (details.errcode! & 0xff) === 5);
}

/** The part of `node:sqlite` used here (the project's @types/node is Node 20's, which has no such module). */
interface NodeSqliteModule {
  DatabaseSync: new (
    file: string,
    options: { timeout: number },
  ) => {
    exec(sql: string): void;
    prepare(sql: string): {
      run(...parameters: unknown[]): unknown;
      get(...parameters: unknown[]): Record<string, unknown> | undefined;
      all(...parameters: unknown[]): Array<Record<string, unknown>>;
    };
    close(): void;
  };
}

function openWithNodeSqlite(file: string): SqlDatabase {
  const { DatabaseSync } = requireHere("node:sqlite") as NodeSqliteModule;
  const database = new DatabaseSync(file, { timeout: 0 });
  return {
    driver: "node:sqlite",
    exec: (sql) => database.exec(sql),
    prepare: (sql) => {
      const statement = database.prepare(sql);
      return {
        run: (...parameters) => void statement.run(...parameters),
        get: (...parameters) => statement.get(...parameters),
        all: (...parameters) => statement.all(...parameters),
      };
    },
    close: () => database.close(),
  };
}

function openWithBetterSqlite3(file: string): SqlDatabase {
  let Database: typeof import("better-sqlite3");
  try {
    Database = requireHere("better-sqlite3") as typeof import("better-sqlite3");
  } catch (error) {
    // An optional dependency: `npm ci` goes on without it when its native build fails.
    throw new Error(
      `The durable store needs Node ${NODE_SQLITE_FROM_MAJOR} or later (node:sqlite), or on Node ${process.versions.node} the ` +
        `optional package better-sqlite3, which did not load (${(error as Error).message.split("\n")[0]}). ` +
        `Run on Node ${NODE_SQLITE_FROM_MAJOR}, reinstall with \`npm ci\` where it can build, or keep state in memory with \`npm start -- --state memory\`.`,
      { cause: error },
    );
  }
  const database = new Database(file, { timeout: 0 });
  return {
    driver: "better-sqlite3",
    exec: (sql) => void database.exec(sql),
    prepare: (sql) => {
      const statement = database.prepare(sql);
      return {
        run: (...parameters) => void statement.run(...parameters),
        get: (...parameters) => statement.get(...parameters) as Record<string, unknown> | undefined,
        all: (...parameters) => statement.all(...parameters) as Array<Record<string, unknown>>,
      };
    },
    close: () => database.close(),
  };
}
