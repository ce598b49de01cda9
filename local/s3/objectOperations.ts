/** Operations on single objects: PutObject, GetObject and HeadObject, DeleteObject, DeleteObjects, CopyObject. */
import type { IncomingMessage } from "node:http";
import { S3Error } from "./errors";
import { quotedMd5, type StoredObject } from "./objectStore";
import { checksumHeader, objectTemplate, readUploadBody, type Reply, type Request } from "./request";
import type { S3Store } from "./store";
import { copySourceTarget } from "./target";
import { elementTexts, xmlDocument } from "./xml";

export function putObject(s3: S3Store, bucketName: string, key: string, request: Request): Reply {
  s3.count("PutObject");
  const bucket = s3.bucketNamed(bucketName);
  const existing = bucket.objects.get(key);
  checkWritePreconditions(request.headers, existing, key);
  const { payload, checksum: givenChecksum } = readUploadBody(request);
  const object: StoredObject = {
    ...objectTemplate(request.headers),
    key,
    size: payload.length,
    body: payload,
    etag: quotedMd5(payload),
    lastModified: new Date(),
    checksum: givenChecksum,
  };
  const kept = bucket.put(object);
  return {
    kept,
    headers: { ETag: object.etag, ...checksumHeader(givenChecksum) },
    events: [{ eventName: "ObjectCreated:Put", bucketName, object: { key, size: payload.length, etag: object.etag } }],
  };
}

/**
 * The object is looked up and its read begun when the request arrives (this function's synchronous part), so a
 * later overwrite neither changes what it answers nor removes the file it reads.
 */
export async function getObject(s3: S3Store, bucketName: string, key: string, request: Request, withBody: boolean): Promise<Reply> {
  s3.count(withBody ? "GetObject" : "HeadObject");
  const bucket = s3.bucketNamed(bucketName);
  const object = bucket.get(key);
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
    const { start, end } = parseRange(range, object.size);
    headers["Content-Range"] = `bytes ${start}-${end}/${object.size}`;
    headers["Content-Length"] = end - start + 1;
    return { status: 206, headers, body: withBody ? await bucket.read(object, start, end - start + 1) : undefined };
  }
  if (String(request.headers["x-amz-checksum-mode"] ?? "").toUpperCase() === "ENABLED")
    Object.assign(headers, checksumHeader(object.checksum));
  headers["Content-Length"] = object.size;
  return { headers, body: withBody ? await bucket.read(object) : undefined };
}

export function deleteObject(s3: S3Store, bucketName: string, key: string): Reply {
  s3.count("DeleteObject");
  const bucket = s3.bucketNamed(bucketName);
  const removed = bucket.delete(key);
  // S3 answers 204 whether or not the key existed, and notifies only when something was deleted.
  return {
    status: 204,
    kept: removed?.kept,
    events: removed ? [{ eventName: "ObjectRemoved:Delete", bucketName, object: { key, size: 0, etag: "" } }] : [],
  };
}

export function deleteObjects(s3: S3Store, bucketName: string, request: Request): Reply {
  s3.count("DeleteObjects");
  const bucket = s3.bucketNamed(bucketName);
  const xml = readUploadBody(request).payload.toString("utf8");
  const objects = elementTexts(xml, "Object");
  if (!xml.includes("<Delete") || objects.length > 1000)
    throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
  const quiet = elementTexts(xml, "Quiet")[0] === "true";
  const deleted: { Key: string }[] = [];
  const events: NonNullable<Reply["events"]> = [];
  const kept: Promise<void>[] = [];
  for (const objectXml of objects) {
    const key = elementTexts(objectXml, "Key")[0];
    if (key === undefined) throw new S3Error("MalformedXML", "Every <Object> in a Delete request needs a <Key>.");
    const removed = bucket.delete(key);
    if (removed) {
      kept.push(removed.kept);
      events.push({ eventName: "ObjectRemoved:Delete", bucketName, object: { key, size: 0, etag: "" } });
    }
    deleted.push({ Key: key });
  }
  return { body: xmlDocument("DeleteResult", { Deleted: quiet ? [] : deleted }), events, kept: Promise.all(kept) };
}

export function copyObject(s3: S3Store, bucketName: string, key: string, request: Request): Reply {
  s3.count("CopyObject");
  const target = s3.bucketNamed(bucketName);
  const source = String(request.headers["x-amz-copy-source"]);
  const named = copySourceTarget(source);
  if ("invalid" in named) {
    throw new S3Error(
      "InvalidArgument",
      named.invalid === "encoding"
        ? `Invalid copy source: not valid percent-encoding: ${source}`
        : `Invalid copy source object key: ${source}`,
    );
  }
  const sourceBucket = s3.bucketNamed(named.bucket);
  const sourceObject = sourceBucket.get(named.key);
  const replace = String(request.headers["x-amz-metadata-directive"] ?? "COPY").toUpperCase() === "REPLACE";
  if (!replace && named.bucket === bucketName && named.key === key) {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const metadataSource = replace ? objectTemplate(request.headers) : sourceObject;
  const object: StoredObject = {
    key,
    size: sourceObject.size,
    // The source's bytes: still in memory, or read from its file now (begun at arrival, so a later overwrite of
    // the source does not change what is copied). The copy is kept, and answered, once they are read and written.
    body: sourceObject.body ?? sourceBucket.read(sourceObject),
    etag: sourceObject.etag,
    lastModified: new Date(),
    contentType: metadataSource.contentType,
    contentEncoding: metadataSource.contentEncoding,
    contentDisposition: metadataSource.contentDisposition,
    cacheControl: metadataSource.cacheControl,
    metadata: { ...metadataSource.metadata },
    checksum: sourceObject.checksum,
  };
  const kept = target.put(object);
  return {
    kept,
    body: xmlDocument("CopyObjectResult", { LastModified: object.lastModified.toISOString(), ETag: object.etag }),
    events: [{ eventName: "ObjectCreated:Copy", bucketName, object: { key, size: object.size, etag: object.etag } }],
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
