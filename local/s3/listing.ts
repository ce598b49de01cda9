/** What S3's listings share: the one local owner, `encoding-type`, and how a delimiter rolls keys up. */
import { S3Error } from "./errors";

/** One principal locally: it owns every bucket and initiates and owns every upload. */
export const OWNER = { ID: "local", DisplayName: "local" };

/** `encoding-type=url` (the only method S3 knows) as an encoder of keys and prefixes; any other is InvalidArgument. */
export function keyEncoder(query: URLSearchParams): { urlEncoded: boolean; encode: (text: string) => string } {
  const urlEncoded = query.get("encoding-type") === "url";
  if (query.has("encoding-type") && !urlEncoded)
    throw new S3Error("InvalidArgument", `Invalid Encoding Method specified in Request: ${query.get("encoding-type")}`);
  return { urlEncoded, encode: (text) => (urlEncoded ? encodeURIComponent(text).replace(/%2F/g, "/") : text) };
}

/** The common prefix `key` rolls up into under `prefix` and `delimiter`, or undefined when it is listed itself. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
  return at >= 0 ? key.slice(0, at + delimiter.length) : undefined;
}

/** Whether a marker is a common prefix a page returned (its NextMarker): the keys under it were summarized already. */
export function isReturnedPrefix(marker: string, prefix: string, delimiter: string): boolean {
  return delimiter !== "" && marker.startsWith(prefix) && commonPrefixOf(marker, prefix, delimiter) === marker;
}
