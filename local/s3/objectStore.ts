/**
 * Buckets and objects, served from memory and, with a durable store, kept on disk through a BucketKeeper
 * (persistence.ts). Keys are kept in a sorted array per bucket so listings are ordered like S3's (UTF-8
 * binary order) without re-sorting.
 */
import { randomBytes } from "node:crypto";
import type { ChecksumAlgorithm } from "./checksums";
import { md5Hex } from "./checksums";
import { S3Error } from "./errors";

export interface StoredObject {
  key: string;
  /** The content's length in bytes. */
  size: number;
  /**
   * The content while only memory holds it: always without a state folder; with one, until the write is kept
   * (then `file` says where it is, and reads go there). A promise while a copy reads its source.
   */
  body?: Buffer | Promise<Buffer>;
  /** The content's file, relative to the state folder's s3 folder, once kept. */
  file?: string;
  /**
   * While a CompleteMultipartUpload is being kept: the parts in order (each its file or, not yet kept, its body),
   * joined into the object's own file on disk, never into one Buffer.
   */
  pieces?: Array<Pick<UploadedPart, "size" | "file" | "body">>;
  /** Quoted, as S3 returns it: `"<md5 hex>"`, or `"<md5 of part md5s>-<parts>"` for multipart uploads. */
  etag: string;
  lastModified: Date;
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  cacheControl?: string;
  /** x-amz-meta-* headers, names lower-cased without the prefix. */
  metadata: Record<string, string>;
  /** The flexible checksum given at upload, returned when the reader asks for it (x-amz-checksum-mode). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/** One part of a multipart upload: its body in memory until kept (always, without a state folder), then its file. */
export interface UploadedPart {
  etag: string;
  size: number;
  lastModified: Date;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  body?: Buffer;
  /** The part's file, relative to the s3 folder, once kept. */
  file?: string;
}

export interface MultipartUpload {
  /** Begins with the initiation time in hex, so uploads of one key sort by id in the order they began (as S3 lists them). */
  uploadId: string;
  key: string;
  initiated: Date;
  template: Omit<StoredObject, "key" | "size" | "body" | "file" | "pieces" | "etag" | "lastModified" | "checksum">;
  parts: Map<number, UploadedPart>;
}

/**
 * Keeps a bucket's objects and uploads in progress across restarts (local/s3/persistence.ts); called after memory
 * changed, and resolves once the change is handed to the store (the caller then awaits the store's commit before
 * acknowledging).
 */
export interface BucketKeeper {
  /**
   * Resolves with the content's file once the content and record are kept (undefined: the bucket went meanwhile).
   * With `completedUploadId`, that upload's records go in the same batch as the object's.
   */
  saved(bucketName: string, object: StoredObject, completedUploadId?: string): Promise<string | undefined>;
  deleted(bucketName: string, key: string): Promise<void>;
  /** Records a new upload (handed to the store at once). */
  uploadCreated(bucketName: string, upload: MultipartUpload): void;
  /** Resolves with the part's file once it and its record are kept (undefined: the upload went meanwhile). */
  partSaved(bucketName: string, uploadId: string, partNumber: number, part: UploadedPart): Promise<string | undefined>;
  /** Forgets an aborted upload's records; its part files go once that is committed. */
  uploadRemoved(bucketName: string, uploadId: string): void;
  /** `length` bytes from `start` of a kept content file whose record says `size` bytes. */
  read(file: string, size: number, start: number, length: number): Promise<Buffer>;
}

export class Bucket {
  readonly objects = new Map<string, StoredObject>();
  readonly uploads = new Map<string, MultipartUpload>();
  private sortedKeys: string[] = [];
  constructor(
    readonly name: string,
    readonly creationDate = new Date(),
    private readonly keeper?: BucketKeeper,
  ) {}

