/**
 * Local Amazon S3: the buckets the program declares, the REST operations the pipeline handlers and the AWS
 * CLI use, and the bucket's Lambda event notifications, on the runtime's one origin (path-style URLs,
 * since the endpoint is an IP address and the SDK then addresses buckets by path).
 *
 * Why not s3rver: it accepts only the access key "S3RVER" (the handlers run with whatever credentials the
 * runtime gives them), stores aws-chunked framing inside streamed uploads unless every client opts out of
 * checksums (silent corruption with default SDK settings), emits events only in-process, and has not been
 * released since 2021. What the pipeline needs is small and well specified, so it is emulated here.
 *
 * Served: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, ListObjectsV2, ListObjects,
 * PutObject, GetObject (Range, If-Match, If-None-Match), HeadObject, DeleteObject, DeleteObjects, CopyObject,
 * multipart uploads (Create, UploadPart, Complete, Abort, ListMultipartUploads, ListParts). Any other sub-resource
 * answers 501 NotImplemented.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html

 *
 * This class routes requests and sends notifications; the operations live beside it by kind (bucketOperations,
 * listObjects, objectOperations, multipart), reading requests with request.ts and buckets through S3Store.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from "./bucketOperations";
import { S3Error } from "./errors";
import { type LambdaNotification, notificationMatches, type S3EventName, s3EventRecord, Sequencer } from "./eventNotifications";
import { listObjects } from "./listObjects";
import { abortUpload, completeUpload, createUpload, uploadPart } from "./multipart";
import { listParts, listUploads } from "./multipartListings";
import { readLambdaNotifications } from "./notificationConfiguration";
import { copyObject, deleteObject, deleteObjects, getObject, putObject } from "./objectOperations";
import { errorReply, parseRequest, type Reply, type Request } from "./request";
import { hostIdOf, nextRequestId } from "./requestIds";
import { S3Store } from "./store";

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const BUCKET_NOTIFICATION_TYPE = "aws:s3/bucketNotification:BucketNotification";
export const PUBLIC_ACCESS_BLOCK_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

/** Query parameters that name S3 sub-resources this emulation does not serve. */
const UNSUPPORTED_SUBRESOURCES = [
  "accelerate",
  "acl",
  "analytics",
  "attributes",
  "cors",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "legal-hold",
  "lifecycle",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
  "versioning",
  "versions",
  "website",
];

export class S3Service implements LocalService {
  readonly signingNames = ["s3"] as const;
  readonly resourceTypes = [...BUCKET_TYPES, BUCKET_NOTIFICATION_TYPE, PUBLIC_ACCESS_BLOCK_TYPE] as const;

  /** Requests answered, by operation name (e.g. `{ PutObject: 12 }`): benchmarks divide these by chunk count. */
  readonly requestCounts: Record<string, number>;
  /** Notifications sent to functions (one per matching configuration per event). */
  notificationsSent = 0;

  private readonly store: S3Store;
  private readonly notifications = new Map<string, LambdaNotification[]>();
  private readonly sequencer = new Sequencer();
  private readonly pendingNotifications = new Set<Promise<unknown>>();

  constructor(private readonly context: LocalContext) {
    this.store = new S3Store(context);
    this.requestCounts = this.store.requestCounts;
  }

  async provision(resource: DeclaredResource, all: readonly DeclaredResource[]): Promise<void> {
    if ((BUCKET_TYPES as readonly string[]).includes(resource.type)) {
      const name = String(resource.state.bucket ?? resource.id);
      this.store.createBucket(name);
      this.context.log("s3", `bucket ${name}`);
      return;
    }
    if (resource.type === PUBLIC_ACCESS_BLOCK_TYPE) {
      // Locally nothing is public or private: every signed request is accepted. Only check the reference.
      this.store.bucketNamed(String(resource.inputs.bucket));
      return;
    }
    if (resource.type === BUCKET_NOTIFICATION_TYPE) return this.provisionNotification(resource, all);
  }

