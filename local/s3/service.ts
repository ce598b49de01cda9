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
 * multipart uploads (Create, UploadPart, Complete, Abort). Any other sub-resource answers 501 NotImplemented.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { decodeAwsChunked, isAwsChunked } from "./awsChunked";
import { checksum, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, isChecksumAlgorithm, md5Hex } from "./checksums";
import { S3Error } from "./errors";
import {
  eventMatches,
  type LambdaNotification,
  notificationMatches,
  type S3EventName,
  s3EventRecord,
  Sequencer,
} from "./eventNotifications";
import { Bucket, multipartEtag, quotedMd5, type StoredObject } from "./objectStore";
import { elementTexts, escapeXml, xmlDocument, type XmlElement } from "./xml";

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const BUCKET_NOTIFICATION_TYPE = "aws:s3/bucketNotification:BucketNotification";
export const PUBLIC_ACCESS_BLOCK_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

/** S3 refuses single parts below 5 MiB except the last. https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_KEYS_DEFAULT = 1000;

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

interface Request {
  method: string;
  bucketName?: string;
  key?: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  requestId: string;
  sourceIpAddress: string;
}

interface Reply {
  status?: number;
  headers?: Record<string, string | number | undefined>;
  body?: Buffer | string;
  /** Notifications to send once the response is out (S3 notifies after the write is durable). */
  events?: { eventName: S3EventName; bucketName: string; object: { key: string; size: number; etag: string } }[];
}

export class S3Service implements LocalService {
  readonly signingNames = ["s3"] as const;
  readonly resourceTypes = [...BUCKET_TYPES, BUCKET_NOTIFICATION_TYPE, PUBLIC_ACCESS_BLOCK_TYPE] as const;

  /** Requests answered, by operation name (e.g. `{ PutObject: 12 }`): benchmarks divide these by chunk count. */
  readonly requestCounts: Record<string, number> = {};
  /** Notifications sent to functions (one per matching configuration per event). */
  notificationsSent = 0;

  private readonly buckets = new Map<string, Bucket>();
  private readonly notifications = new Map<string, LambdaNotification[]>();
  private readonly sequencer = new Sequencer();
  private readonly pendingNotifications = new Set<Promise<unknown>>();

  constructor(private readonly context: LocalContext) {}

  async provision(resource: DeclaredResource, all: readonly DeclaredResource[]): Promise<void> {
    if ((BUCKET_TYPES as readonly string[]).includes(resource.type)) {
      const name = String(resource.state.bucket ?? resource.id);
      if (!this.buckets.has(name)) this.buckets.set(name, new Bucket(name));
      this.context.log("s3", `bucket ${name}`);
      return;
    }
    if (resource.type === PUBLIC_ACCESS_BLOCK_TYPE) {
      // Locally nothing is public or private: every signed request is accepted. Only check the reference.
      this.bucketNamed(String(resource.inputs.bucket));
      return;
    }
    if (resource.type === BUCKET_NOTIFICATION_TYPE) return this.provisionNotification(resource, all);
  }

