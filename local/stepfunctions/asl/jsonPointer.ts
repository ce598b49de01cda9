/**
 * JSON Pointers (RFC 6901), the form AWS gives a definition problem's location in (`/States/A~1B/Next`). Written
 * here rather than taken from a library: it is two escapes each way, used by the validator and the diagnostics.
 */

/** `parent` extended by one key, escaped (`~` as `~0`, `/` as `~1`). */
export function jsonPointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** The keys a pointer names, unescaped (`""` names the whole document: no keys). */
export function pointerKeys(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}
