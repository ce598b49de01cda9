/**
 * An S3 request as the operations see it (bucket, key, query, headers, body), its reply, and what reading
 * one takes: the path-style URL, the upload body's framing and integrity checks, the object's headers.
 */
import type { IncomingMessage } from "node:http";
import { decodeAwsChunked, isAwsChunked } from "./awsChunked";
import { checksum, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, isChecksumAlgorithm, md5Hex } from "./checksums";
import { S3Error } from "./errors";
import type { S3EventName } from "./eventNotifications";
import type { StoredObject } from "./objectStore";
import { escapeXml } from "../common/xml";
import { s3Target } from "./target";

export interface Request {
  method: string;
  bucketName?: string;
  key?: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  requestId: string;
  sourceIpAddress: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string | number | undefined>;
  body?: Buffer | string;
  /** Settles once the request's writes are handed to the store (content files fsynced); rejects if one failed. */
  kept?: Promise<unknown>;
  /** Notifications to send once the write is kept, before the answer (S3 notifies after the write is durable). */
  events?: { eventName: S3EventName; bucketName: string; object: { key: string; size: number; etag: string } }[];
}

export function parseRequest(req: IncomingMessage, body: Buffer, requestId: string): Request {
  const url = new URL(req.url ?? "/", "http://local");
  const target = s3Target(req.url ?? "/");
  if (!target) throw new S3Error("InvalidArgument", `The request path is not valid percent-encoding: ${(req.url ?? "/").split("?")[0]}`);
  const { bucket: bucketName, key } = target;
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

export function errorReply(error: unknown, request: Request | undefined, requestId: string): Reply {
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
export function readUploadBody(request: Request): { payload: Buffer; checksum?: { algorithm: ChecksumAlgorithm; value: string } } {
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

export function objectTemplate(
  headers: IncomingMessage["headers"],
): Omit<StoredObject, "key" | "size" | "body" | "file" | "etag" | "lastModified" | "checksum"> {
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

export function checksumHeader(given: StoredObject["checksum"]): Record<string, string> {
  return given ? { [`x-amz-checksum-${given.algorithm}`]: given.value } : {};
}
