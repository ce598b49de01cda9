/** S3 content files on disk: the directory entry of a new file is synced before the write counts as done; directories are made once. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ContentDisk, ContentFiles, nodeDisk } from "../../../local/s3/contentFiles";
import { S3Persistence } from "../../../local/s3/persistence";
import { SqliteStore } from "../../../local/store/sqliteStore";

/** The real disk, every call recorded in order; a directory sync waits while `holdSyncs` is set. */
function recordingDisk() {
  const calls: string[] = [];
  let release: () => void = () => undefined;
  let held: Promise<void> | undefined;
  let heldOnly: string | undefined;
  const disk: ContentDisk = {
    async makeDirectory(directory) {
      calls.push(`mkdir ${directory}`);
      return nodeDisk.makeDirectory(directory);
    },
    async createFile(file, body) {
      await nodeDisk.createFile(file, body);
      calls.push(`create ${file}`);
    },
    async syncDirectory(directory) {
      calls.push(`sync ${directory}`);
      if (held && (heldOnly === undefined || directory === heldOnly)) await held;
      await nodeDisk.syncDirectory(directory);
      calls.push(`synced ${directory}`);
    },
  };
  return {
    disk,
    calls,
    /** Holds every directory sync, or only those of `only`. */
    holdSyncs(only?: string) {
      heldOnly = only;
      held = new Promise((resolve) => (release = resolve));
    },
    releaseSyncs() {
      held = undefined;
      release();
    },
  };
}

const settled = (promise: Promise<unknown>) => {
  const state = { done: false };
  void promise.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
};

