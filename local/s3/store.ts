/**
 * The buckets of the local S3 and what every operation shares: the runtime's context and the request counts.
 */
import type { LocalContext } from "../common/service";
import { S3Error } from "./errors";
import { Bucket, type BucketKeeper } from "./objectStore";
import { S3Persistence } from "./persistence";

/** Missing content files named one by one in the start log; beyond this, a count. */
const MISSING_FILES_LISTED = 10;

export class S3Store {
  readonly buckets = new Map<string, Bucket>();
  /** Requests answered, by operation name (e.g. `{ PutObject: 12 }`). */
  readonly requestCounts: Record<string, number> = {};
  /** Keeps buckets and objects in the runtime's state folder (absent: memory only). */
  private readonly persistence?: S3Persistence;
  private readonly keeper?: BucketKeeper;

  constructor(readonly context: LocalContext) {
    const files = context.store?.filesFor("s3");
    if (context.store && files) {
      const persistence = new S3Persistence(context.store, files);
      this.persistence = persistence;
      this.keeper = {
        saved: (bucketName, object, completedUploadId) => persistence.saveObject(bucketName, object, completedUploadId),
        deleted: (bucketName, key) => persistence.deleteObject(bucketName, key),
        read: (file, size, start, length) => persistence.readObject(file, size, start, length),
        uploadCreated: (bucketName, upload) => persistence.saveUpload(bucketName, upload),
        partSaved: (bucketName, uploadId, partNumber, part) => persistence.savePart(bucketName, uploadId, partNumber, part),
        uploadRemoved: (bucketName, uploadId) => persistence.deleteUpload(bucketName, uploadId),
      };
    }
  }

  /** Creates a bucket unless it exists. */
  createBucket(name: string, creationDate = new Date()): void {
    if (this.buckets.has(name)) return;
    this.buckets.set(name, new Bucket(name, creationDate, this.keeper));
    this.persistence?.saveBucket(name, creationDate);
  }

  /** Deletes a bucket, with its uploads in progress (S3 does: only objects make a bucket not empty). */
  deleteBucket(name: string): void {
    this.buckets.delete(name);
    this.persistence?.deleteBucket(name);
  }

  /** Resolves once every object write begun so far has reached the store (or failed). */
  idle(): Promise<void> {
    return this.persistence?.idle() ?? Promise.resolve();
  }

  /**
   * Reads back the buckets, objects (metadata only) and uploads in progress kept from earlier runs; returns how many
   * objects and uploads. An object
   * whose content file is gone is restored all the same, with one log line naming it: the runtime still starts,
   * Head and List show the object, a read answers InternalError naming the file, DeleteObject removes it.
   */
  restore(): { objects: number; uploads: number } {
    if (!this.persistence) return { objects: 0, uploads: 0 };
    const { buckets, objects, uploads, missing } = this.persistence.load();
    for (const { name, creationDate } of buckets) this.createBucket(name, creationDate);
    for (const { bucketName, object } of objects) {
      this.createBucket(bucketName);
      this.buckets.get(bucketName)!.load(object);
    }
    for (const { bucketName, upload } of uploads) {
      this.createBucket(bucketName);
      this.buckets.get(bucketName)!.uploads.set(upload.uploadId, upload);
    }
    // One line per file for a few; past that (a files folder removed by hand) the first ones and the count.
    for (const { bucketName, key, file } of missing.slice(0, MISSING_FILES_LISTED)) {
      this.context.log(
        "s3",
        `content file missing from the state folder: bucket ${bucketName}, key ${JSON.stringify(key)}, file ${file} (reads of it fail; DeleteObject or a new PutObject clears it)`,
        "warn",
      );
    }
    if (missing.length > MISSING_FILES_LISTED) {
      this.context.log(
        "s3",
        `content files missing from the state folder: ${missing.length} objects in all (the first ${MISSING_FILES_LISTED} above); their reads fail with InternalError, DeleteObject or a new PutObject clears each, --reset clears all state`,
        "warn",
      );
    }
    return { objects: objects.length, uploads: uploads.length };
  }

  /** What the store keeps in memory of objects' contents (tests: a start reads no content). */
  contentsInMemory(): { bodies: number; recentBytes: number } {
    let bodies = 0;
    for (const bucket of this.buckets.values()) for (const object of bucket.objects.values()) if (object.body !== undefined) bodies++;
    return { bodies, recentBytes: this.persistence?.files.recent.bytes ?? 0 };
  }

  bucketNamed(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new S3Error("NoSuchBucket", "The specified bucket does not exist", { BucketName: name });
    return bucket;
  }

  count(operation: string): void {
    this.requestCounts[operation] = (this.requestCounts[operation] ?? 0) + 1;
  }
}
