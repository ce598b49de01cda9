/**
 * The SQLite store on whichever binding this Node uses (node:sqlite from Node 24, better-sqlite3 before): writes
 * batched per event-loop turn survive a reopen, a failed batch leaves nothing half-written, and a second opener of a
 * held folder is refused by name. The suite runs on Node 20 and on Node 24 in CI, so both bindings are covered.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openSqlDatabase } from "../../../local/store/sqliteDriver";
import { SqliteStore, StateFolderInUseError } from "../../../local/store/sqliteStore";
import { WalSync } from "../../../local/store/walSync";
import { WriteBatch, type WriteOperation } from "../../../local/store/writeBatch";

describe("SQLite store", () => {
  let directory: string;
  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "sqlite-store-"))));
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it(`uses ${Number(process.versions.node.split(".")[0]) >= 24 ? "node:sqlite" : "better-sqlite3"} on Node ${process.versions.node}`, () => {
    const database = openSqlDatabase(path.join(directory, "probe.db"));
    try {
      assert.equal(database.driver, Number(process.versions.node.split(".")[0]) >= 24 ? "node:sqlite" : "better-sqlite3");
      database.exec("CREATE TABLE t (a TEXT)");
      database.prepare("INSERT INTO t VALUES (?)").run("x");
      assert.deepEqual({ ...database.prepare("SELECT a FROM t WHERE a = ?").get("x") }, { a: "x" });
      assert.equal(database.prepare("SELECT a FROM t WHERE a = ?").get("y"), undefined);
    } finally {
      database.close();
    }
  });

  it("keeps committed puts and deletes across a reopen, and reads pending writes before the commit", async () => {
    let store = SqliteStore.open(directory);
    const items = store.collection<{ n: number }>("items");
    for (let n = 0; n < 100; n++) items.put(`k${String(n).padStart(3, "0")}`, { n });
    items.delete("k050");
    assert.deepEqual(items.get("k007"), { n: 7 });
    assert.equal(items.get("k050"), undefined);
    await store.committed();
    items.deletePrefix("k09");
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    const reopened = store.collection<{ n: number }>("items");
    const keys = reopened.entries().map(([key]) => key);
    assert.equal(keys.length, 89);
    assert.ok(!keys.includes("k050") && !keys.includes("k095"));
    assert.deepEqual(reopened.entries("k01").slice(0, 2), [
      ["k010", { n: 10 }],
      ["k011", { n: 11 }],
    ]);
    store.close();
  });

  it("acknowledges a commit that wrote no page, and a sync of a log SQLite has not created yet", async () => {
    SqliteStore.open(directory).close();
    const store = SqliteStore.open(directory);
    try {
      store.collection("items").delete("never-there");
      await store.committed();
      store.collection("items").put("k", 1);
      await store.committed();
      assert.equal(store.collection("items").get("k"), 1);
    } finally {
      store.close();
    }
    const sync = new WalSync(path.join(directory, "no-such.db-wal"));
    await new Promise<void>((resolve, reject) => sync.after([{ resolve, reject }]));
    sync.close();
  });

  it("acknowledges commits made while a log sync is running once a later sync covers them", async () => {
    const store = SqliteStore.open(directory);
    const items = store.collection<number>("items");
    const acknowledged: number[] = [];
    const writes = Array.from({ length: 20 }, async (_, n) => {
      await new Promise((resolve) => setTimeout(resolve, n));
      items.put(`k${n}`, n);
      await store.committed();
      acknowledged.push(n);
    });
    await Promise.all(writes);
    assert.equal(acknowledged.length, 20);
    store.close();
    const reopened = SqliteStore.open(directory);
    assert.equal(reopened.collection("items").entries().length, 20);
    reopened.close();
  });

  it("refuses a second opener of the same folder while the first holds it, and lets it in after close", () => {
    const first = SqliteStore.open(directory);
    assert.throws(
      () => SqliteStore.open(directory),
      (error: Error) => {
        assert.ok(error instanceof StateFolderInUseError);
        assert.match(error.message, new RegExp(`in use by another local runtime \\(pid ${process.pid}, started `));
        return true;
      },
    );
    first.close();
    SqliteStore.open(directory).close();
  });
  it("writes a key put again in the same turn once, with its last value, unless a prefix deletion came between the puts", async () => {
    const committed: WriteOperation[][] = [];
    const batch = new WriteBatch((operations) => committed.push(operations.map((operation) => ({ ...operation }))));
    batch.add({ kind: "put", collection: "rows", key: "a", value: 1 });
    batch.add({ kind: "put", collection: "rows", key: "b", value: 1 });
    batch.add({ kind: "put", collection: "rows", key: "a", value: 2 });
    assert.deepEqual(batch.pending("rows", "a"), { value: 2 });
    batch.add({ kind: "deletePrefix", collection: "rows", key: "b" });
    batch.add({ kind: "put", collection: "rows", key: "b", value: 2 });
    batch.add({ kind: "put", collection: "rows", key: "a", value: 3 });
    await batch.committed();
    assert.deepEqual(committed, [
      [
        { kind: "put", collection: "rows", key: "a", value: 3 },
        { kind: "put", collection: "rows", key: "b", value: 1 },
        { kind: "deletePrefix", collection: "rows", key: "b" },
        { kind: "put", collection: "rows", key: "b", value: 2 },
      ],
    ]);
    // After the commit, a put is a write of its own again.
    batch.add({ kind: "put", collection: "rows", key: "a", value: 4 });
    await batch.committed();
    assert.deepEqual(committed[1], [{ kind: "put", collection: "rows", key: "a", value: 4 }]);
  });

  it("says a key is uncommitted from its write until the commit, and keeps the value put last", async () => {
    let store = SqliteStore.open(directory);
    const items = store.collection<number[]>("items");
    const value = [1];
    items.put("k", value);
    assert.equal(items.uncommitted("k"), true);
    assert.equal(items.uncommitted("other"), false);
    items.deletePrefix("o");
    assert.equal(items.uncommitted("other"), false, "a pending prefix deletion is not a pending put");
    value.push(2);
    items.put("k", value);
    await store.committed();
    assert.equal(items.uncommitted("k"), false);
    store.close();
    store = SqliteStore.open(directory);
    assert.deepEqual(store.collection<number[]>("items").entries(), [["k", [1, 2]]]);
    store.close();
  });
});
