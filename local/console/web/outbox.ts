/**
 * The local SNS outbox: every message the local SNS delivered to an endpoint it cannot reach from here
 * (e-mail, SMS, ...), as `GET /_local/sns/messages` lists them: `{topicArn, protocol, endpoint, subject,
 * message, timestamp}`. Links in a message (an approval e-mail's "approve" and "reject") are clickable.
 */
import { h, replaceChildren } from "./dom";

export interface OutboxMessage {
  topicArn: string;
  protocol: string;
  endpoint: string;
  subject?: string;
  message: string;
  timestamp: string;
}

/** The outbox version (the server's ETag) each container shows: a live reload that finds no new mail costs a 304. */
const shown = new WeakMap<HTMLElement, string>();

export async function renderOutbox(container: HTMLElement): Promise<void> {
  const known = shown.get(container);
  shown.delete(container);
  let response: Response;
  try {
    response = await fetch("/_local/sns/messages", {
      cache: "no-store",
      headers: { Accept: "application/json", ...(known ? { "If-None-Match": known } : {}) },
    });
  } catch {
    return replaceChildren(container, h("p", { class: "muted" }, "The local runtime did not answer."));
  }
  if (response.status === 304 && known) return void shown.set(container, known);
  if (response.status === 404) {
    return replaceChildren(container, h("p", { class: "muted" }, "This runtime has no local SNS: no outbox to show."));
  }
  const messages = ((await response.json()) as OutboxMessage[]).slice().reverse();
  const version = response.headers.get("ETag");
  if (version) shown.set(container, version);
  if (messages.length === 0) return replaceChildren(container, h("p", { class: "muted" }, "No messages sent yet."));
  replaceChildren(
    container,
    h(
      "ul",
      { class: "outbox" },
      ...messages.map((message) =>
        h(
          "li",
          { class: "outbox-message" },
          h(
            "div",
            { class: "outbox-head" },
            h("strong", {}, message.subject || "(no subject)"),
            h(
              "span",
              { class: "muted" },
              ` to ${message.protocol}:${message.endpoint} · ${new Date(message.timestamp).toLocaleString(undefined, { hour12: false })}`,
            ),
          ),
          h("div", { class: "muted small" }, message.topicArn),
          h("pre", { class: "outbox-body" }, ...linkify(message.message)),
        ),
      ),
    ),
  );
}

/** Text with its http(s) links as anchors (only links of this origin's scheme; never script URLs). */
function linkify(text: string): Array<string | HTMLElement> {
  const parts: Array<string | HTMLElement> = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
    parts.push(text.slice(last, match.index));
    parts.push(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
    last = match.index! + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}
