/**
 * S3 state in the runtime's store: bucket names in one collection, each object's metadata in another, and
 * each object's content in its own file under the store's `s3` folder. A file is written and fsynced before the
 * metadata that names it is committed, and each version of an object gets a new file, so a crash at any point
 * leaves the previous version or the new one, never a mix; files no record names (a crash between the two
 * steps) are removed at the next start.
 *
 * The content is written and fsynced on libuv's thread pool, not on the event loop: under the pipeline's load a
 * synchronous fsync per PUT held the runtime's only JavaScript thread for the disk's latency (as the store's own
 * log sync did before walSync.ts). Writes to one key still reach the store in the order they were made (a later
 * PUT's record is put after an earlier one's, whichever file is synced first), so the last write acknowledged
 * is the one kept.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StateStore, StoreCollection } from "../common/store";
import type { StoredObject } from "./objectStore";

interface KeptObject extends Omit<StoredObject, "body" | "lastModified"> {
  lastModified: string;
  /** The content's file, relative to the s3 folder. */
  file: string;
}

const recordKey = (bucketName: string, key: string) => `${bucketName}\u0001${key}`;

/**
 * Where an object's content lives: `<bucket>/<hh>/<sha256 of key>-<version>` under `root`. A hash, not the key:
 * keys may hold `..`, `/`, NUL or 1,024 bytes, none of which may reach the file system; the result is checked
 * to be inside `root` all the same.
 */
export function objectFilePath(root: string, bucketName: string, key: string, version: string): string {
  const digest = createHash("sha256").update(key).digest("hex");
  const relative = path.join(encodeURIComponent(bucketName), digest.slice(0, 2), `${digest}-${version}`);
  const resolved = path.resolve(root, relative);
  if (path.relative(root, resolved).startsWith("..") || path.isAbsolute(path.relative(root, resolved))) {
    throw new Error(`object path for ${bucketName}/${key} would leave the state folder`);
  }
  return resolved;
}

export class S3Persistence {
  private readonly buckets: StoreCollection<{ creationDate: string }>;
  private readonly objects: StoreCollection<KeptObject>;
  /** Per object, the last save or delete whose record is not yet handed to the store: the next one waits for it. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Bumped when a bucket is deleted: a save begun before must not bring a record back into the deleted bucket. */
  private readonly bucketGenerations = new Map<string, number>();

  constructor(
    private readonly store: StateStore,
    private readonly root: string,
  ) {
    this.buckets = store.collection("s3.buckets");
    this.objects = store.collection("s3.objects");
  }

  saveBucket(name: string, creationDate: Date): void {
    this.buckets.put(name, { creationDate: creationDate.toISOString() });
  }

  /**
   * Forgets the bucket and every object record in it (a bucket removed with `forceDestroy` still holds some);
   * their files, named by no record now, are swept at the next start, so a bucket made again at once under the
   * same name never loses a new file to this deletion.
   */
  deleteBucket(name: string): void {
    this.bucketGenerations.set(name, (this.bucketGenerations.get(name) ?? 0) + 1);
    this.buckets.delete(name);
    this.objects.deletePrefix(recordKey(name, ""));
  }

  /**
   * Writes the content (fsynced, on the thread pool), then the object's record (committed with the store's next
   * batch). Resolves once the record is in the store, after every earlier save or delete of the same key; the
   * caller then awaits `store.committed()` before acknowledging. Rejects if the content could not be written.
   */
  saveObject(bucketName: string, object: StoredObject): Promise<void> {
    const name = recordKey(bucketName, object.key);
    const generation = this.bucketGenerations.get(bucketName) ?? 0;
    const file = objectFilePath(this.root, bucketName, object.key, randomBytes(6).toString("hex"));
    const written = writeDurably(file, object.body);
    return this.inOrder(name, async () => {
      try {
        await written;
      } catch (error) {
        await fs.promises.rm(file, { force: true }).catch(() => undefined);
        throw error;
      }
      if ((this.bucketGenerations.get(bucketName) ?? 0) !== generation) {
        // The bucket was deleted after this write began: the deletion is the later change.
        this.removeFileAfterCommit(path.relative(this.root, file));
        return;
      }
      const previous = this.objects.get(name);
      const { body: _body, lastModified, ...metadata } = object;
      this.objects.put(name, { ...metadata, lastModified: lastModified.toISOString(), file: path.relative(this.root, file) });
      if (previous) this.removeFileAfterCommit(previous.file);
    });
  }

  /** Deletes the object's record (after every earlier save of the key) and, once that is committed, its file. */
  deleteObject(bucketName: string, key: string): Promise<void> {
    const name = recordKey(bucketName, key);
    return this.inOrder(name, async () => {
      const previous = this.objects.get(name);
      if (!previous) return;
      this.objects.delete(name);
      this.removeFileAfterCommit(previous.file);
    });
  }

  /** Resolves once every save and delete begun so far has reached the store (or failed). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()]);
  }

  /** Every kept bucket and object, contents read back; files no record names are deleted. */
  load(): { buckets: Array<{ name: string; creationDate: Date }>; objects: Array<{ bucketName: string; object: StoredObject }> } {
    const named = new Set<string>();
    const objects: Array<{ bucketName: string; object: StoredObject }> = [];
    for (const [recordName, kept] of this.objects.entries()) {
      const bucketName = recordName.slice(0, recordName.indexOf("\u0001"));
      const { file, lastModified, ...metadata } = kept;
      named.add(file);
      objects.push({
        bucketName,
        object: { ...metadata, body: fs.readFileSync(path.join(this.root, file)), lastModified: new Date(lastModified) },
      });
    }
    for (const file of listFiles(this.root)) if (!named.has(file)) fs.rmSync(path.join(this.root, file), { force: true });
    const buckets = this.buckets.entries().map(([name, { creationDate }]) => ({ name, creationDate: new Date(creationDate) }));
    return { buckets, objects };
  }

  /** Runs `step` after the previous step for the same record has settled (failed or not). */
  private inOrder(name: string, step: () => Promise<void>): Promise<void> {
    const previous = this.pending.get(name);
    const current = previous ? previous.then(step) : step();
    const tail = current.catch(() => undefined);
    this.pending.set(name, tail);
    void tail.then(() => {
      if (this.pending.get(name) === tail) this.pending.delete(name);
    });
    return current;
  }

  private removeFileAfterCommit(file: string): void {
    void this.store.committed().then(
      () => fs.rmSync(path.join(this.root, file), { force: true }),
      () => undefined,
    );
  }
}

/** Creates `file` with `body` and fsyncs it, all on libuv's thread pool. */
async function writeDurably(file: string, body: Buffer): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.promises.open(file, "wx");
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}
