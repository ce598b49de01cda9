/**
 * S3 state in the runtime's store: bucket names in one collection, each object's metadata (size included) in
 * another, and each object's content in its own file under the store's `s3` folder (contentFiles.ts). A file and
 * its directory entry are fsynced before the metadata that names it is committed, and each version of an object
 * gets a new file, so a crash at any point leaves the previous version or the new one, never a mix; files no
 * record names (a crash between the two steps) are removed at the next start. Contents are read from their files
 * when a request asks for them, never at start.
 *
 * The content is written and fsynced on libuv's thread pool, not on the event loop: under the pipeline's load a
 * synchronous fsync per PUT held the runtime's only JavaScript thread for the disk's latency (as the store's own
 * log sync did before walSync.ts). Writes to one key still reach the store in the order they were made (a later
 * PUT's record is put after an earlier one's, whichever file is synced first), so the last write acknowledged
 * is the one kept.
 *
 * Multipart uploads in progress are kept the same way: the upload's record (key, initiation, the object's headers)
 * when it is created, each part's file (fsynced, by the same writing path) before the record naming it. A part
 * uploaded again gets a new file, the old one removed once the new record is committed. CompleteMultipartUpload
 * joins the parts' files into the object's new file, and its record and the removal of the upload's records go in
 * one batch; AbortMultipartUpload removes the records, then the files.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StateStore, StoreCollection } from "../common/store";
import { ContentFiles, type ContentDisk } from "./contentFiles";
import { S3Error } from "./errors";
import type { ChecksumAlgorithm } from "./checksums";
import type { MultipartUpload, StoredObject, UploadedPart } from "./objectStore";

interface KeptObject extends Omit<StoredObject, "body" | "file" | "lastModified" | "size"> {
  lastModified: string;
  /** The content's file, relative to the s3 folder. */
  file: string;
  /** Absent in records written before sizes were kept: read from the file at start then. */
  size?: number;
}

interface KeptUpload {
  key: string;
  initiated: string;
  template: MultipartUpload["template"];
}

interface KeptPart {
  etag: string;
  size: number;
  lastModified: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** The part's file, relative to the s3 folder. */
  file: string;
}

/** An object whose record names a content file that is not in the state folder. */
export interface MissingContent {
  bucketName: string;
  key: string;
  /** The absolute path of the file the record names. */
  file: string;
}

const recordKey = (bucketName: string, key: string) => `${bucketName}\u0001${key}`;
/** Upload records are keyed like objects (bucket, then upload id); a part's key adds its number, padded to sort. */
const partRecordKey = (uploadName: string, partNumber: number) => `${uploadName}\u0001${String(partNumber).padStart(5, "0")}`;

/**
 * Where an object's content lives: `<bucket>/<hh>/<sha256 of key>-<version>` under `root`. A hash, not the key:
 * keys may hold `..`, `/`, NUL or 1,024 bytes, none of which may reach the file system; the result is checked
 * to be inside `root` all the same.
 */
export function objectFilePath(root: string, bucketName: string, key: string, version: string): string {
  const digest = createHash("sha256").update(key).digest("hex");
  return insideRoot(root, path.join(encodeURIComponent(bucketName), digest.slice(0, 2), `${digest}-${version}`), `${bucketName}/${key}`);
}

/**
 * Where a part's content lives: `<bucket>/uploads/<upload id>-<part number>-<version>` under `root` (one folder per
 * bucket, not per upload: no empty folder is left behind by each finished upload). Upload ids are the local S3's own.
 */
export function partFilePath(root: string, bucketName: string, uploadId: string, partNumber: number, version: string): string {
  const name = `${encodeURIComponent(uploadId)}-${partNumber}-${version}`;
  return insideRoot(root, path.join(encodeURIComponent(bucketName), "uploads", name), `${bucketName} upload ${uploadId}`);
}

function insideRoot(root: string, relative: string, what: string): string {
  const resolved = path.resolve(root, relative);
  if (path.relative(root, resolved).startsWith("..") || path.isAbsolute(path.relative(root, resolved))) {
    throw new Error(`the path for ${what} would leave the state folder`);
  }
  return resolved;
}

