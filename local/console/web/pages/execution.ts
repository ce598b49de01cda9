/**
 * `/console/executions/<arn>`: status, times, input and output (or error and cause); the diagram coloured by
 * each state's fate; a state's input, output or exception and its events on click; tasks waiting on a token
 * with their answers; the event history. Live: re-read on every change the server reports.
 */
import { buildDiagram, type DefinitionBlock, type Diagram } from "../../model/diagram";
import { detailsOf, stateRecords, type StateRecord, type WireEvent } from "../../model/stateFates";
import { getJson, liveLoad } from "../api";
import { renderDiagram } from "../diagramView";
import { consoleLink, formatDuration, formatTime, h, prettyJson, replaceChildren, statusBadge } from "../dom";
import { tokenPanel, type TokenPanel, type WaitingTask } from "./tokenPanel";

interface ExecutionResponse {
  execution: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    startDate: number;
    stopDate?: number;
    input: string;
    output?: string;
    error?: string;
    cause?: string;
  };
  stateMachine: { stateMachineArn: string; name: string; definition: string };
  events: WireEvent[];
  waitingTasks: WaitingTask[];
  /** Calls local IAM refused (or, in warn mode, would have) while this execution ran. */
  deniedCalls: Array<{ time: number; principal: string; action: string; resource: string; enforced: boolean; message: string }>;
  /** What the answer was read at (api.ts liveLoad). */
  changeCount: number;
  now: number;
}

const FATE_LABELS: Record<string, string> = {
  succeeded: "Succeeded",
  failed: "Failed",
  caught: "Caught",
  running: "Running",
  waiting: "Waiting",
  notReached: "Not reached",
};

export function executionPage(root: HTMLElement, executionArn: string): () => void {
  let diagram: Diagram | undefined;
  let selected: string | undefined;
  let latest: ExecutionResponse | undefined;
  let serverOffset = 0;
  const panels = new Map<string, TokenPanel>();
  const header = h("header", { class: "page-head" });
  const tokens = h("div", { class: "tokens" });
  const diagramHolder = h("div", { class: "diagram-scroll" });
  const detail = h("div", { class: "card-body state-detail" });
  const summary = h("div", { class: "columns" });
  const history = h("div", { class: "card-body" });
  const denied = h("div", { id: "denied-calls" });

  const render = () => {
    if (!latest) return;
    const { execution, events } = latest;
    const records = stateRecords(events, execution.status);
    selected ??= pickInteresting(records);
    replaceChildren(
      header,
      h(
        "div",
        {},
        h(
          "div",
          { class: "crumbs" },
          h("a", { href: consoleLink("state-machines", execution.stateMachineArn) }, latest.stateMachine.name),
          " / execution",
        ),
        h("h1", {}, execution.name, " ", statusBadge(execution.status)),
        h("div", { class: "muted small arn" }, execution.executionArn),
      ),
      h(
        "dl",
        { class: "facts head-facts" },
        h("dt", {}, "Started"),
        h("dd", {}, formatTime(execution.startDate)),
        h("dt", {}, "Ended"),
        h("dd", {}, formatTime(execution.stopDate)),
        h("dt", {}, "Duration"),
        h("dd", {}, formatDuration(((execution.stopDate ?? (Date.now() + serverOffset) / 1000) - execution.startDate) * 1000)),
      ),
    );
    renderTokens(records);
    const fates = new Map([...records].map(([name, record]) => [name, record.fate]));
    replaceChildren(
      diagramHolder,
      renderDiagram(diagram!, {
        fates,
        selected,
        onSelect: (name) => {
          selected = name;
          render();
        },
      }),
      legend(),
    );
    replaceChildren(detail, ...stateDetail(selected, records));
    replaceChildren(
      summary,
      h("section", { class: "card" }, h("h2", {}, "Input"), h("pre", { class: "json" }, prettyJson(execution.input))),
      execution.status === "FAILED" || execution.status === "TIMED_OUT" || execution.status === "ABORTED"
        ? h(
            "section",
            { class: "card error-card", id: "execution-error" },
            h("h2", {}, "Error"),
            h(
              "div",
              { class: "card-body" },
              h("div", { class: "error-name" }, execution.error ?? "(no error)"),
              h("pre", { class: "json cause" }, prettyJson(execution.cause)),
            ),
          )
        : h(
            "section",
            { class: "card" },
            h("h2", {}, "Output"),
            h("pre", { class: "json" }, execution.output === undefined ? "(still running)" : prettyJson(execution.output)),
          ),
    );
    replaceChildren(history, historyTable(events, records, execution.startDate));
    replaceChildren(denied, ...deniedCallsCard(latest.deniedCalls));
  };

  const renderTokens = (records: Map<string, StateRecord>) => {
    const current = new Set(latest!.waitingTasks.map((task) => task.token));
    for (const [token, panel] of panels) {
      if (!current.has(token)) {
        panel.element.remove();
        panels.delete(token);
      }
    }
    for (const task of latest!.waitingTasks) {
      let panel = panels.get(task.token);
      if (panel) panel.update(task);
      else {
        const scheduled = [...(records.get(task.stateName ?? "")?.events ?? [])].reverse().find((event) => event.type === "TaskScheduled");
        panel = tokenPanel(task, scheduled ? detailsOf(scheduled)?.timeoutInSeconds : undefined, () => void refresh());
        panels.set(task.token, panel);
        tokens.append(panel.element);
      }
      panel.tick(serverOffset);
    }
  };

  const refresh = async () => {
    let response: ExecutionResponse;
    try {
      response = await getJson<ExecutionResponse>("/console/api/execution", { arn: executionArn });
    } catch (error) {
      replaceChildren(
        root,
        h("section", { class: "card error-card" }, h("h2", {}, "Execution not found"), h("p", {}, (error as Error).message)),
      );
      return undefined;
    }
    serverOffset = response.now - Date.now();
    diagram ??= buildDiagram(JSON.parse(response.stateMachine.definition) as DefinitionBlock);
    latest = response;
    render();
    return response.changeCount;
  };

  replaceChildren(
    root,
    header,
    tokens,
    h(
      "div",
      { class: "columns execution-columns" },
      h("section", { class: "card diagram-card" }, h("h2", {}, "Graph"), diagramHolder),
      h("section", { class: "card detail-card" }, h("h2", {}, "State"), detail),
    ),
    summary,
    denied,
    h("section", { class: "card" }, h("h2", {}, "Event history"), history),
  );
  const stopLive = liveLoad({ executionArn }, refresh);
  const clock = setInterval(() => {
    for (const panel of panels.values()) panel.tick(serverOffset);
  }, 1000);
  return () => {
    stopLive();
    clearInterval(clock);
  };
}

