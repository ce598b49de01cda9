/**
 * S3's request identifiers: `x-amz-request-id` (16 uppercase hex digits) and `x-amz-id-2` (an opaque base64
 * token), which S3 also copies into the event records the request causes. They must be unique, not secret: a
 * random prefix per runtime and a counter, instead of reading the system's random source two or three times per
 * request on the event loop (measured under the pipeline's load).
 */
import { randomBytes } from "node:crypto";

const requestPrefix = randomBytes(4).toString("hex").toUpperCase();
const hostPrefix = randomBytes(16);
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) % 0x1_0000_0000;
  return requestPrefix + counter.toString(16).toUpperCase().padStart(8, "0");
}

/** The request's `x-amz-id-2`: 24 bytes, base64, as long as S3's own. */
export function hostIdOf(requestId: string): string {
  return Buffer.concat([hostPrefix, Buffer.from(requestId, "hex")]).toString("base64");
}