  /** Creates a bucket outside of any program (tests, or `aws s3 mb`). */
  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Bucket(name));
  }

  /** Resolves once every notification sent so far has been handed to the function (tests wait on this). */
  async drainNotifications(): Promise<void> {
    while (this.pendingNotifications.size) await Promise.allSettled([...this.pendingNotifications]);
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    let reply: Reply;
    let request: Request | undefined;
    try {
      request = parseRequest(req, body, requestId);
      reply = this.route(request);
    } catch (error) {
      reply = errorReply(error, request, requestId);
    }
    const headers: Record<string, string | number> = { "x-amz-request-id": requestId, "x-amz-id-2": randomBytes(24).toString("base64") };
    for (const [name, value] of Object.entries(reply.headers ?? {})) if (value !== undefined) headers[name] = value;
    const payload = reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
    if (reply.body !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/xml";
    if (headers["Content-Length"] === undefined) headers["Content-Length"] = payload.length;
    res.writeHead(reply.status ?? 200, headers);
    res.end(req.method === "HEAD" ? undefined : payload);
    for (const event of reply.events ?? [])
      this.notify(event.eventName, event.bucketName, event.object, requestId, request?.sourceIpAddress ?? "127.0.0.1");
  }

  async close(): Promise<void> {
    await this.drainNotifications();
  }

  private count(operation: string): void {
    this.requestCounts[operation] = (this.requestCounts[operation] ?? 0) + 1;
  }

  private route(request: Request): Reply {
    const { method, bucketName, key, query } = request;
    const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
    if (unsupported) {
      throw new S3Error("NotImplemented", `The local S3 does not implement the "${unsupported}" sub-resource (${method} ?${unsupported}).`);
    }
    if (!bucketName) {
      if (method === "GET") return this.listBuckets();
      throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against the service endpoint.`);
    }
    if (key === undefined || key === "") {
      switch (method) {
        case "GET":
          if (query.has("location")) return this.getBucketLocation(bucketName);
          if (query.get("list-type") === "2") return this.listObjects(bucketName, query, 2);
          return this.listObjects(bucketName, query, 1);
        case "HEAD":
          return this.headBucket(bucketName);
        case "PUT":
          return this.createBucketOperation(bucketName);
        case "DELETE":
          return this.deleteBucket(bucketName);
        case "POST":
          if (query.has("delete")) return this.deleteObjects(bucketName, request);
      }
      throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against this bucket.`);
    }
    switch (method) {
      case "PUT":
        if (query.has("uploadId")) return this.uploadPart(bucketName, key, request);
        if (request.headers["x-amz-copy-source"]) return this.copyObject(bucketName, key, request);
        return this.putObject(bucketName, key, request);
      case "GET":
        return this.getObject(bucketName, key, request, true);
      case "HEAD":
        return this.getObject(bucketName, key, request, false);
      case "DELETE":
        if (query.has("uploadId")) return this.abortUpload(bucketName, key, query.get("uploadId")!);
        return this.deleteObject(bucketName, key);
      case "POST":
        if (query.has("uploads")) return this.createUpload(bucketName, key, request);
        if (query.has("uploadId")) return this.completeUpload(bucketName, key, request);
    }
    throw new S3Error("MethodNotAllowed", `The specified method (${method}) is not allowed against this resource.`);
  }

  private bucketNamed(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new S3Error("NoSuchBucket", "The specified bucket does not exist", { BucketName: name });
    return bucket;
  }

  // ---- buckets -------------------------------------------------------------------------------------

  private listBuckets(): Reply {
    this.count("ListBuckets");
    const buckets = [...this.buckets.values()].map((bucket) => ({ Name: bucket.name, CreationDate: bucket.creationDate.toISOString() }));
    return { body: xmlDocument("ListAllMyBucketsResult", { Owner: { ID: "local", DisplayName: "local" }, Buckets: { Bucket: buckets } }) };
  }

  private getBucketLocation(name: string): Reply {
    this.count("GetBucketLocation");
    this.bucketNamed(name);
    // us-east-1 is reported as an empty LocationConstraint. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
    const region = this.context.region === "us-east-1" ? "" : this.context.region;
    return {
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
    };
  }

  private headBucket(name: string): Reply {
    this.count("HeadBucket");
    this.bucketNamed(name);
    return { headers: { "x-amz-bucket-region": this.context.region } };
  }

  private createBucketOperation(name: string): Reply {
    this.count("CreateBucket");
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
      throw new S3Error("InvalidBucketName", "The specified bucket is not valid.", { BucketName: name });
    // In us-east-1, re-creating a bucket you own succeeds (legacy behaviour); elsewhere it is a 409.
    if (this.buckets.has(name) && this.context.region !== "us-east-1") {
      throw new S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", {
        BucketName: name,
      });
    }
    this.createBucket(name);
    return { headers: { Location: `/${name}` } };
  }

  private deleteBucket(name: string): Reply {
    this.count("DeleteBucket");
    const bucket = this.bucketNamed(name);
    if (bucket.objects.size) throw new S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: name });
    this.buckets.delete(name);
    return { status: 204 };
  }

  // ---- listing -------------------------------------------------------------------------------------

  private listObjects(bucketName: string, query: URLSearchParams, version: 1 | 2): Reply {
    this.count(version === 2 ? "ListObjectsV2" : "ListObjects");
    const bucket = this.bucketNamed(bucketName);
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const maxKeysText = query.get("max-keys");
    const maxKeys = maxKeysText === null ? MAX_KEYS_DEFAULT : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0)
      throw new S3Error("InvalidArgument", `Provided max-keys not an integer or within integer range: ${maxKeysText}`);
    const urlEncoded = query.get("encoding-type") === "url";
    if (query.has("encoding-type") && !urlEncoded)
      throw new S3Error("InvalidArgument", `Invalid Encoding Method specified in Request: ${query.get("encoding-type")}`);
    const continuationToken = query.get("continuation-token");
    let after: string;
    /** Set when the previous page ended with a common prefix: every key under it was already summarized. */
    let skipPrefix: string | undefined;
    if (version === 2 && continuationToken !== null) ({ after, skipPrefix } = decodeContinuationToken(continuationToken));
    else after = (version === 2 ? query.get("start-after") : query.get("marker")) ?? "";
    // A v1 marker that is a returned common prefix (NextMarker) skips that prefix's keys, as S3 does.
    if (
      version === 1 &&
      delimiter &&
      after.endsWith(delimiter) &&
      after.startsWith(prefix) &&
      after.indexOf(delimiter, prefix.length) === after.length - delimiter.length
    )
      skipPrefix = after;

    const contents: StoredObject[] = [];
    const commonPrefixes: string[] = [];
    let isTruncated = false;
    let lastReturned = "";
    let lastWasPrefix = false;
    for (const key of bucket.keysFrom(prefix, after)) {
      // A resumed listing must not repeat a common prefix it already returned.
      if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
      let entry: string = key;
      let isPrefix = false;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          entry = key.slice(0, at + delimiter.length);
          isPrefix = true;
          if (commonPrefixes[commonPrefixes.length - 1] === entry) continue;
        }
      }
      if (contents.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      if (isPrefix) commonPrefixes.push(entry);
      else contents.push(bucket.objects.get(key)!);
      lastReturned = entry;
      lastWasPrefix = isPrefix;
    }

    const encode = (text: string) => (urlEncoded ? encodeURIComponent(text).replace(/%2F/g, "/") : text);
    const body: XmlElement = { Name: bucketName, Prefix: encode(prefix) };
    if (version === 2) {
      body.KeyCount = contents.length + commonPrefixes.length;
      if (continuationToken !== null) body.ContinuationToken = continuationToken;
      if (query.has("start-after")) body.StartAfter = encode(query.get("start-after")!);
    } else {
      body.Marker = encode(after);
    }
    body.MaxKeys = maxKeys;
    if (delimiter) body.Delimiter = encode(delimiter);
    if (urlEncoded) body.EncodingType = "url";
    body.IsTruncated = isTruncated;
    if (isTruncated && version === 2) body.NextContinuationToken = encodeContinuationToken(lastReturned, lastWasPrefix);
    if (isTruncated && version === 1 && delimiter) body.NextMarker = encode(lastReturned);
    body.Contents = contents.map((object) => ({
      Key: encode(object.key),
      LastModified: object.lastModified.toISOString(),
      ETag: object.etag,
      Size: object.body.length,
      StorageClass: "STANDARD",
    }));
    body.CommonPrefixes = commonPrefixes.map((commonPrefix) => ({ Prefix: encode(commonPrefix) }));
    return { body: xmlDocument("ListBucketResult", body) };
  }

  // ---- objects -------------------------------------------------------------------------------------

  private putObject(bucketName: string, key: string, request: Request): Reply {
    this.count("PutObject");
    const bucket = this.bucketNamed(bucketName);
    const existing = bucket.objects.get(key);
    checkWritePreconditions(request.headers, existing, key);
    const { payload, checksum: givenChecksum } = readUploadBody(request);
    const object: StoredObject = {
      ...objectTemplate(request.headers),
      key,
      body: payload,
      etag: quotedMd5(payload),
      lastModified: new Date(),
      checksum: givenChecksum,
    };
    bucket.put(object);
    return {
      headers: { ETag: object.etag, ...checksumHeader(givenChecksum) },
      events: [{ eventName: "ObjectCreated:Put", bucketName, object: { key, size: payload.length, etag: object.etag } }],
    };
  }

  private getObject(bucketName: string, key: string, request: Request, withBody: boolean): Reply {
    this.count(withBody ? "GetObject" : "HeadObject");
    const object = this.bucketNamed(bucketName).get(key);
    const ifMatch = request.headers["if-match"];
    if (ifMatch && !etagListIncludes(ifMatch, object.etag))
      throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" });
    const ifNoneMatch = request.headers["if-none-match"];
    if (ifNoneMatch && etagListIncludes(ifNoneMatch, object.etag)) return { status: 304, headers: { ETag: object.etag } };

    const headers: Reply["headers"] = {
      "Content-Type": object.contentType,
      ETag: object.etag,
      "Last-Modified": object.lastModified.toUTCString(),
      "Accept-Ranges": "bytes",
      "Content-Encoding": object.contentEncoding,
      "Content-Disposition": object.contentDisposition,
      "Cache-Control": object.cacheControl,
    };
    for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;

    const range = request.headers.range;
    if (range) {
      const { start, end } = parseRange(range, object.body.length);
      headers["Content-Range"] = `bytes ${start}-${end}/${object.body.length}`;
      headers["Content-Length"] = end - start + 1;
      return { status: 206, headers, body: withBody ? object.body.subarray(start, end + 1) : undefined };
    }
    if (String(request.headers["x-amz-checksum-mode"] ?? "").toUpperCase() === "ENABLED")
      Object.assign(headers, checksumHeader(object.checksum));
    headers["Content-Length"] = object.body.length;
    return { headers, body: withBody ? object.body : undefined };
  }

  private deleteObject(bucketName: string, key: string): Reply {
    this.count("DeleteObject");
    const bucket = this.bucketNamed(bucketName);
    const removed = bucket.delete(key);
    // S3 answers 204 whether or not the key existed, and notifies only when something was deleted.
    return { status: 204, events: removed ? [{ eventName: "ObjectRemoved:Delete", bucketName, object: { key, size: 0, etag: "" } }] : [] };
  }

  private deleteObjects(bucketName: string, request: Request): Reply {
    this.count("DeleteObjects");
    const bucket = this.bucketNamed(bucketName);
    const xml = readUploadBody(request).payload.toString("utf8");
    const objects = elementTexts(xml, "Object");
    if (!xml.includes("<Delete") || objects.length > 1000)
      throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
    const quiet = elementTexts(xml, "Quiet")[0] === "true";
    const deleted: { Key: string }[] = [];
    const events: NonNullable<Reply["events"]> = [];
    for (const objectXml of objects) {
      const key = elementTexts(objectXml, "Key")[0];
      if (key === undefined) throw new S3Error("MalformedXML", "Every <Object> in a Delete request needs a <Key>.");
      if (bucket.delete(key)) events.push({ eventName: "ObjectRemoved:Delete", bucketName, object: { key, size: 0, etag: "" } });
      deleted.push({ Key: key });
    }
    return { body: xmlDocument("DeleteResult", { Deleted: quiet ? [] : deleted }), events };
  }

  private copyObject(bucketName: string, key: string, request: Request): Reply {
    this.count("CopyObject");
    const target = this.bucketNamed(bucketName);
    const source = String(request.headers["x-amz-copy-source"]);
    const [sourcePath] = source.split("?versionId=");
    const decoded = decodeURIComponent(sourcePath.replace(/^\//, ""));
    const slash = decoded.indexOf("/");
    if (slash <= 0) throw new S3Error("InvalidArgument", `Invalid copy source object key: ${source}`);
    const sourceObject = this.bucketNamed(decoded.slice(0, slash)).get(decoded.slice(slash + 1));
    const replace = String(request.headers["x-amz-metadata-directive"] ?? "COPY").toUpperCase() === "REPLACE";
    if (!replace && decoded === `${bucketName}/${key}`) {
      throw new S3Error(
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const metadataSource = replace ? objectTemplate(request.headers) : sourceObject;
    const object: StoredObject = {
      key,
      body: sourceObject.body,
      etag: sourceObject.etag,
      lastModified: new Date(),
      contentType: metadataSource.contentType,
      contentEncoding: metadataSource.contentEncoding,
      contentDisposition: metadataSource.contentDisposition,
      cacheControl: metadataSource.cacheControl,
      metadata: { ...metadataSource.metadata },
      checksum: sourceObject.checksum,
    };
    target.put(object);
    return {
      body: xmlDocument("CopyObjectResult", { LastModified: object.lastModified.toISOString(), ETag: object.etag }),
      events: [{ eventName: "ObjectCreated:Copy", bucketName, object: { key, size: object.body.length, etag: object.etag } }],
    };
  }

  // ---- multipart -----------------------------------------------------------------------------------

  private createUpload(bucketName: string, key: string, request: Request): Reply {
    this.count("CreateMultipartUpload");
    const upload = this.bucketNamed(bucketName).createUpload(key, objectTemplate(request.headers));
    return { body: xmlDocument("InitiateMultipartUploadResult", { Bucket: bucketName, Key: key, UploadId: upload.uploadId }) };
  }

  private uploadPart(bucketName: string, key: string, request: Request): Reply {
    this.count("UploadPart");
    const upload = this.bucketNamed(bucketName).upload(request.query.get("uploadId")!, key);
    const partNumber = Number(request.query.get("partNumber"));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", { ArgumentName: "partNumber" });
    }
    const { payload, checksum: givenChecksum } = readUploadBody(request);
    const etag = quotedMd5(payload);
    upload.parts.set(partNumber, { body: payload, etag });
    return { headers: { ETag: etag, ...checksumHeader(givenChecksum) } };
  }

  private completeUpload(bucketName: string, key: string, request: Request): Reply {
    this.count("CompleteMultipartUpload");
    const bucket = this.bucketNamed(bucketName);
    const upload = bucket.upload(request.query.get("uploadId")!, key);
    const xml = readUploadBody(request).payload.toString("utf8");
    const requested = elementTexts(xml, "Part").map((partXml) => ({
      partNumber: Number(elementTexts(partXml, "PartNumber")[0]),
      etag: elementTexts(partXml, "ETag")[0] ?? "",
    }));
    if (!requested.length)
      throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
    const bodies: Buffer[] = [];
    requested.forEach(({ partNumber, etag }, index) => {
      if (index > 0 && partNumber <= requested[index - 1].partNumber)
        throw new S3Error("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.");
      const part = upload.parts.get(partNumber);
      if (!part || part.etag.replace(/"/g, "") !== etag.replace(/"/g, "")) {
        throw new S3Error(
          "InvalidPart",
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { PartNumber: String(partNumber) },
        );
      }
      if (index < requested.length - 1 && part.body.length < MIN_PART_BYTES) {
        throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", {
          PartNumber: String(partNumber),
        });
      }
      bodies.push(part.body);
    });
    const body = Buffer.concat(bodies);
    const etag = multipartEtag(requested.map((part) => upload.parts.get(part.partNumber)!.etag));
    bucket.put({ ...upload.template, key, body, etag, lastModified: new Date() });
    bucket.uploads.delete(upload.uploadId);
    return {
      body: xmlDocument("CompleteMultipartUploadResult", {
        Location: `${this.context.origin}/${bucketName}/${encodeURIComponent(key)}`,
        Bucket: bucketName,
        Key: key,
        ETag: etag,
      }),
      events: [{ eventName: "ObjectCreated:CompleteMultipartUpload", bucketName, object: { key, size: body.length, etag } }],
    };
  }

  private abortUpload(bucketName: string, key: string, uploadId: string): Reply {
    this.count("AbortMultipartUpload");
    const bucket = this.bucketNamed(bucketName);
    bucket.upload(uploadId, key);
    bucket.uploads.delete(uploadId);
    return { status: 204 };
  }

  // ---- notifications -------------------------------------------------------------------------------

  private provisionNotification(resource: DeclaredResource, all: readonly DeclaredResource[]): void {
    const { inputs } = resource;
    const bucketName = String(inputs.bucket);
    const bucket = this.bucketNamed(bucketName);
    for (const unsupported of ["queues", "topics"] as const) {
      if (Array.isArray(inputs[unsupported]) && inputs[unsupported].length) {
        throw new Error(
          `BucketNotification ${resource.name}: ${unsupported} destinations are not emulated locally; only lambdaFunctions are.`,
        );
      }
    }
    if (inputs.eventbridge)
      throw new Error(`BucketNotification ${resource.name}: EventBridge delivery is not emulated locally; only lambdaFunctions are.`);
    const configured: LambdaNotification[] = (inputs.lambdaFunctions ?? []).map((entry: Record<string, any>, index: number) => ({
      id: entry.id ?? `${resource.name}-${index}`,
      events: entry.events ?? [],
      filterPrefix: entry.filterPrefix || undefined,
      filterSuffix: entry.filterSuffix || undefined,
      functionArn: String(entry.lambdaFunctionArn),
    }));
    checkNoOverlap(configured);
    for (const notification of configured) checkInvokePermission(notification.functionArn, bucket.name, all);
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
        .invoke({ functionName: notification.functionArn, payload: JSON.stringify({ Records: [record] }), invocationType: "Event" })
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

// ---- request parsing and helpers -------------------------------------------------------------------

function parseRequest(req: IncomingMessage, body: Buffer, requestId: string): Request {
  const url = new URL(req.url ?? "/", "http://local");
  const path = url.pathname.slice(1);
  const slash = path.indexOf("/");
  const rawBucket = slash < 0 ? path : path.slice(0, slash);
  const rawKey = slash < 0 ? undefined : path.slice(slash + 1);
  let bucketName: string | undefined;
  let key: string | undefined;
  try {
    bucketName = rawBucket ? decodeURIComponent(rawBucket) : undefined;
    key = rawKey === undefined ? undefined : decodeURIComponent(rawKey);
  } catch {
    throw new S3Error("InvalidArgument", `The request path is not valid percent-encoding: ${url.pathname}`);
  }
  return {
    method: req.method ?? "GET",
    bucketName,
    key,
    query: url.searchParams,
    headers: req.headers,
    body,
    requestId,
    sourceIpAddress: req.socket?.remoteAddress ?? "127.0.0.1",
  };
}

function errorReply(error: unknown, request: Request | undefined, requestId: string): Reply {
  const s3Error = error instanceof S3Error ? error : new S3Error("InternalError", (error as Error)?.message ?? String(error));
  const status = error instanceof S3Error ? s3Error.statusCode : 500;
  const resource = request ? `/${request.bucketName ?? ""}${request.key !== undefined ? `/${request.key}` : ""}` : "/";
  const details = Object.entries(s3Error.details)
    .map(([tag, value]) => `<${tag}>${escapeXml(value)}</${tag}>`)
    .join("");
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${s3Error.code}</Code><Message>${escapeXml(s3Error.message)}</Message>` +
    `${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  return { status, body };
}

/**
 * The upload's bytes, with aws-chunked framing removed and every integrity check S3 makes: the streamed
 * length (x-amz-decoded-content-length), Content-MD5, a signed payload hash, and any flexible checksum
 * given in a header or a trailer.
 */
function readUploadBody(request: Request): { payload: Buffer; checksum?: { algorithm: ChecksumAlgorithm; value: string } } {
  const { headers, body } = request;
  let payload = body;
  let trailers: Record<string, string> = {};
  if (isAwsChunked(headers)) {
    ({ payload, trailers } = decodeAwsChunked(body));
    const declared = headers["x-amz-decoded-content-length"];
    if (declared !== undefined && Number(declared) !== payload.length) {
      throw new S3Error(
        "IncompleteBody",
        `You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (${declared} declared, ${payload.length} received).`,
      );
    }
  } else {
    const contentSha256 = String(headers["x-amz-content-sha256"] ?? "");
    if (/^[0-9a-f]{64}$/.test(contentSha256) && checksum("sha256", payload) !== Buffer.from(contentSha256, "hex").toString("base64")) {
      throw new S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }
  const contentMd5 = headers["content-md5"];
  if (contentMd5 !== undefined) {
    const digest = Buffer.from(String(contentMd5), "base64");
    if (digest.length !== 16) throw new S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.");
    if (digest.toString("hex") !== md5Hex(payload))
      throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  let given: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = trailers[`x-amz-checksum-${algorithm}`] ?? headers[`x-amz-checksum-${algorithm}`];
    if (value === undefined) continue;
    if (checksum(algorithm, payload) !== String(value)) {
      throw new S3Error("BadDigest", `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    given = { algorithm, value: String(value) };
  }
  const declaredAlgorithm = String(headers["x-amz-sdk-checksum-algorithm"] ?? "").toLowerCase();
  if (declaredAlgorithm && !isChecksumAlgorithm(declaredAlgorithm)) {
    throw new S3Error(
      "InvalidRequest",
      `Checksum algorithm "${declaredAlgorithm}" is not supported; use one of ${CHECKSUM_ALGORITHMS.join(", ")}.`,
    );
  }
  return { payload, checksum: given };
}

function objectTemplate(headers: IncomingMessage["headers"]): Omit<StoredObject, "key" | "body" | "etag" | "lastModified" | "checksum"> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("x-amz-meta-") && value !== undefined) metadata[name.slice("x-amz-meta-".length)] = String(value);
  }
  // aws-chunked is transfer framing, not a property of the object.
  const contentEncoding = String(headers["content-encoding"] ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part && part !== "aws-chunked")
    .join(", ");
  return {
    contentType: String(headers["content-type"] ?? "binary/octet-stream"),
    contentEncoding: contentEncoding || undefined,
    contentDisposition: headers["content-disposition"] as string | undefined,
    cacheControl: headers["cache-control"] as string | undefined,
    metadata,
  };
}

/** Conditional writes: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html */
function checkWritePreconditions(headers: IncomingMessage["headers"], existing: StoredObject | undefined, key: string): void {
  if (headers["if-none-match"] === "*" && existing)
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      Condition: "If-None-Match",
    });
  const ifMatch = headers["if-match"];
  if (ifMatch !== undefined) {
    if (!existing) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: key });
    if (!etagListIncludes(ifMatch, existing.etag))
      throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "If-Match" });
  }
}

function etagListIncludes(header: string | string[], etag: string): boolean {
  const wanted = String(header)
    .split(",")
    .map((part) => part.trim().replace(/^W\//, ""));
  return wanted.includes("*") || wanted.includes(etag) || wanted.includes(etag.replace(/"/g, ""));
}

function parseRange(header: string, size: number): { start: number; end: number } {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const invalid = () =>
    new S3Error("InvalidRange", "The requested range is not satisfiable", { RangeRequested: header, ActualObjectSize: String(size) });
  if (!match || (match[1] === "" && match[2] === "")) throw invalid();
  let start: number;
  let end: number;
  if (match[1] === "") {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) throw invalid();
  return { start, end };
}

function checksumHeader(given: StoredObject["checksum"]): Record<string, string> {
  return given ? { [`x-amz-checksum-${given.algorithm}`]: given.value } : {};
}

/** Opaque to clients, as S3's are: the last entry returned, and whether it was a common prefix. */
function encodeContinuationToken(lastReturned: string, isPrefix: boolean): string {
  return Buffer.from(JSON.stringify([lastReturned, isPrefix]), "utf8").toString("base64url");
}

function decodeContinuationToken(token: string): { after: string; skipPrefix?: string } {
  try {
    const [after, isPrefix] = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof after === "string" && typeof isPrefix === "boolean") return { after, skipPrefix: isPrefix ? after : undefined };
  } catch {
    // falls through to the error S3 gives
  }
  throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
}

/**
 * S3 rejects two configurations that share an event type and whose prefix and suffix filters could both
 * match one key ("Configurations overlap. Configurations on the same bucket cannot share a common event type.").
 */
function checkNoOverlap(notifications: LambdaNotification[]): void {
  for (let i = 0; i < notifications.length; i++) {
    for (let j = i + 1; j < notifications.length; j++) {
      const [a, b] = [notifications[i], notifications[j]];
      const shareEvent = a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
      const prefixesOverlap =
        (a.filterPrefix ?? "").startsWith(b.filterPrefix ?? "") || (b.filterPrefix ?? "").startsWith(a.filterPrefix ?? "");
      const suffixesOverlap =
        (a.filterSuffix ?? "").endsWith(b.filterSuffix ?? "") || (b.filterSuffix ?? "").endsWith(a.filterSuffix ?? "");
      if (shareEvent && prefixesOverlap && suffixesOverlap) {
        throw new Error(
          `Configurations overlap. Configurations on the same bucket cannot share a common event type (${a.id} and ${b.id}).`,
        );
      }
    }
  }
}

function eventsOverlap(a: string, b: string): boolean {
  const samples: S3EventName[] = [
    "ObjectCreated:Put",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectRemoved:Delete",
  ];
  return samples.some((event) => eventMatches(a, event) && eventMatches(b, event));
}

/**
 * S3 validates a Lambda destination when the configuration is written: the function must grant
 * s3.amazonaws.com lambda:InvokeFunction (for this bucket, when the permission names a source ARN), or the
 * deployment fails with "Unable to validate the following destination configurations".
 */
function checkInvokePermission(functionArn: string, bucketName: string, all: readonly DeclaredResource[]): void {
  const fn = all.find((resource) => resource.type === "aws:lambda/function:Function" && resource.state.arn === functionArn);
  const names = new Set([functionArn, fn?.state.name, fn?.id].filter(Boolean));
  const granted = all.some(
    (resource) =>
      resource.type === "aws:lambda/permission:Permission" &&
      resource.state.principal === "s3.amazonaws.com" &&
      resource.state.action === "lambda:InvokeFunction" &&
      names.has(resource.state.function) &&
      (!resource.state.sourceArn || resource.state.sourceArn === `arn:aws:s3:::${bucketName}`),
  );
  if (!granted) {
    throw new Error(
      `Unable to validate the following destination configurations: bucket ${bucketName} notifies ${functionArn}, ` +
        `but no aws.lambda.Permission lets s3.amazonaws.com invoke it (principal "s3.amazonaws.com", action "lambda:InvokeFunction", sourceArn the bucket's ARN).`,
    );
  }
}
