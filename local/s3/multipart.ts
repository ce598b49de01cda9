/** Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload. */
import { S3Error } from "./errors";
import { multipartEtag, quotedMd5, type UploadedPart } from "./objectStore";
import { checksumHeader, objectTemplate, readUploadBody, type Reply, type Request } from "./request";
import type { S3Store } from "./store";
import { elementTexts, xmlDocument } from "./xml";

/** S3 refuses single parts below 5 MiB except the last. https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export function createUpload(s3: S3Store, bucketName: string, key: string, request: Request): Reply {
  s3.count("CreateMultipartUpload");
  const upload = s3.bucketNamed(bucketName).createUpload(key, objectTemplate(request.headers));
  return { body: xmlDocument("InitiateMultipartUploadResult", { Bucket: bucketName, Key: key, UploadId: upload.uploadId }) };
}

export function uploadPart(s3: S3Store, bucketName: string, key: string, request: Request): Reply {
  s3.count("UploadPart");
  // UploadPartCopy (`aws s3 cp` between buckets, for large objects) would otherwise be taken for an empty part.
  if (request.headers["x-amz-copy-source"] !== undefined) {
    throw new S3Error("NotImplemented", "The local S3 does not implement UploadPartCopy (UploadPart with an x-amz-copy-source header).");
  }
  const bucket = s3.bucketNamed(bucketName);
  const upload = bucket.upload(request.query.get("uploadId")!, key);
  const partNumber = Number(request.query.get("partNumber"));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
    throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", { ArgumentName: "partNumber" });
  }
  const { payload, checksum: givenChecksum } = readUploadBody(request);
  const etag = quotedMd5(payload);
  const part: UploadedPart = { etag, size: payload.length, lastModified: new Date(), checksum: givenChecksum, body: payload };
  // Acknowledged only once the part's file and record are kept (a part uploaded again replaces this one).
  const kept = bucket.putPart(upload, partNumber, part);
  return { kept, headers: { ETag: etag, ...checksumHeader(givenChecksum) } };
}

export function completeUpload(s3: S3Store, bucketName: string, key: string, request: Request): Reply {
  s3.count("CompleteMultipartUpload");
  const bucket = s3.bucketNamed(bucketName);
  const upload = bucket.upload(request.query.get("uploadId")!, key);
  const xml = readUploadBody(request).payload.toString("utf8");
  const requested = elementTexts(xml, "Part").map((partXml) => ({
    partNumber: Number(elementTexts(partXml, "PartNumber")[0]),
    etag: elementTexts(partXml, "ETag")[0] ?? "",
  }));
  if (!requested.length)
    throw new S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
  const parts: UploadedPart[] = [];
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
    if (index < requested.length - 1 && part.size < MIN_PART_BYTES) {
      throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", {
        PartNumber: String(partNumber),
      });
    }
    parts.push(part);
  });
  const size = parts.reduce((total, part) => total + part.size, 0);
  const etag = multipartEtag(parts.map((part) => part.etag));
  const kept = bucket.completeUpload(upload, parts, { ...upload.template, key, size, etag, lastModified: new Date() });
  return {
    kept,
    body: xmlDocument("CompleteMultipartUploadResult", {
      Location: `${s3.context.origin}/${bucketName}/${encodeURIComponent(key)}`,
      Bucket: bucketName,
      Key: key,
      ETag: etag,
    }),
    events: [{ eventName: "ObjectCreated:CompleteMultipartUpload", bucketName, object: { key, size, etag } }],
  };
}

export function abortUpload(s3: S3Store, bucketName: string, key: string, uploadId: string): Reply {
  s3.count("AbortMultipartUpload");
  const bucket = s3.bucketNamed(bucketName);
  bucket.upload(uploadId, key);
  // The records go in this turn's batch (the answer waits for its commit), the part files once it is committed.
  bucket.removeUpload(uploadId);
  return { status: 204 };
}