export class S3Persistence {
  private readonly buckets: StoreCollection<{ creationDate: string }>;
  private readonly objects: StoreCollection<KeptObject>;
  private readonly uploads: StoreCollection<KeptUpload>;
  private readonly parts: StoreCollection<KeptPart>;
  /** Per upload record, the part files its part records name (committed or not): removed with the upload. */
  private readonly partFiles = new Map<string, Map<number, string>>();
  /** Per object, the last save or delete whose record is not yet handed to the store: the next one waits for it. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Bumped when a bucket is deleted: a save begun before must not bring a record back into the deleted bucket. */
  private readonly bucketGenerations = new Map<string, number>();
  readonly files: ContentFiles;

  /** Absolute: files are named by their absolute path (the cache of recent bodies, the readers of a file). */
  private readonly root: string;

  constructor(
    private readonly store: StateStore,
    root: string,
    disk?: ContentDisk,
  ) {
    this.root = path.resolve(root);
    this.buckets = store.collection("s3.buckets");
    this.objects = store.collection("s3.objects");
    this.uploads = store.collection("s3.uploads");
    this.parts = store.collection("s3.parts");
    this.files = new ContentFiles(this.root, disk);
  }

  saveBucket(name: string, creationDate: Date): void {
    this.buckets.put(name, { creationDate: creationDate.toISOString() });
  }

  /**
   * Forgets the bucket and every object record in it (a bucket removed with `forceDestroy` still holds some), and
   * its uploads in progress with their parts (S3 deletes a bucket whose only content is incomplete uploads, and
   * them with it). The objects' files, named by no record now, are swept at the next start, so a bucket made again
   * at once under the same name never loses a new file to this deletion; the parts' files go once this is committed.
   */
  deleteBucket(name: string): void {
    this.bucketGenerations.set(name, (this.bucketGenerations.get(name) ?? 0) + 1);
    this.buckets.delete(name);
    this.objects.deletePrefix(recordKey(name, ""));
    this.uploads.deletePrefix(recordKey(name, ""));
    this.parts.deletePrefix(recordKey(name, ""));
    // Part files are named by upload id (never reused), so unlike objects' they can go as soon as this is committed.
    for (const [uploadName, files] of [...this.partFiles]) {
      if (!uploadName.startsWith(recordKey(name, ""))) continue;
      for (const file of files.values()) this.removeFileAfterCommit(file);
      this.partFiles.delete(uploadName);
    }
  }

  /** Records a new upload (committed with the store's next batch; the caller awaits that before answering). */
  saveUpload(bucketName: string, upload: MultipartUpload): void {
    this.uploads.put(recordKey(bucketName, upload.uploadId), {
      key: upload.key,
      initiated: upload.initiated.toISOString(),
      template: upload.template,
    });
  }

  /**
   * Writes the part's content (fsynced, as an object's), then its record. Resolves with the file relative to the s3
   * folder once the record is in the store, after every earlier save of the same part; undefined if the upload was
   * aborted, completed or its bucket deleted meanwhile (the file is removed then). Rejects if the content could not
   * be written.
   */
  savePart(bucketName: string, uploadId: string, partNumber: number, part: UploadedPart): Promise<string | undefined> {
    const uploadName = recordKey(bucketName, uploadId);
    const name = partRecordKey(uploadName, partNumber);
    if (part.body === undefined) throw new Error(`part ${partNumber} of upload ${uploadId} has no content to save`);
    const file = partFilePath(this.root, bucketName, uploadId, partNumber, randomBytes(6).toString("hex"));
    // Not cached with recent bodies: a part is read back only by the completion's join, from its file.
    const written = this.files.write(file, part.body, { cache: false });
    return this.onceWritten(name, file, written, () => {
      const relative = path.relative(this.root, file);
      if (!this.uploads.get(uploadName)) {
        this.removeFileAfterCommit(relative);
        return undefined;
      }
      const { body: _body, file: _file, lastModified, ...metadata } = part;
      this.parts.put(name, { ...metadata, lastModified: lastModified.toISOString(), file: relative });
      const files = this.partFiles.get(uploadName) ?? new Map<number, string>();
      this.partFiles.set(uploadName, files);
      const previous = files.get(partNumber);
      files.set(partNumber, relative);
      if (previous) this.removeFileAfterCommit(previous);
      return relative;
    });
  }

