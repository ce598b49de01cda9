/** A JSON text area that says at once, under itself, whether its text parses (and where it does not). */
import { h } from "./dom";

export interface JsonEditor {
  element: HTMLElement;
  textarea: HTMLTextAreaElement;
  /** The parsed value, or undefined with the message shown when the text is not JSON. */
  value(): { ok: true; text: string } | { ok: false; message: string };
}

export function jsonEditor(initial: string, options: { rows?: number; label: string; name: string }): JsonEditor {
  const message = h("div", { class: "json-status", "aria-live": "polite" });
  const textarea = h("textarea", {
    class: "json-editor",
    rows: options.rows ?? 6,
    spellcheck: "false",
    "aria-label": options.label,
    name: options.name,
  });
  textarea.value = initial;
  const check = () => {
    const result = parse(textarea.value);
    message.textContent = result.ok ? "Valid JSON" : `Invalid JSON: ${result.message}`;
    message.className = `json-status ${result.ok ? "valid" : "invalid"}`;
    textarea.classList.toggle("invalid", !result.ok);
    return result;
  };
  textarea.addEventListener("input", check);
  check();
  return { element: h("div", { class: "json-field" }, textarea, message), textarea, value: check };
}

function parse(text: string): { ok: true; text: string } | { ok: false; message: string } {
  try {
    JSON.parse(text);
    return { ok: true, text };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
