/**
 * The two listings clients use with multipart uploads: ListMultipartUploads (`GET /<bucket>?uploads`) and ListParts
 * (`GET /<bucket>/<key>?uploadId=…`), in S3's XML and with its paging rules.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
 */
import { S3Error } from "./errors";
import { commonPrefixOf, isReturnedPrefix, keyEncoder, OWNER } from "./listing";
import type { MultipartUpload } from "./objectStore";
import type { Reply } from "./request";
import type { S3Store } from "./store";
import { type XmlElement, xmlDocument } from "./xml";

/** The default and the most S3 returns in one page, for both listings. */
const MAX_PAGE = 1000;
/** S3's response element for each checksum algorithm (ChecksumCRC32, ChecksumSHA256...). */
const CHECKSUM_ELEMENTS = {
  crc32: "ChecksumCRC32",
  crc32c: "ChecksumCRC32C",
  crc64nvme: "ChecksumCRC64NVME",
  sha1: "ChecksumSHA1",
  sha256: "ChecksumSHA256",
};

/**
 * Uploads sorted by key, then by initiation (ids begin with it, so that is id order too); `key-marker` alone skips
 * keys up to it, with `upload-id-marker` the marker key's uploads up to that id. A delimiter rolls keys up into
 * CommonPrefixes as ListObjects does; a page holds at most `max-uploads` uploads and prefixes together.
 */
export function listUploads(s3: S3Store, bucketName: string, query: URLSearchParams): Reply {
  s3.count("ListMultipartUploads");
  const bucket = s3.bucketNamed(bucketName);
  const maxUploads = pageSize(query, "max-uploads");
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const keyMarker = query.get("key-marker") ?? "";
  // S3 ignores upload-id-marker without a key-marker.
  const uploadIdMarker = keyMarker ? (query.get("upload-id-marker") ?? "") : "";
  const { urlEncoded, encode } = keyEncoder(query);
  // A marker that is a common prefix returned before (NextKeyMarker of a page that ended on one) skips its keys.
  const skipPrefix = isReturnedPrefix(keyMarker, prefix, delimiter) ? keyMarker : undefined;

  const candidates = [...bucket.uploads.values()]
    .filter((upload) => upload.key.startsWith(prefix))
    .filter((upload) => upload.key > keyMarker || (uploadIdMarker !== "" && upload.key === keyMarker && upload.uploadId > uploadIdMarker))
    .filter((upload) => skipPrefix === undefined || !upload.key.startsWith(skipPrefix))
    .sort((a, b) => compare(a.key, b.key) || compare(a.uploadId, b.uploadId));

  const uploads: MultipartUpload[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let next: { key: string; uploadId?: string } | undefined;
  for (const upload of candidates) {
    const rolledUp = commonPrefixOf(upload.key, prefix, delimiter);
    if (rolledUp !== undefined && commonPrefixes[commonPrefixes.length - 1] === rolledUp) continue;
    if (uploads.length + commonPrefixes.length >= maxUploads) {
      isTruncated = true;
      break;
    }
    if (rolledUp !== undefined) {
      commonPrefixes.push(rolledUp);
      next = { key: rolledUp };
    } else {
      uploads.push(upload);
      next = { key: upload.key, uploadId: upload.uploadId };
    }
  }

  const body: XmlElement = {
    Bucket: bucketName,
    KeyMarker: encode(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: isTruncated && next ? encode(next.key) : undefined,
    NextUploadIdMarker: isTruncated && next ? (next.uploadId ?? "") : undefined,
    Prefix: query.has("prefix") ? encode(prefix) : undefined,
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxUploads: maxUploads,
    EncodingType: urlEncoded ? "url" : undefined,
    IsTruncated: isTruncated,
    Upload: uploads.map((upload) => ({
      Key: encode(upload.key),
      UploadId: upload.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: "STANDARD",
      Initiated: upload.initiated.toISOString(),
    })),
    CommonPrefixes: commonPrefixes.map((commonPrefix) => ({ Prefix: encode(commonPrefix) })),
  };
  return { body: xmlDocument("ListMultipartUploadsResult", body) };
}

/** The upload's parts in part-number order after `part-number-marker`, at most `max-parts` of them. */
export function listParts(s3: S3Store, bucketName: string, key: string, query: URLSearchParams): Reply {
  s3.count("ListParts");
  const upload = s3.bucketNamed(bucketName).upload(query.get("uploadId")!, key);
  const maxParts = pageSize(query, "max-parts");
  const marker = query.has("part-number-marker") ? integerArgument(query, "part-number-marker") : 0;
  const after = [...upload.parts.keys()].filter((partNumber) => partNumber > marker).sort((a, b) => a - b);
  const listed = after.slice(0, maxParts);
  const isTruncated = after.length > listed.length;
  const body: XmlElement = {
    Bucket: bucketName,
    Key: key,
    UploadId: upload.uploadId,
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: "STANDARD",
    PartNumberMarker: marker,
    // Only on a truncated page: the SDK's paginator asks again for as long as it gets one.
    NextPartNumberMarker: isTruncated ? listed[listed.length - 1] : undefined,
    MaxParts: maxParts,
    IsTruncated: isTruncated,
    Part: listed.map((partNumber) => {
      const part = upload.parts.get(partNumber)!;
      const element: XmlElement = {
        PartNumber: partNumber,
        LastModified: part.lastModified.toISOString(),
        ETag: part.etag,
        Size: part.size,
      };
      if (part.checksum) element[CHECKSUM_ELEMENTS[part.checksum.algorithm]] = part.checksum.value;
      return element;
    }),
  };
  return { body: xmlDocument("ListPartsResult", body) };
}

/** A page size parameter: absent means 1000, larger is cut to 1000 (as S3 does), anything not a count is refused. */
function pageSize(query: URLSearchParams, name: "max-uploads" | "max-parts"): number {
  return query.has(name) ? Math.min(integerArgument(query, name), MAX_PAGE) : MAX_PAGE;
}

/** S3's check and message for its integer query arguments. */
function integerArgument(query: URLSearchParams, name: string): number {
  const text = query.get(name)!;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 2147483647) {
    throw new S3Error("InvalidArgument", `Argument ${name} must be an integer between 0 and 2147483647`, {
      ArgumentName: name,
      ArgumentValue: text,
    });
  }
  return value;
}

/** Binary (UTF-16 code unit) order, as ListObjects' keys are sorted (objectStore.ts says why that is close enough). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
