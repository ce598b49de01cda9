/**
 * The buckets of the local S3 and what every operation shares: the runtime's context and the request counts.
 */
import type { LocalContext } from "../common/service";
import { S3Error } from "./errors";
import { Bucket } from "./objectStore";

export class S3Store {
  readonly buckets = new Map<string, Bucket>();
  /** Requests answered, by operation name (e.g. `{ PutObject: 12 }`). */
  readonly requestCounts: Record<string, number> = {};

  constructor(readonly context: LocalContext) {}

  /** Creates a bucket unless it exists. */
  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Bucket(name));
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
