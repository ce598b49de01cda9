/**
 * The little XML S3 speaks. Responses are built from plain objects; the two request documents the local S3
 * reads (CompleteMultipartUpload, Delete) have a fixed, flat shape, so a tag extractor is enough and no
 * XML parser package is pulled into the runtime.
 */
export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

import { escapeXml } from "../common/xml";

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, decimal?: string, hex?: string) => {
    if (decimal) return String.fromCodePoint(Number(decimal));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[name];
  });
}

export type XmlValue = string | number | boolean | undefined | XmlElement | XmlValue[];
export interface XmlElement {
  [tag: string]: XmlValue;
}

/** `{ A: 1, B: [{ C: "x" }, { C: "y" }] }` → `<A>1</A><B><C>x</C></B><B><C>y</C></B>`; undefined members are left out. */
export function toXml(element: XmlElement): string {
  let out = "";
  for (const [tag, value] of Object.entries(element)) out += renderMember(tag, value);
  return out;
}

function renderMember(tag: string, value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => renderMember(tag, item)).join("");
  if (typeof value === "object") return `<${tag}>${toXml(value)}</${tag}>`;
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

export function xmlDocument(rootTag: string, body: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${rootTag} xmlns="${S3_NAMESPACE}">${toXml(body)}</${rootTag}>`;
}

/** Inner texts of every `<tag>...</tag>` in `xml`, unescaped. */
export function elementTexts(xml: string, tag: string): string[] {
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g");
  return [...xml.matchAll(pattern)].map((match) => unescapeXml(match[1]));
}
