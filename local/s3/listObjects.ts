/** ListObjectsV2 and ListObjects (v1): prefixes, delimiters, pages and their continuation tokens. */
import { S3Error } from "./errors";
import { commonPrefixOf, isReturnedPrefix, keyEncoder } from "./listing";
import type { StoredObject } from "./objectStore";
import type { Reply } from "./request";
import type { S3Store } from "./store";
import { type XmlElement, xmlDocument } from "./xml";

const MAX_KEYS_DEFAULT = 1000;

export function listObjects(s3: S3Store, bucketName: string, query: URLSearchParams, version: 1 | 2): Reply {
  s3.count(version === 2 ? "ListObjectsV2" : "ListObjects");
  const bucket = s3.bucketNamed(bucketName);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeysText = query.get("max-keys");
  const maxKeys = maxKeysText === null ? MAX_KEYS_DEFAULT : Number(maxKeysText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0)
    throw new S3Error("InvalidArgument", `Provided max-keys not an integer or within integer range: ${maxKeysText}`);
  const { urlEncoded, encode } = keyEncoder(query);
  const continuationToken = query.get("continuation-token");
  let after: string;
  /** Set when the previous page ended with a common prefix: every key under it was already summarized. */
  let skipPrefix: string | undefined;
  if (version === 2 && continuationToken !== null) ({ after, skipPrefix } = decodeContinuationToken(continuationToken));
  else after = (version === 2 ? query.get("start-after") : query.get("marker")) ?? "";
  // A v1 marker that is a returned common prefix (NextMarker) skips that prefix's keys, as S3 does.
  if (version === 1 && isReturnedPrefix(after, prefix, delimiter)) skipPrefix = after;

  const contents: StoredObject[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let lastReturned = "";
  let lastWasPrefix = false;
  for (const key of bucket.keysFrom(prefix, after)) {
    // A resumed listing must not repeat a common prefix it already returned.
    if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
    const rolledUp = commonPrefixOf(key, prefix, delimiter);
    if (rolledUp !== undefined && commonPrefixes[commonPrefixes.length - 1] === rolledUp) continue;
    const entry = rolledUp ?? key;
    const isPrefix = rolledUp !== undefined;
    if (contents.length + commonPrefixes.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    if (isPrefix) commonPrefixes.push(entry);
    else contents.push(bucket.objects.get(key)!);
    lastReturned = entry;
    lastWasPrefix = isPrefix;
  }

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
    Size: object.size,
    StorageClass: "STANDARD",
  }));
  body.CommonPrefixes = commonPrefixes.map((commonPrefix) => ({ Prefix: encode(commonPrefix) }));
  return { body: xmlDocument("ListBucketResult", body) };
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
