/** `/`: every state machine with its type and its executions counted by status; the SNS outbox. */
import { getJson, liveLoad } from "../api";
import { consoleLink, h, replaceChildren, statusBadge } from "../dom";
import { renderOutbox } from "../outbox";

interface MachineSummary {
  stateMachineArn: string;
  name: string;
  type: string;
  creationDate: number;
  counts: Record<string, number>;
}

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export function overviewPage(root: HTMLElement): () => void {
  const table = h("div", { class: "card-body" }, h("p", { class: "muted" }, "Loading…"));
  const outbox = h("div", { class: "card-body" });
  replaceChildren(
    root,
    h("section", { class: "card" }, h("h2", {}, "State machines"), table),
    h("section", { class: "card" }, h("h2", {}, "SNS outbox"), outbox),
  );
  const refresh = async () => {
    const { stateMachines, changeCount } = await getJson<{ stateMachines: MachineSummary[]; changeCount: number }>(
      "/console/api/state-machines",
    );
    replaceChildren(table, machinesTable(stateMachines));
    await renderOutbox(outbox);
    return changeCount;
  };
  return liveLoad({}, refresh);
}

function machinesTable(machines: MachineSummary[]): HTMLElement {
  if (machines.length === 0) return h("p", { class: "muted" }, "The program declares no state machines.");
  return h(
    "table",
    { class: "table", id: "state-machines" },
    h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), ...STATUSES.map((status) => h("th", { class: "num" }, statusBadge(status)))),
    ),
    h(
      "tbody",
      {},
      ...machines.map((machine) =>
        h(
          "tr",
          { "data-arn": machine.stateMachineArn },
          h("td", {}, h("a", { href: consoleLink("state-machines", machine.stateMachineArn) }, machine.name)),
          h("td", {}, machine.type),
          ...STATUSES.map((status) => h("td", { class: "num", "data-status": status }, String(machine.counts[status] ?? 0))),
        ),
      ),
    ),
  );
}
