/**
 * S3 state in the runtime's store: bucket names in one collection, each object's metadata in another, and
 * each object's content in its own file under the store's `s3` folder. A file is written and fsynced before the
 * metadata that names it is committed, and each version of an object gets a new file, so a crash at any point
 * leaves the previous version or the new one, never a mix; files no record names (a crash between the two
 * steps) are removed at the next start.
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
    this.buckets.delete(name);
    this.objects.deletePrefix(recordKey(name, ""));
  }

  /** Writes the content (fsynced) and the object's record (committed with the request's batch). */
  saveObject(bucketName: string, object: StoredObject): void {
    const file = objectFilePath(this.root, bucketName, object.key, randomBytes(6).toString("hex"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const descriptor = fs.openSync(file, "wx");
    try {
      fs.writeSync(descriptor, object.body);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    const previous = this.objects.get(recordKey(bucketName, object.key));
    const { body: _body, lastModified, ...metadata } = object;
    this.objects.put(recordKey(bucketName, object.key), {
      ...metadata,
      lastModified: lastModified.toISOString(),
      file: path.relative(this.root, file),
    });
    if (previous) this.removeFileAfterCommit(previous.file);
  }

  deleteObject(bucketName: string, key: string): void {
    const previous = this.objects.get(recordKey(bucketName, key));
    if (!previous) return;
    this.objects.delete(recordKey(bucketName, key));
    this.removeFileAfterCommit(previous.file);
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

  private removeFileAfterCommit(file: string): void {
    void this.store.committed().then(
      () => fs.rmSync(path.join(this.root, file), { force: true }),
      () => undefined,
    );
  }
}

function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}