  /** Forgets an upload and its parts' records now, and removes the parts' files once that is committed. */
  deleteUpload(bucketName: string, uploadId: string): void {
    const uploadName = recordKey(bucketName, uploadId);
    this.uploads.delete(uploadName);
    this.parts.deletePrefix(`${uploadName}\u0001`);
    for (const file of this.partFiles.get(uploadName)?.values() ?? []) this.removeFileAfterCommit(file);
    this.partFiles.delete(uploadName);
  }

  /**
   * Writes the content (the file and its directory entry fsynced, on the thread pool), then the object's record
   * (committed with the store's next batch). Resolves, with the content's file relative to the s3 folder, once the
   * record is in the store, after every earlier save or delete of the same key; the caller then awaits
   * `store.committed()` before acknowledging. Resolves undefined if the bucket was deleted meanwhile. Rejects if
   * the content could not be written (or, for a copy, read from its source).
   */
  saveObject(bucketName: string, object: StoredObject, completedUploadId?: string): Promise<string | undefined> {
    const name = recordKey(bucketName, object.key);
    const generation = this.bucketGenerations.get(bucketName) ?? 0;
    const file = objectFilePath(this.root, bucketName, object.key, randomBytes(6).toString("hex"));
    const { body, pieces } = object;
    if (body === undefined && pieces === undefined) throw new Error(`object ${bucketName}/${object.key} has no content to save`);
    const written =
      body !== undefined
        ? Promise.resolve(body).then((content) => this.files.write(file, content))
        : this.files
            .write(
              file,
              pieces!.map((piece) => piece.body ?? path.join(this.root, piece.file!)),
            )
            .catch((error: unknown) => {
              const { code, path: missing } = error as NodeJS.ErrnoException;
              if (code === "ENOENT" && missing !== undefined && missing !== file) {
                throw new S3Error(
                  "InternalError",
                  `A part of this upload is missing from the state folder: ${missing} does not exist. AbortMultipartUpload removes the upload.`,
                );
              }
              throw error;
            });
    return this.onceWritten(name, file, written, () => {
      if ((this.bucketGenerations.get(bucketName) ?? 0) !== generation) {
        // The bucket was deleted after this write began: the deletion is the later change.
        this.removeFileAfterCommit(path.relative(this.root, file));
        return undefined;
      }
      const previous = this.objects.get(name);
      const { body: _body, file: _file, pieces: _pieces, lastModified, ...metadata } = object;
      const relative = path.relative(this.root, file);
      this.objects.put(name, { ...metadata, lastModified: lastModified.toISOString(), file: relative });
      if (previous) this.removeFileAfterCommit(previous.file);
      // In the object record's batch: a crash leaves either the upload or the object, never both, never neither.
      if (completedUploadId !== undefined) this.deleteUpload(bucketName, completedUploadId);
      return relative;
    });
  }