/** The state worth showing first: the one waiting, else the one that failed, else the latest entered. */
function pickInteresting(records: Map<string, StateRecord>): string | undefined {
  const all = [...records.values()];
  return (
    all.find((record) => record.fate === "waiting")?.name ??
    all.find((record) => record.fate === "failed")?.name ??
    all.find((record) => record.fate === "running")?.name ??
    all.at(-1)?.name
  );
}

function stateDetail(name: string | undefined, records: Map<string, StateRecord>): Node[] {
  if (!name) return [h("p", { class: "muted" }, "Click a state in the graph.")];
  const record = records.get(name);
  const title = h(
    "h3",
    { class: "state-title" },
    name,
    " ",
    h("span", { class: `fate-badge fate-${record?.fate ?? "notReached"}` }, FATE_LABELS[record?.fate ?? "notReached"]),
  );
  if (!record) return [title, h("p", { class: "muted" }, "This execution has not reached this state.")];
  const blocks: Node[] = [title, h("h4", {}, "Input"), h("pre", { class: "json", "data-field": "input" }, prettyJson(record.input) || "—")];
  if (record.error !== undefined || record.cause !== undefined) {
    blocks.push(
      h("h4", {}, "Exception"),
      h(
        "div",
        { class: "exception", "data-field": "exception" },
        h("div", { class: "error-name" }, record.error ?? "(no error name)"),
        h("pre", { class: "json cause" }, prettyJson(record.cause) || "(no cause)"),
      ),
    );
  }
  if (record.output !== undefined)
    blocks.push(h("h4", {}, "Output"), h("pre", { class: "json", "data-field": "output" }, prettyJson(record.output)));
  blocks.push(
    h("h4", {}, `Events (${record.events.length})`),
    h("ol", { class: "state-events" }, ...record.events.map((event) => h("li", {}, h("code", {}, `#${event.id}`), " ", event.type))),
  );
  return blocks;
}

function legend(): HTMLElement {
  return h(
    "div",
    { class: "legend" },
    ...Object.entries(FATE_LABELS).map(([fate, label]) => h("span", { class: `fate-badge fate-${fate}` }, label)),
  );
}

function historyTable(events: WireEvent[], records: Map<string, StateRecord>, startDate: number): HTMLElement {
  const ownerById = new Map<number, string>();
  for (const record of records.values()) for (const event of record.events) ownerById.set(event.id, record.name);
  return h(
    "table",
    { class: "table history", id: "history" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { class: "num" }, "ID"),
        h("th", {}, "Type"),
        h("th", {}, "State"),
        h("th", { class: "num" }, "Elapsed"),
        h("th", {}, "Details"),
      ),
    ),
    h(
      "tbody",
      {},
      ...events.map((event) => {
        const details = detailsOf(event);
        const text = details ? JSON.stringify(details) : "";
        return h(
          "tr",
          { class: /Failed|TimedOut|Aborted/.test(event.type) ? "row-failed" : "" },
          h("td", { class: "num" }, String(event.id)),
          h("td", {}, event.type),
          h("td", {}, ownerById.get(event.id) ?? ""),
          h("td", { class: "num" }, formatDuration((event.timestamp - startDate) * 1000)),
          h(
            "td",
            { class: "details" },
            text.length > 160
              ? h("details", {}, h("summary", {}, `${text.slice(0, 150)}…`), h("pre", { class: "json" }, JSON.stringify(details, null, 2)))
              : text,
          ),
        );
      }),
    ),
  );
}

/** The calls IAM denied during the execution: who, which action on which resource, and AWS's message. None: no card. */
function deniedCallsCard(calls: ExecutionResponse["deniedCalls"]): HTMLElement[] {
  if (calls.length === 0) return [];
  return [
    h(
      "section",
      { class: "card error-card" },
      h("h2", {}, `Denied by IAM (${calls.length})`),
      h(
        "div",
        { class: "card-body" },
        h(
          "table",
          { class: "denied-calls" },
          h("tr", {}, h("th", {}, "Time"), h("th", {}, "Principal"), h("th", {}, "Action"), h("th", {}, "Resource"), h("th", {}, "")),
          ...calls.map((call) =>
            h(
              "tr",
              { title: call.message },
              h("td", {}, formatTime(call.time / 1000)),
              h("td", { class: "arn" }, call.principal),
              h("td", {}, call.action),
              h("td", { class: "arn" }, call.resource),
              h("td", {}, call.enforced ? "denied" : "allowed (warn mode)"),
            ),
          ),
        ),
      ),
    ),
  ];
}