  get(key: string): StoredObject {
    const object = this.objects.get(key);
    if (!object) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: key });
    return object;
  }

  /**
   * Puts an object; the promise resolves once it is kept (at once without a keeper). Memory changes at once, so
   * conditional writes and reads see requests in arrival order; should the content not reach the disk, memory goes
   * back to the previous object (unless a later write replaced this one meanwhile) and the promise rejects.
   */
  put(object: StoredObject, completedUploadId?: string): Promise<void> {
    const previous = this.objects.get(object.key);
    this.load(object);
    if (!this.keeper) return Promise.resolve();
    const keeper = this.keeper;
    return attempt(() => keeper.saved(this.name, object, completedUploadId)).then(
      (file) => {
        if (file === undefined) return;
        // Kept: memory lets go of the content, which is read from its file from now on.
        object.file = file;
        object.body = undefined;
        object.pieces = undefined;
      },
      (error: unknown) => {
        if (this.objects.get(object.key) === object) {
          if (previous) this.load(previous);
          else this.forget(object.key);
        }
        throw error;
      },
    );
  }

  /**
   * `length` bytes from `start` of the object's content: from memory while only memory holds it, else from its
   * file. Call it in the same turn as the lookup: the file then cannot be removed by a later overwrite first.
   */
  async read(object: StoredObject, start = 0, length = object.size - start): Promise<Buffer> {
    if (object.body !== undefined) return (await object.body).subarray(start, start + length);
    if (object.pieces !== undefined) return this.readPieces(object.pieces, start, length);
    if (object.file === undefined || !this.keeper) throw new Error(`object ${this.name}/${object.key} has neither content nor file`);
    return this.keeper.read(object.file, object.size, start, length);
  }

  /** The bytes of a completion still being kept, from its parts (every read begun in this turn, as `read` requires). */
  private async readPieces(pieces: NonNullable<StoredObject["pieces"]>, start: number, length: number): Promise<Buffer> {
    const reads: Array<Buffer | Promise<Buffer>> = [];
    let offset = 0;
    for (const piece of pieces) {
      const from = Math.max(start, offset);
      const to = Math.min(start + length, offset + piece.size);
      if (from < to) {
        if (piece.body !== undefined) reads.push(piece.body.subarray(from - offset, to - offset));
        else reads.push(this.keeper!.read(piece.file!, piece.size, from - offset, to - from));
      }
      offset += piece.size;
    }
    return Buffer.concat(await Promise.all(reads));
  }

  /** Puts an object in memory only (one read back from the store). */
  load(object: StoredObject): void {
    if (!this.objects.has(object.key)) this.sortedKeys.splice(this.insertionPoint(object.key), 0, object.key);
    this.objects.set(object.key, object);
  }

  /** Deletes an object: `kept` resolves once the deletion is handed to the store; undefined if there was none. */
  delete(key: string): { kept: Promise<void> } | undefined {
    if (!this.forget(key)) return undefined;
    return { kept: this.keeper ? this.keeper.deleted(this.name, key) : Promise.resolve() };
  }

  /** Removes an object from memory only. */
  private forget(key: string): boolean {
    if (!this.objects.delete(key)) return false;
    this.sortedKeys.splice(this.insertionPoint(key), 1);
    return true;
  }

  /** Keys after `after` (exclusive) that start with `prefix`, in order. */
  *keysFrom(prefix: string, after: string): Generator<string> {
    const start = Math.max(this.insertionPoint(prefix), after ? this.insertionPoint(after) : 0);
    for (let index = start; index < this.sortedKeys.length; index++) {
      const key = this.sortedKeys[index];
      if (key <= after) continue;
      if (!key.startsWith(prefix)) {
        if (key > prefix) return;
        continue;
      }
      yield key;
    }
  }

  createUpload(key: string, template: MultipartUpload["template"]): MultipartUpload {
    const initiated = new Date();
    const uploadId = initiated.getTime().toString(16).padStart(12, "0") + randomBytes(16).toString("hex");
    const upload: MultipartUpload = { uploadId, key, initiated, template, parts: new Map() };
    this.uploads.set(uploadId, upload);
    this.keeper?.uploadCreated(this.name, upload);
    return upload;
  }

  /**
   * Sets a part (replacing one of the same number); resolves once it is kept. Should it not reach the disk, the
   * upload gets back the part it had (unless a later upload of the number replaced this one) and the promise rejects.
   */
  putPart(upload: MultipartUpload, partNumber: number, part: UploadedPart): Promise<void> {
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (!this.keeper) return Promise.resolve();
    const keeper = this.keeper;
    return attempt(() => keeper.partSaved(this.name, upload.uploadId, partNumber, part)).then(
      (file) => {
        if (file === undefined) return;
        part.file = file;
        part.body = undefined;
      },
      (error: unknown) => {
        if (upload.parts.get(partNumber) === part) {
          if (previous) upload.parts.set(partNumber, previous);
          else upload.parts.delete(partNumber);
        }
        throw error;
      },
    );
  }

  /**
   * Makes the object from the upload's parts (in `parts` order) and ends the upload; resolves once kept. Should the
   * object not reach the disk, the upload comes back with its parts, so the client can complete it again (as on S3)
   * instead of meeting NoSuchUpload.
   */
  completeUpload(upload: MultipartUpload, parts: UploadedPart[], object: Omit<StoredObject, "body" | "pieces">): Promise<void> {
    const completed: StoredObject = { ...object };
    // Without a state folder every part is in memory already: one Buffer, as a PutObject would hold. With one, the
    // parts are joined on disk from their files (or bodies not yet kept), never into one Buffer.
    if (this.keeper) completed.pieces = parts.map(({ size, file, body }) => ({ size, file, body }));
    else completed.body = Buffer.concat(parts.map((part) => part.body!));
    this.uploads.delete(upload.uploadId);
    const kept = this.put(completed, upload.uploadId);
    kept.catch(() => {
      if (!this.uploads.has(upload.uploadId)) this.uploads.set(upload.uploadId, upload);
    });
    return kept;
  }

  /** Ends an upload without an object (AbortMultipartUpload, or its bucket deleted). */
  removeUpload(uploadId: string): void {
    if (this.uploads.delete(uploadId)) this.keeper?.uploadRemoved(this.name, uploadId);
  }

  upload(uploadId: string, key: string): MultipartUpload {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) {
      throw new S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        { UploadId: uploadId },
      );
    }
    return upload;
  }

  /** Binary search over UTF-8 order (JavaScript string order differs only for astral characters, which we accept). */
  private insertionPoint(key: string): number {
    let low = 0;
    let high = this.sortedKeys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.sortedKeys[middle] < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Runs a keeper call: one that throws at once (a check before any write) counts as one that rejects. */
function attempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** S3's rule for multipart ETags: MD5 of the concatenated binary part MD5s, then `-<part count>`. */
export function multipartEtag(partEtags: string[]): string {
  const digests = Buffer.concat(partEtags.map((etag) => Buffer.from(etag.replace(/"/g, ""), "hex")));
  return `"${md5Hex(digests)}-${partEtags.length}"`;
}

export function quotedMd5(body: Buffer): string {
  return `"${md5Hex(body)}"`;
}