  /** `length` bytes from `start` of a kept object's content (`file` relative to the s3 folder, as saveObject gave). */
  readObject(file: string, size: number, start?: number, length?: number): Promise<Buffer> {
    return this.files.read(path.join(this.root, file), size, start, length);
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

  /**
   * Every kept bucket, object and upload in progress, metadata only (contents stay in their files until read);
   * files no record names are deleted; records whose file is gone are returned as they are (their metadata still
   * serves Head and List, a read answers an error naming the file) and listed in `missing`. A part whose upload has
   * no record (left by a crash mid-deletion) is forgotten.
   */
  load(): {
    buckets: Array<{ name: string; creationDate: Date }>;
    objects: Array<{ bucketName: string; object: StoredObject }>;
    uploads: Array<{ bucketName: string; upload: MultipartUpload }>;
    missing: MissingContent[];
  } {
    const present = new Set(listFiles(this.root));
    const named = new Set<string>();
    const objects: Array<{ bucketName: string; object: StoredObject }> = [];
    const missing: MissingContent[] = [];
    for (const [recordName, kept] of this.objects.entries()) {
      const bucketName = recordName.slice(0, recordName.indexOf("\u0001"));
      const { file, lastModified, size, ...metadata } = kept;
      named.add(file);
      const isPresent = present.has(file);
      if (!isPresent) missing.push({ bucketName, key: kept.key, file: path.join(this.root, file) });
      let knownSize = size;
      if (knownSize === undefined) {
        // A record from before sizes were kept: read the size once from the file and keep it in the record.
        knownSize = isPresent ? fs.statSync(path.join(this.root, file)).size : 0;
        if (isPresent) this.objects.put(recordName, { ...kept, size: knownSize });
      }
      objects.push({ bucketName, object: { ...metadata, size: knownSize, file, lastModified: new Date(lastModified) } });
    }
    const uploads = this.loadUploads(named);
    for (const file of present) if (!named.has(file)) fs.rmSync(path.join(this.root, file), { force: true });
    const buckets = this.buckets.entries().map(([name, { creationDate }]) => ({ name, creationDate: new Date(creationDate) }));
    return { buckets, objects, uploads, missing };
  }

  /** The kept uploads with their parts; adds the files their records name to `named`. */
  private loadUploads(named: Set<string>): Array<{ bucketName: string; upload: MultipartUpload }> {
    const byName = new Map<string, { bucketName: string; upload: MultipartUpload }>();
    for (const [uploadName, kept] of this.uploads.entries()) {
      const separator = uploadName.indexOf("\u0001");
      const upload: MultipartUpload = {
        uploadId: uploadName.slice(separator + 1),
        key: kept.key,
        initiated: new Date(kept.initiated),
        template: kept.template,
        parts: new Map(),
      };
      byName.set(uploadName, { bucketName: uploadName.slice(0, separator), upload });
    }
    for (const [partName, kept] of this.parts.entries()) {
      const separator = partName.lastIndexOf("\u0001");
      const uploadName = partName.slice(0, separator);
      const partNumber = Number(partName.slice(separator + 1));
      const owner = byName.get(uploadName);
      if (!owner) {
        this.parts.delete(partName);
        continue;
      }
      const { file, lastModified, ...metadata } = kept;
      named.add(file);
      owner.upload.parts.set(partNumber, { ...metadata, file, lastModified: new Date(lastModified) });
      const files = this.partFiles.get(uploadName) ?? new Map<number, string>();
      files.set(partNumber, file);
      this.partFiles.set(uploadName, files);
    }
    return [...byName.values()];
  }

  /**
   * Runs `step` (which puts the record naming `file`) once `written` has settled and after every earlier step for the
   * same record; a failed write removes whatever reached `file` and rejects instead.
   */
  private onceWritten<T>(name: string, file: string, written: Promise<void>, step: () => T): Promise<T> {
    // Handled below, possibly only after earlier saves of the record: marked handled now so Node does not call it unhandled.
    written.catch(() => undefined);
    return this.inOrder(name, async () => {
      try {
        await written;
      } catch (error) {
        await fs.promises.rm(file, { force: true }).catch(() => undefined);
        throw error;
      }
      return step();
    });
  }

  /** Runs `step` after the previous step for the same record has settled (failed or not). */
  private inOrder<T>(name: string, step: () => Promise<T>): Promise<T> {
    const previous = this.pending.get(name);
    const current = previous ? previous.then(step) : step();
    const tail = current.then(
      () => undefined,
      () => undefined,
    );
    this.pending.set(name, tail);
    void tail.then(() => {
      if (this.pending.get(name) === tail) this.pending.delete(name);
    });
    return current;
  }

  /** Removes a replaced or deleted object's file once the change is committed and no read still holds it. */
  private removeFileAfterCommit(file: string): void {
    void this.store.committed().then(
      () => this.files.remove(path.join(this.root, file)),
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
