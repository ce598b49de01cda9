/** Small HTTP helpers shared by the origin server and the API Gateway emulation. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Requests larger than this are refused with 413 before any service sees them (no AWS API here takes more). */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export class RequestTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/** Reads the whole body, refusing more than `limit` bytes (checked against Content-Length first, then as it streams). */
export function readBody(req: IncomingMessage, limit = MAX_REQUEST_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return reject(new RequestTooLargeError(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new RequestTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on("end", () => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on("error", reject);
    // A client that hangs up mid-body: without this the request would wait for an "end" that never comes.
    req.on("close", () => {
      if (!ended)
        reject(Object.assign(new Error("The client closed the connection before sending the whole body"), { code: "ECONNRESET" }));
    });
  });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

export function sendJson(res: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res
    .writeHead(statusCode, { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), ...headers })
    .end(text);
}

/**
 * The error shape of AWS's JSON protocols: `{"__type","message"}` plus `x-amzn-ErrorType` (the AWS CLI reads
 * the body, the JS SDK the header).
 */
export function sendAwsJsonError(res: ServerResponse, statusCode: number, code: string, message: string): void {
  sendJson(res, statusCode, { __type: code, message }, { "x-amzn-ErrorType": code, "x-amzn-RequestId": randomUUID() });
}
