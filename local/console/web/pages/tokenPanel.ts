/**
 * A task waiting on its token: the token (copyable), how long it has waited, its deadlines, and the three
 * answers AWS offers. Each button goes through the console's server to the same code as the API, and shows
 * the API's answer, errors included (InvalidOutput, TaskTimedOut, InvalidToken).
 */
import { postJson } from "../api";
import { formatDuration, h } from "../dom";
import { jsonEditor } from "../jsonEditor";

export interface WaitingTask {
  token: string;
  stateName?: string;
  openedAt: number;
  heartbeatSeconds?: number;
  heartbeatDeadline?: number;
}

export interface TokenPanel {
  element: HTMLElement;
  /** Refreshes the clocks; `serverOffset` is server time minus browser time. */
  tick(serverOffset: number): void;
  /** Takes the task's latest state (a heartbeat moves its deadline). */
  update(latest: WaitingTask): void;
}

export function tokenPanel(task: WaitingTask, timeoutSeconds: number | undefined, onAnswered: () => void): TokenPanel {
  const waited = h("span", { class: "waited" });
  const heartbeatLeft = h("span", {});
  const timeoutLeft = h("span", {});
  const tokenField = h("input", { class: "text token", readonly: true, "aria-label": "Task token", value: task.token });
  const copied = h("span", { class: "muted small" });
  const copy = async () => {
    tokenField.select();
    try {
      await navigator.clipboard.writeText(task.token);
      copied.textContent = "Copied";
    } catch {
      // Clipboard access needs a secure context or permission; the token stays selected for Ctrl-C.
      copied.textContent = "Selected: press Ctrl-C";
    }
  };

  const result = h("div", { class: "action-result", "aria-live": "polite", "data-role": "token-result" });
  const show = (label: string, answer: Awaited<ReturnType<typeof postJson>>) => {
    result.className = `action-result ${answer.ok ? "ok" : "error"}`;
    result.textContent = answer.ok ? `${label}: accepted` : `${label} refused — ${answer.error.__type ?? "Error"}: ${answer.error.message}`;
    onAnswered();
  };
  const output = jsonEditor("{}", { rows: 4, label: "Task output", name: "output" });
  const errorField = h("input", { class: "text", name: "error", placeholder: "e.g. ProcessingFailed", "aria-label": "Error" });
  const causeField = h("input", { class: "text", name: "cause", placeholder: "why it failed", "aria-label": "Cause" });

  const element = h(
    "section",
    { class: "card token-card", "data-token-state": task.stateName ?? "" },
    h("h2", {}, `Waiting for a callback${task.stateName ? ` in ${task.stateName}` : ""}`),
    h(
      "div",
      { class: "card-body" },
      h(
        "div",
        { class: "token-row" },
        tokenField,
        h("button", { class: "button secondary", onclick: () => void copy() }, "Copy token"),
        copied,
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Waiting for"),
        h("dd", {}, waited),
        h("dt", {}, "Timeout"),
        h("dd", {}, timeoutLeft),
        h("dt", {}, "Heartbeat"),
        h("dd", {}, heartbeatLeft),
      ),
      h(
        "div",
        { class: "token-actions" },
        h(
          "div",
          { class: "token-action" },
          h("h3", {}, "Output"),
          output.element,
          h(
            "button",
            {
              class: "button primary",
              "data-action": "success",
              // Sent even when the editor flags the text: the API's own answer (InvalidOutput) is the one that counts.
              onclick: async () =>
                show(
                  "Send task success",
                  await postJson("/console/api/task/success", { taskToken: task.token, output: output.textarea.value }),
                ),
            },
            "Send task success",
          ),
        ),
        h(
          "div",
          { class: "token-action" },
          h("h3", {}, "Failure"),
          h("label", { class: "field" }, h("span", {}, "Error"), errorField),
          h("label", { class: "field" }, h("span", {}, "Cause"), causeField),
          h(
            "button",
            {
              class: "button danger",
              "data-action": "failure",
              onclick: async () =>
                show(
                  "Send task failure",
                  await postJson("/console/api/task/failure", {
                    taskToken: task.token,
                    error: errorField.value || undefined,
                    cause: causeField.value || undefined,
                  }),
                ),
            },
            "Send task failure",
          ),
        ),
        h(
          "div",
          { class: "token-action" },
          h("h3", {}, "Heartbeat"),
          h("p", { class: "muted small" }, "Resets the heartbeat clock; does not extend the timeout and adds no history event."),
          h(
            "button",
            {
              class: "button secondary",
              "data-action": "heartbeat",
              onclick: async () => show("Send heartbeat", await postJson("/console/api/task/heartbeat", { taskToken: task.token })),
            },
            "Send heartbeat",
          ),
        ),
      ),
      result,
    ),
  );

  const tick = (serverOffset: number) => {
    const now = Date.now() + serverOffset;
    waited.textContent = formatDuration(now - task.openedAt);
    timeoutLeft.textContent =
      timeoutSeconds === undefined
        ? "none"
        : `${timeoutSeconds} s, ends in ${formatDuration(Math.max(0, task.openedAt + timeoutSeconds * 1000 - now))}`;
    heartbeatLeft.textContent =
      task.heartbeatSeconds === undefined
        ? "none"
        : task.heartbeatDeadline === undefined
          ? `${task.heartbeatSeconds} s (clock starts when the function returns)`
          : `${task.heartbeatSeconds} s, next due in ${formatDuration(Math.max(0, task.heartbeatDeadline - now))}`;
  };
  return { element, tick, update: (latest) => (task = latest) };
}