  /** Reads back the buckets and objects kept from earlier runs. */
  async restore(): Promise<string[]> {
    const { objects, uploads } = this.store.restore();
    const restored: string[] = [];
    if (objects > 0) restored.push(`${objects} S3 object${objects === 1 ? "" : "s"}`);
    if (uploads > 0) restored.push(`${uploads} S3 multipart upload${uploads === 1 ? "" : "s"} in progress`);
    return restored;
  }

  /** Whether the object exists (IAM: S3 answers 403 instead of 404 for a missing key to a caller that may not list). */
  objectExists(bucketName: string, key: string): boolean {
    return this.store.buckets.get(bucketName)?.objects.has(key) ?? false;
  }

  /**
   * A removed bucket goes with its objects only when empty or declared with `forceDestroy`, as `pulumi up`
   * would delete it (S3 refuses to delete a bucket that holds objects); otherwise it stays, and the log says so.
   * A changed bucket keeps its objects. A removed notification configuration stops its notifications.
   */
  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    if ((BUCKET_TYPES as readonly string[]).includes(resource.type)) {
      if (replacedBy) return;
      const name = String(resource.state.bucket ?? resource.id);
      const bucket = this.store.buckets.get(name);
      if (!bucket) return;
      if (bucket.objects.size > 0 && !resource.inputs.forceDestroy) {
        this.context.log(
          "s3",
          `bucket ${name} is no longer declared but holds ${bucket.objects.size} object(s): kept (forceDestroy deletes it with them)`,
        );
        return;
      }
      this.store.deleteBucket(name);
      this.notifications.delete(name);
      return;
    }
    if (resource.type === BUCKET_NOTIFICATION_TYPE) this.notifications.delete(String(resource.inputs.bucket));
  }

  /** What memory holds of objects' contents: bodies not yet kept, and bytes of recent writes (tests, benchmarks). */
  contentsInMemory(): { bodies: number; recentBytes: number } {
    return this.store.contentsInMemory();
  }

  /** Creates a bucket outside of any program (tests, or `aws s3 mb`). */
  createBucket(name: string): void {
    this.store.createBucket(name);
  }

  /** Resolves once every notification sent so far has been handed to the function (tests wait on this). */
  async drainNotifications(): Promise<void> {
    while (this.pendingNotifications.size) await Promise.allSettled([...this.pendingNotifications]);
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const requestId = nextRequestId();
    let reply: Reply;
    let request: Request | undefined;
    try {
      request = parseRequest(req, body, requestId);
      reply = await this.route(request);
      // The content is on disk and the record in the store's batch before anyone hears of the write.
      await reply.kept;
    } catch (error) {
      reply = errorReply(error, request, requestId);
    }
    const headers: Record<string, string | number> = { "x-amz-request-id": requestId, "x-amz-id-2": hostIdOf(requestId) };
    for (const [name, value] of Object.entries(reply.headers ?? {})) if (value !== undefined) headers[name] = value;
    const payload = reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    if (reply.body !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/xml";
    if (headers["Content-Length"] === undefined) headers["Content-Length"] = payload.length;
    // Notifications first: each is queued as an asynchronous invocation, which the Lambda service keeps; then the
    // answer waits for the commit, so an acknowledged write and the events it caused are all on disk.
    for (const event of reply.events ?? [])
      this.notify(event.eventName, event.bucketName, event.object, requestId, request?.sourceIpAddress ?? "127.0.0.1");
    await this.context.store?.committed();
    res.writeHead(reply.status ?? 200, headers);
    res.end(req.method === "HEAD" ? undefined : payload);
  }

  async close(): Promise<void> {
    await this.store.idle();
    await this.drainNotifications();
  }

  /** Answers synchronously, or with a promise for reads of content: either way the object is looked up at once. */
  private route(request: Request): Reply | Promise<Reply> {
    const { method, bucketName, key, query } = request;
    const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
    if (unsupported) {
      throw new S3Error("NotImplemented", `The local S3 does not implement the "${unsupported}" sub-resource (${method} ?${unsupported}).`);
    }
    if (!bucketName) {
      if (method === "GET") return listBuckets(this.store);
      throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against the service endpoint.`);
    }
    if (key === undefined || key === "") {
      switch (method) {
        case "GET":
          if (query.has("location")) return getBucketLocation(this.store, bucketName);
          if (query.has("uploads")) return listUploads(this.store, bucketName, query);
          if (query.get("list-type") === "2") return listObjects(this.store, bucketName, query, 2);
          return listObjects(this.store, bucketName, query, 1);
        case "HEAD":
          return headBucket(this.store, bucketName);
        case "PUT":
          return createBucket(this.store, bucketName);
        case "DELETE":
          return deleteBucket(this.store, bucketName);
        case "POST":
          if (query.has("delete")) return deleteObjects(this.store, bucketName, request);
      }
      throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against this bucket.`);
    }
    switch (method) {
      case "PUT":
        if (query.has("uploadId")) return uploadPart(this.store, bucketName, key, request);
        if (request.headers["x-amz-copy-source"]) return copyObject(this.store, bucketName, key, request);
        return putObject(this.store, bucketName, key, request);
      case "GET":
        if (query.has("uploadId")) return listParts(this.store, bucketName, key, query);
        return getObject(this.store, bucketName, key, request, true);
      case "HEAD":
        return getObject(this.store, bucketName, key, request, false);
      case "DELETE":
        if (query.has("uploadId")) return abortUpload(this.store, bucketName, key, query.get("uploadId")!);
        return deleteObject(this.store, bucketName, key);
      case "POST":
        if (query.has("uploads")) return createUpload(this.store, bucketName, key, request);
        if (query.has("uploadId")) return completeUpload(this.store, bucketName, key, request);
    }
    throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against this resource.`);
  }

  // ---- notifications -------------------------------------------------------------------------------

  private provisionNotification(resource: DeclaredResource, all: readonly DeclaredResource[]): void {
    const bucket = this.store.bucketNamed(String(resource.inputs.bucket));
    const configured = readLambdaNotifications(resource, bucket.name, all);
    // One BucketNotification holds the bucket's whole configuration (PutBucketNotificationConfiguration replaces it).
    this.notifications.set(bucket.name, configured);
    for (const notification of configured) {
      const filters = [
        notification.filterPrefix && `prefix "${notification.filterPrefix}"`,
        notification.filterSuffix && `suffix "${notification.filterSuffix}"`,
      ]
        .filter(Boolean)
        .join(", ");
      this.context.log(
        "s3",
        `${bucket.name}: ${notification.events.join(",")} ${filters ? `(${filters}) ` : ""}→ ${notification.functionArn}`,
      );
    }
  }

  private notify(
    eventName: S3EventName,
    bucketName: string,
    object: { key: string; size: number; etag: string },
    requestId: string,
    sourceIpAddress: string,
  ): void {
    for (const notification of this.notifications.get(bucketName) ?? []) {
      if (!notificationMatches(notification, eventName, object.key)) continue;
      const record = s3EventRecord(
        { key: object.key, size: object.size, eTag: object.etag.replace(/"/g, "") },
        {
          region: this.context.region,
          bucketName,
          eventName,
          configurationId: notification.id,
          sequencer: this.sequencer.next(),
          requestId,
          sourceIpAddress,
        },
      );
      this.notificationsSent++;
      const delivery = this.context.lambda
        .invoke({
          functionName: notification.functionArn,
          payload: JSON.stringify({ Records: [record] }),
          invocationType: "Event",
          // S3 invokes as itself, under the function's resource policy (the Lambda permission for this bucket).
          caller: {
            kind: "service",
            service: "s3.amazonaws.com",
            sourceArn: `arn:aws:s3:::${bucketName}`,
            sourceAccount: this.context.accountId,
          },
        })
        .catch((error: Error) =>
          this.context.log(
            "s3",
            `notification of ${eventName} ${bucketName}/${object.key} to ${notification.functionArn} failed: ${error.name}: ${error.message}`,
          ),
        )
        .finally(() => this.pendingNotifications.delete(delivery));
      this.pendingNotifications.add(delivery);
    }
  }
}
