/**
 * `/console/state-machines/<arn>`: the definition as a diagram and as JSON, "Start execution" with a JSON
 * editor, and the executions list (newest first, paged, live: a new execution appears without a reload).
 */
import { buildDiagram, type DefinitionBlock } from "../../model/diagram";
import { getJson, liveLoad, postJson } from "../api";
import { renderDiagram } from "../diagramView";
import { consoleLink, formatDuration, formatTime, h, prettyJson, replaceChildren, statusBadge } from "../dom";
import { jsonEditor } from "../jsonEditor";

interface MachineResponse {
  stateMachine: { stateMachineArn: string; name: string; type: string; definition: string; roleArn: string; creationDate: number };
  counts: Record<string, number>;
  defaultInput: string;
}

interface ExecutionSummary {
  executionArn: string;
  name: string;
  status: string;
  startDate: number;
  stopDate?: number;
}

export function stateMachinePage(root: HTMLElement, stateMachineArn: string): () => void {
  const executionsBody = h("div", { class: "card-body" });
  const counts = h("div", { class: "counts" });
  let stop = () => {};
  // Paging: the tokens of the pages before this one (the first page has none).
  const previousTokens: Array<string | undefined> = [];
  let currentToken: string | undefined;

  const loadExecutions = async () => {
    const page = await getJson<{ executions: ExecutionSummary[]; nextToken?: string; counts: Record<string, number>; changeCount: number }>(
      "/console/api/executions",
      {
        stateMachineArn,
        nextToken: currentToken,
      },
    );
    replaceChildren(counts, ...countBadges(page.counts));
    const paged = page.nextToken !== undefined || previousTokens.length > 0;
    replaceChildren(executionsBody, executionsTable(page.executions), paged ? pager(page.nextToken) : null);
    return page.changeCount;
  };
  const pager = (nextToken: string | undefined) =>
    h(
      "div",
      { class: "pager" },
      h(
        "button",
        {
          class: "button secondary",
          disabled: previousTokens.length === 0,
          onclick: () => {
            currentToken = previousTokens.pop();
            void loadExecutions();
          },
        },
        "← Newer",
      ),
      h("span", { class: "muted" }, `Page ${previousTokens.length + 1}`),
      h(
        "button",
        {
          class: "button secondary",
          disabled: !nextToken,
          onclick: () => {
            previousTokens.push(currentToken);
            currentToken = nextToken;
            void loadExecutions();
          },
        },
        "Older →",
      ),
    );

  void (async () => {
    let machine: MachineResponse;
    try {
      machine = await getJson<MachineResponse>("/console/api/state-machine", { arn: stateMachineArn });
    } catch (error) {
      return replaceChildren(
        root,
        h("section", { class: "card error-card" }, h("h2", {}, "State machine not found"), h("p", {}, (error as Error).message)),
      );
    }
    const { stateMachine } = machine;
    const definition = JSON.parse(stateMachine.definition) as DefinitionBlock;
    replaceChildren(counts, ...countBadges(machine.counts));
    replaceChildren(
      root,
      h(
        "header",
        { class: "page-head" },
        h("div", {}, h("h1", {}, stateMachine.name), h("div", { class: "muted small arn" }, stateMachine.stateMachineArn)),
        h("div", { class: "head-meta" }, h("span", { class: "badge" }, stateMachine.type), counts),
      ),
      h(
        "div",
        { class: "columns" },
        h(
          "section",
          { class: "card diagram-card" },
          h("h2", {}, "Definition"),
          h("div", { class: "diagram-scroll" }, renderDiagram(buildDiagram(definition))),
        ),
        h(
          "section",
          { class: "card json-card" },
          h("h2", {}, "Definition JSON"),
          h("pre", { class: "json" }, prettyJson(stateMachine.definition)),
        ),
      ),
      startCard(stateMachineArn, machine.defaultInput),
      h("section", { class: "card" }, h("h2", {}, "Executions"), executionsBody),
    );
    // One request per change notice: the page shown (newest first, so only the first page changes) and the counts.
    stop = liveLoad({ stateMachineArn }, loadExecutions);
  })();
  return () => stop();
}

function countBadges(counts: Record<string, number>): HTMLElement[] {
  return Object.entries(counts).map(([status, count]) => h("span", { class: "count" }, statusBadge(status), ` ${count}`));
}

function startCard(stateMachineArn: string, defaultInput: string): HTMLElement {
  const editor = jsonEditor(defaultInput, { rows: 6, label: "Execution input", name: "input" });
  const nameField = h("input", { class: "text", name: "name", placeholder: "generated if empty", "aria-label": "Execution name" });
  const result = h("div", { class: "action-result", "aria-live": "polite" });
  const submit = async () => {
    const input = editor.value();
    if (!input.ok) {
      result.className = "action-result error";
      result.textContent = `Not started: the input is not valid JSON (${input.message})`;
      return;
    }
    const started = await postJson<{ executionArn: string }>("/console/api/executions", {
      stateMachineArn,
      input: input.text,
      name: nameField.value.trim() || undefined,
    });
    if (started.ok) location.assign(consoleLink("executions", started.value.executionArn));
    else {
      result.className = "action-result error";
      result.textContent = `${started.error.__type ?? "Error"}: ${started.error.message}`;
    }
  };
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Start execution"),
    h(
      "div",
      { class: "card-body start-form" },
      h("label", { class: "field" }, h("span", {}, "Name"), nameField),
      h("label", { class: "field" }, h("span", {}, "Input"), editor.element),
      h(
        "div",
        { class: "actions" },
        h("button", { class: "button primary", id: "start-execution", onclick: () => void submit() }, "Start execution"),
        result,
      ),
    ),
  );
}

function executionsTable(executions: ExecutionSummary[]): HTMLElement {
  if (executions.length === 0) return h("p", { class: "muted" }, "No executions yet.");
  return h(
    "table",
    { class: "table", id: "executions" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, "Name"),
        h("th", {}, "Status"),
        h("th", {}, "Started"),
        h("th", {}, "Ended"),
        h("th", { class: "num" }, "Duration"),
      ),
    ),
    h(
      "tbody",
      {},
      ...executions.map((execution) =>
        h(
          "tr",
          { "data-arn": execution.executionArn, class: `row-${execution.status.toLowerCase()}` },
          h("td", {}, h("a", { href: consoleLink("executions", execution.executionArn) }, execution.name)),
          h("td", {}, statusBadge(execution.status)),
          h("td", {}, formatTime(execution.startDate)),
          h("td", {}, formatTime(execution.stopDate)),
          h(
            "td",
            { class: "num" },
            execution.stopDate === undefined ? "…" : formatDuration((execution.stopDate - execution.startDate) * 1000),
          ),
        ),
      ),
    ),
  );
}
