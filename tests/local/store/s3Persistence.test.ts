/** S3 objects kept in the state folder: content files under hashed paths, read back after a restart. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { StoredObject } from "../../../local/s3/objectStore";
import { objectFilePath, S3Persistence } from "../../../local/s3/persistence";
import { SqliteStore } from "../../../local/store/sqliteStore";

function object(key: string, text: string): StoredObject {
  const body = Buffer.from(text);
  return { key, size: body.length, body, etag: '"e"', lastModified: new Date(0), contentType: "text/plain", metadata: { owner: "me" } };
}

function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe("S3 objects in the state folder", () => {
  let directory: string;
  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3-state-"))));
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("maps every key, including '..', '/', NUL and 1,024-byte keys, to a file inside the folder", () => {
    const root = path.join(directory, "s3");
    for (const key of ["../../etc/passwd", "/absolute", "a/../../b", "nul\u0000byte", "k".repeat(1024), ".."]) {
      const file = objectFilePath(root, "bucket", key, "v1");
      assert.ok(file.startsWith(root + path.sep), `${JSON.stringify(key)} → ${file}`);
      assert.ok(path.basename(file).length < 100);
    }
  });

  it("forgets a deleted bucket's objects with it, so a bucket removed with forceDestroy stays removed after a restart", async () => {
    let store = SqliteStore.open(directory);
    let persistence = new S3Persistence(store, store.filesFor("s3"));
    persistence.saveBucket("gone", new Date(0));
    persistence.saveBucket("kept", new Date(0));
    await Promise.all([persistence.saveObject("gone", object("a.txt", "a")), persistence.saveObject("kept", object("b.txt", "b"))]);
    await store.committed();
    persistence.deleteBucket("gone");
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    persistence = new S3Persistence(store, store.filesFor("s3"));
    const { buckets, objects } = persistence.load();
    assert.deepEqual(
      buckets.map(({ name }) => name),
      ["kept"],
    );
    assert.deepEqual(
      objects.map(({ bucketName, object }) => [bucketName, object.key]),
      [["kept", "b.txt"]],
    );
    assert.equal(filesUnder(store.filesFor("s3")).length, 1, "the deleted bucket's file is swept at the start");
    store.close();
  });

  it("reads objects back after the store is reopened, keeping one file per object after an overwrite, and deleting none it names", async () => {
    let store = SqliteStore.open(directory);
    let persistence = new S3Persistence(store, store.filesFor("s3"));
    persistence.saveBucket("bucket", new Date(0));
    await Promise.all([
      persistence.saveObject("bucket", object("../escape.txt", "first")),
      persistence.saveObject("bucket", object("../escape.txt", "second")),
      persistence.saveObject("bucket", object("docs/a.txt", "kept")),
      persistence.saveObject("bucket", object("docs/gone.txt", "deleted")),
      persistence.deleteObject("bucket", "docs/gone.txt"),
    ]);
    await store.committed();
    await new Promise((resolve) => setImmediate(resolve));
    store.close();

    store = SqliteStore.open(directory);
    persistence = new S3Persistence(store, store.filesFor("s3"));
    const { buckets, objects } = persistence.load();
    assert.deepEqual(buckets, [{ name: "bucket", creationDate: new Date(0) }]);
    const bodies = await Promise.all(objects.map(({ object }) => persistence.readObject(object.file!, object.size)));
    assert.deepEqual(
      objects.map(({ bucketName, object }, index) => [bucketName, object.key, bodies[index].toString(), object.metadata]),
      [
        ["bucket", "../escape.txt", "second", { owner: "me" }],
        ["bucket", "docs/a.txt", "kept", { owner: "me" }],
      ],
    );
    assert.equal(filesUnder(store.filesFor("s3")).length, 2);
    store.close();
  });

  it("keeps the later of two writes to one key even when the earlier one's content takes longer to reach the disk", async () => {
    let store = SqliteStore.open(directory);
    let persistence = new S3Persistence(store, store.filesFor("s3"));
    persistence.saveBucket("bucket", new Date(0));
    const large = "x".repeat(32 * 1024 * 1024);
    const saves = [persistence.saveObject("bucket", object("k.txt", large)), persistence.saveObject("bucket", object("k.txt", "later"))];
    await Promise.all(saves);
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    persistence = new S3Persistence(store, store.filesFor("s3"));
    const { objects } = persistence.load();
    const bodies = await Promise.all(objects.map(({ object }) => persistence.readObject(object.file!, object.size)));
    assert.deepEqual(
      objects.map(({ object }, index) => [object.key, bodies[index].toString()]),
      [["k.txt", "later"]],
    );
    store.close();
  });

  it("deletes a key after a write to it begun earlier, so the deletion is what a restart finds", async () => {
    let store = SqliteStore.open(directory);
    let persistence = new S3Persistence(store, store.filesFor("s3"));
    persistence.saveBucket("bucket", new Date(0));
    const written = persistence.saveObject("bucket", object("k.txt", "y".repeat(16 * 1024 * 1024)));
    const deleted = persistence.deleteObject("bucket", "k.txt");
    await Promise.all([written, deleted]);
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    persistence = new S3Persistence(store, store.filesFor("s3"));
    assert.deepEqual(persistence.load().objects, []);
    store.close();
  });

  it("answers a write only once its content file is on disk, and rejects one whose file cannot be written", async () => {
    const store = SqliteStore.open(directory);
    const root = store.filesFor("s3");
    const persistence = new S3Persistence(store, root);
    persistence.saveBucket("bucket", new Date(0));
    await persistence.saveObject("bucket", object("a.txt", "content"));
    assert.deepEqual(
      filesUnder(root).map((file) => fs.readFileSync(file, "utf8")),
      ["content"],
    );
    // A file where the bucket's folder should be: the content cannot be written.
    fs.writeFileSync(path.join(root, "blocked"), "");
    await assert.rejects(persistence.saveObject("blocked", object("b.txt", "lost")), /EEXIST|ENOTDIR/);
    store.close();
  });
  it("restores an object recorded before sizes were kept with the size of its file, and keeps that size in its record", async () => {
    let store = SqliteStore.open(directory);
    let persistence = new S3Persistence(store, store.filesFor("s3"));
    persistence.saveBucket("bucket", new Date(0));
    await persistence.saveObject("bucket", object("old.txt", "eleven char"));
    await store.committed();
    const records = store.collection<Record<string, unknown>>("s3.objects");
    const [[name, record]] = records.entries("");
    const { size: _size, ...withoutSize } = record;
    records.put(name, withoutSize);
    await store.committed();
    store.close();

    store = SqliteStore.open(directory);
    persistence = new S3Persistence(store, store.filesFor("s3"));
    const [{ object: restored }] = persistence.load().objects;
    assert.equal(restored.size, 11);
    assert.equal(restored.body, undefined, "the content stays in its file");
    await store.committed();
    assert.equal(store.collection<{ size?: number }>("s3.objects").get(name)?.size, 11);
    store.close();
  });
});
