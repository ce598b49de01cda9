/**
 * Bucket and key of an S3 path-style request, from the raw request target. Not from `URL.pathname`: WHATWG URL
 * parsing resolves "." and ".." segments, and S3 keys are literal ("docs/../readme.txt" is its own key,
 * "../../etc/passwd" is a key in this bucket). S3 and IAM both read a request through this, so the object IAM
 * authorizes is the object S3 acts on.
 */
export interface S3Target {
  /** The path without its leading "/", still percent-encoded (for messages). */
  path: string;
  bucket: string | undefined;
  key: string | undefined;
}

/** Undefined when the path is not valid percent-encoding. */
export function s3Target(rawTarget: string): S3Target | undefined {
  const queryAt = rawTarget.indexOf("?");
  const path = (queryAt < 0 ? rawTarget : rawTarget.slice(0, queryAt)).replace(/^\//, "");
  const slash = path.indexOf("/");
  const rawBucket = slash < 0 ? path : path.slice(0, slash);
  const rawKey = slash < 0 ? undefined : path.slice(slash + 1);
  try {
    return {
      path,
      bucket: rawBucket ? decodeURIComponent(rawBucket) : undefined,
      key: rawKey === undefined ? undefined : decodeURIComponent(rawKey),
    };
  } catch {
    return undefined;
  }
}

/** The object an `x-amz-copy-source` header names, or why it names none. */
export type CopySource = { bucket: string; key: string } | { invalid: "encoding" | "key" };

/**
 * `bucket/key` or `/bucket/key`, percent-encoded, optionally with `?versionId=...`. Only that suffix is cut: a
 * literal "?" in the key stays in it (the SDK sends CopySource as the caller wrote it). S3 copies and IAM
 * authorizes the object this returns.
 */
export function copySourceTarget(header: string): CopySource {
  const [sourcePath] = header.split("?versionId=");
  let decoded: string;
  try {
    decoded = decodeURIComponent(sourcePath.replace(/^\//, ""));
  } catch {
    return { invalid: "encoding" };
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0) return { invalid: "key" };
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}