describe("S3 content files", () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "s3-files-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Files whose directory already holds one file (made and synced); the disk calls are recorded from then on. */
  async function withOneFileWritten() {
    const recording = recordingDisk();
    const files = new ContentFiles(root, recording.disk);
    const directory = path.join(root, "bucket", "ab");
    await files.write(path.join(directory, "first"), Buffer.from("1"));
    recording.calls.length = 0;
    return { ...recording, files, directory };
  }

  it("does not finish a write until the directory entry of its new file is synced, after the file is created", async () => {
    const { files, directory, calls, holdSyncs, releaseSyncs } = await withOneFileWritten();

    holdSyncs();
    const file = path.join(directory, "second");
    const writing = settled(files.write(file, Buffer.from("2")));
    while (!calls.includes(`sync ${directory}`)) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(writing.done, false, "the write finished while its directory's sync was still held");
    releaseSyncs();
    while (!writing.done) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(calls, [`create ${file}`, `sync ${directory}`, `synced ${directory}`]);
  });

  it("syncs every directory it makes in its parent, so the path to a new file survives a power cut too", async () => {
    const { disk, calls } = recordingDisk();
    const files = new ContentFiles(root, disk);
    const file = path.join(root, "bucket", "ab", "object");
    await files.write(file, Buffer.from("content"));
    const syncs = calls.filter((call) => call.startsWith("synced ")).sort();
    assert.deepEqual(syncs, [`synced ${root}`, `synced ${path.join(root, "bucket")}`, `synced ${path.join(root, "bucket", "ab")}`].sort());
    const created = calls.indexOf(`create ${file}`);
    assert.ok(calls.indexOf(`sync ${path.join(root, "bucket")}`) < created, "the made directories are synced before the file is created");
    assert.ok(calls.indexOf(`sync ${path.join(root, "bucket", "ab")}`) > created);
  });

  it("syncs a new bucket folder in its parent before a sibling's first write there counts, whichever write made the folder", async () => {
    const { disk, calls, holdSyncs, releaseSyncs } = recordingDisk();
    const files = new ContentFiles(root, disk);
    // Two first writes into one new bucket, in different hash folders: one mkdir makes the bucket folder, the other
    // finds it made, and must still wait for the bucket folder's entry in the root to be synced.
    const first = path.join(root, "bucket", "aa", "one");
    const second = path.join(root, "bucket", "cc", "two");
    holdSyncs(root);
    const writes = [files.write(first, Buffer.from("1")), files.write(second, Buffer.from("2"))].map(settled);
    while (!calls.includes(`sync ${root}`)) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      writes.map((write) => write.done),
      [false, false],
      "a write into the new bucket finished while the root's sync was held",
    );
    releaseSyncs();
    while (!writes.every((write) => write.done)) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const file of [first, second]) {
      assert.ok(calls.indexOf(`synced ${root}`) < calls.indexOf(`create ${file}`), `${file} was created before the root's sync ended`);
    }
    calls.length = 0;
    await files.write(path.join(root, "bucket", "cc", "three"), Buffer.from("3"));
    assert.deepEqual(
      calls.filter((call) => call.startsWith("sync ")),
      [`sync ${path.join(root, "bucket", "cc")}`],
      "a folder known durable is not synced in its parent again",
    );
  });

  it("makes each directory once, and makes it again when it was removed", async () => {
    const { disk, calls } = recordingDisk();
    const files = new ContentFiles(root, disk);
    const directory = path.join(root, "bucket", "ab");
    await Promise.all(["a", "b", "c"].map((name) => files.write(path.join(directory, name), Buffer.from(name))));
    await files.write(path.join(directory, "d"), Buffer.from("d"));
    assert.equal(calls.filter((call) => call.startsWith("mkdir")).length, 1);

    fs.rmSync(path.join(root, "bucket"), { recursive: true });
    await files.write(path.join(directory, "e"), Buffer.from("e"));
    assert.equal(calls.filter((call) => call.startsWith("mkdir")).length, 2);
    assert.equal(fs.readFileSync(path.join(directory, "e"), "utf8"), "e");
  });

  it("lets writes waiting for one directory share a sync, and never counts a sync begun before a file was created", async () => {
    const { files, directory, calls, holdSyncs, releaseSyncs } = await withOneFileWritten();

    holdSyncs();
    const early = files.write(path.join(directory, "early"), Buffer.from("early"));
    while (!calls.includes(`sync ${directory}`)) await new Promise((resolve) => setTimeout(resolve, 5));
    // Created while the first sync runs: that sync may have missed them, so they wait for one more, shared.
    const later = ["x", "y", "z"].map((name) => files.write(path.join(directory, name), Buffer.from(name)));
    while (calls.filter((call) => call.startsWith("create")).length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    releaseSyncs();
    await Promise.all([early, ...later]);
    assert.equal(calls.filter((call) => call === `synced ${directory}`).length, 2);
    const lastCreate = Math.max(...["x", "y", "z"].map((name) => calls.indexOf(`create ${path.join(directory, name)}`)));
    assert.ok(calls.lastIndexOf(`sync ${directory}`) > lastCreate);
  });

  it("keeps a file a read has begun until that read ends, though its object was replaced meanwhile", async () => {
    const files = new ContentFiles(root);
    const file = path.join(root, "bucket", "ab", "object");
    await files.write(file, Buffer.from("the old content"));
    files.recent.forget(file);
    const reading = files.read(file, 15);
    files.remove(file);
    assert.equal((await reading).toString(), "the old content");
    assert.equal(fs.existsSync(file), false, "removed once the read ended");
  });
  it("answers InternalError naming the file when a content file holds fewer bytes than its record says", async () => {
    const files = new ContentFiles(root);
    const file = path.join(root, "bucket", "ab", "object");
    await files.write(file, Buffer.from("0123456789"));
    files.recent.forget(file);
    fs.truncateSync(file, 4);
    await assert.rejects(files.read(file, 10), (error: Error & { code?: string }) => {
      assert.equal(error.name, "InternalError");
      assert.ok(error.message.includes(file) && error.message.includes("holds 4 bytes, its record says 10"), error.message);
      return true;
    });
  });
  it("puts an object's record in the store, which the PUT's answer waits for, only after its directory entry is synced", async () => {
    const { disk, calls, holdSyncs, releaseSyncs } = recordingDisk();
    const store = SqliteStore.open(root);
    try {
      const persistence = new S3Persistence(store, store.filesFor("s3"), disk);
      persistence.saveBucket("bucket", new Date(0));
      const metadata = { etag: '"e"', lastModified: new Date(0), contentType: "text/plain", metadata: {} };
      await persistence.saveObject("bucket", { key: "first", size: 1, body: Buffer.from("1"), ...metadata });
      holdSyncs();
      const saving = settled(persistence.saveObject("bucket", { key: "second", size: 1, body: Buffer.from("2"), ...metadata }));
      // Wait until a directory sync has begun and is held.
      while (calls.filter((call) => call.startsWith("sync ")).length === calls.filter((call) => call.startsWith("synced ")).length) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const records = store.collection<{ file: string }>("s3.objects");
      assert.equal(saving.done, false);
      assert.equal(records.get("bucket\u0001second"), undefined, "the record was put before the directory entry was synced");
      releaseSyncs();
      while (!saving.done) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(records.get("bucket\u0001second"));
    } finally {
      releaseSyncs();
      store.close();
    }
  });
});
