/**
 * Decoding of `Content-Encoding: aws-chunked` request bodies, which the AWS SDK v3 (default
 * `requestChecksumCalculation: "WHEN_SUPPORTED"`) and the AWS CLI send for streamed uploads:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n ... 0[;chunk-signature=<sig>]\r\n[<trailer>:<value>\r\n]*\r\n
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * Storing such a body as-is is the silent corruption s3rver suffers from (the framing ends up inside the
 * object), so every upload goes through here when the request says it is chunked. Chunk signatures are not
 * verified: the local runtime accepts any credentials.
 */
import { S3Error } from "./errors";

export interface DecodedChunkedBody {
  payload: Buffer;
  /** Trailing headers, lower-cased names (e.g. `x-amz-checksum-crc32`). */
  trailers: Record<string, string>;
}

/** Whether the request body is aws-chunked framed (by Content-Encoding or by the streaming x-amz-content-sha256). */
export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const encoding = String(headers["content-encoding"] ?? "").toLowerCase();
  const contentSha256 = String(headers["x-amz-content-sha256"] ?? "");
  return encoding.split(",").some((part) => part.trim() === "aws-chunked") || contentSha256.startsWith("STREAMING-");
}

export function decodeAwsChunked(body: Buffer): DecodedChunkedBody {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd < 0) throw malformed("a chunk header is not terminated by CRLF");
    const header = body.subarray(offset, lineEnd).toString("latin1");
    const sizeText = header.split(";")[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw malformed(`chunk size "${sizeText.slice(0, 20)}" is not hexadecimal`);
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size + 2 > body.length)
      throw new S3Error("IncompleteBody", "You did not provide the number of bytes specified by the chunk size.");
    parts.push(body.subarray(offset, offset + size));
    offset += size;
    if (body[offset] !== 0x0d || body[offset + 1] !== 0x0a) throw malformed("a chunk's data is not followed by CRLF");
    offset += 2;
  }
  const trailers: Record<string, string> = {};
  while (offset < body.length) {
    const lineEnd = body.indexOf("\r\n", offset);
    const line = body.subarray(offset, lineEnd < 0 ? body.length : lineEnd).toString("latin1");
    offset = lineEnd < 0 ? body.length : lineEnd + 2;
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed(`trailer line "${line.slice(0, 40)}" has no name`);
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}

function malformed(detail: string): S3Error {
  return new S3Error("InvalidRequest", `Malformed aws-chunked request body: ${detail}.`);
}
