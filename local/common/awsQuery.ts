/**
 * AWS's query protocol, as SNS (every client) and SQS (the AWS CLI 2.9) speak it: a form-encoded `Action=...`
 * request whose lists and maps are flattened into numbered keys, answered with XML.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 * Written here rather than taken from a package: the request side is URLSearchParams plus a key split, and
 * the response side a few element writers; the XML libraries on npm would add parsing we never need.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { MessagingError } from "./messaging";
import { escapeXml } from "./xml";

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };

/** Whether a request body is the query protocol's form (`Action=...`). */
export function isQueryRequest(contentType: string | undefined, body: Buffer): boolean {
  return /application\/x-www-form-urlencoded/i.test(contentType ?? "") || /^Action=/.test(body.subarray(0, 7).toString("latin1"));
}

/**
 * `Attribute.1.Name=a&Attribute.1.Value=b` → `{ Attribute: [{ Name: "a", Value: "b" }] }`: dotted keys become
 * nested objects, 1-based numeric segments list positions.
 */
export function parseQueryForm(body: string, extra?: URLSearchParams): Record<string, QueryValue> {
  const root: Record<string, any> = {};
  const params = new URLSearchParams(body);
  if (extra) for (const [key, value] of extra) if (!params.has(key)) params.append(key, value);
  for (const [key, value] of params) {
    const path = key.split(".");
    let node: any = root;
    for (let i = 0; i < path.length; i++) {
      const segment = /^\d+$/.test(path[i]) ? Number(path[i]) - 1 : path[i];
      if (i === path.length - 1) node[segment] = value;
      else node = node[segment] ??= /^\d+$/.test(path[i + 1]) ? [] : {};
    }
  }
  return root;
}

/** A list as the query form gives it (sparse positions dropped). */
export function queryList(value: QueryValue | undefined): QueryValue[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.filter((item) => item !== undefined);
  return [value];
}

/** An element tree: `{ Tag: "text" }`, `{ Tag: { Child: ... } }`, `{ Tag: [a, b] }` (repeated `<Tag>`); undefined is left out. */
export type XmlNode = string | number | boolean | undefined | XmlTree | XmlNode[];
export interface XmlTree {
  [tag: string]: XmlNode;
}

export function toXml(tree: XmlTree): string {
  let out = "";
  for (const [tag, value] of Object.entries(tree)) out += element(tag, value);
  return out;
}

function element(tag: string, value: XmlNode): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => element(tag, item)).join("");
  if (typeof value === "object") return `<${tag}>${toXml(value)}</${tag}>`;
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

/** `<ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata><RequestId/></ResponseMetadata></ActionResponse>` */
export function sendQueryResult(res: ServerResponse, namespace: string, action: string, result: XmlTree | undefined): void {
  const requestId = randomUUID();
  const resultXml = result === undefined ? "" : `<${action}Result>${toXml(result)}</${action}Result>`;
  const text =
    `<?xml version="1.0"?><${action}Response xmlns="${namespace}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  res
    .writeHead(200, { "Content-Type": "text/xml", "Content-Length": String(Buffer.byteLength(text)), "x-amzn-RequestId": requestId })
    .end(text);
}

export function sendQueryError(res: ServerResponse, namespace: string, error: MessagingError): void {
  const requestId = randomUUID();
  const text =
    `<?xml version="1.0"?><ErrorResponse xmlns="${namespace}"><Error><Type>${error.fault}</Type>` +
    `<Code>${escapeXml(error.queryCode)}</Code><Message>${escapeXml(error.message)}</Message><Detail/></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  res
    .writeHead(error.statusCode, {
      "Content-Type": "text/xml",
      "Content-Length": String(Buffer.byteLength(text)),
      "x-amzn-RequestId": requestId,
    })
    .end(text);
}
