/** Draws a laid-out diagram (model/diagram.ts) as SVG, each state coloured by its fate when an execution is shown. */
import { wrapLabel, type Diagram, type DiagramEdge, type DiagramNode } from "../model/diagram";
import type { Fate } from "../model/stateFates";
import { svg } from "./dom";

export interface DiagramOptions {
  /** Fate of each state by name (execution page); absent: the plain definition. */
  fates?: Map<string, Fate>;
  selected?: string;
  onSelect?(stateName: string): void;
}

export function renderDiagram(diagram: Diagram, options: DiagramOptions = {}): SVGSVGElement {
  const root = svg("svg", {
    class: "diagram",
    viewBox: `0 0 ${Math.ceil(diagram.width)} ${Math.ceil(diagram.height)}`,
    width: Math.ceil(diagram.width),
    height: Math.ceil(diagram.height),
    role: "img",
    "aria-label": "State machine diagram",
  });
  root.append(svg("defs", {}, arrowMarker("arrow", "edge-arrow"), arrowMarker("arrow-catch", "edge-arrow catch")));
  for (const group of diagram.groups) {
    const fate = options.fates ? (options.fates.get(group.stateName) ?? "notReached") : undefined;
    root.append(
      svg(
        "g",
        { class: `group${fate ? ` fate-${fate}` : ""}` },
        svg("rect", { x: group.x - group.width / 2, y: group.y - group.height / 2, width: group.width, height: group.height, rx: 10 }),
        svg("text", { x: group.x - group.width / 2 + 10, y: group.y - group.height / 2 + 14, class: "group-label" }, group.stateType),
      ),
    );
  }
  for (const edge of diagram.edges) root.append(renderEdge(edge));
  for (const node of diagram.nodes) root.append(renderNode(node, options));
  return root;
}

function arrowMarker(id: string, className: string): SVGMarkerElement {
  return svg(
    "marker",
    { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: className }),
  );
}

function renderEdge(edge: DiagramEdge): SVGGElement {
  const group = svg("g", { class: `edge edge-${edge.kind}` });
  if (edge.points.length > 0) {
    const [first, ...rest] = edge.points;
    const d = `M ${first.x} ${first.y} ` + rest.map((point) => `L ${point.x} ${point.y}`).join(" ");
    group.append(svg("path", { d, "marker-end": `url(#${edge.kind === "catch" ? "arrow-catch" : "arrow"})` }));
  }
  if (edge.label && edge.labelX !== undefined && edge.labelY !== undefined) {
    const lines = wrapLabel(edge.label);
    const width = Math.max(...lines.map((line) => line.length)) * 6.4 + 8;
    const height = lines.length * 14 + 4;
    group.append(
      svg("rect", { class: "edge-label-bg", x: edge.labelX - width / 2, y: edge.labelY - height / 2, width, height, rx: 3 }),
      svg(
        "text",
        { class: "edge-label", x: edge.labelX, y: edge.labelY - height / 2 + 13 },
        ...lines.map((line, index) => svg("tspan", { x: edge.labelX, dy: index === 0 ? 0 : 14 }, line)),
      ),
    );
  }
  return group;
}

function renderNode(node: DiagramNode, options: DiagramOptions): SVGGElement {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  if (node.kind === "start" || node.kind === "end") {
    return svg(
      "g",
      { class: `terminal terminal-${node.kind}` },
      svg("rect", { x: left, y: top, width: node.width, height: node.height, rx: node.height / 2 }),
      svg("text", { x: node.x, y: node.y + 4 }, node.kind === "start" ? "Start" : "End"),
    );
  }
  if (node.kind === "join") return svg("g", { class: "join" }, svg("circle", { cx: node.x, cy: node.y, r: 5 }));
  const name = node.stateName!;
  const fate = options.fates ? (options.fates.get(name) ?? "notReached") : undefined;
  const classes = ["state", `type-${node.stateType!.toLowerCase()}`, fate && `fate-${fate}`, options.selected === name && "selected"];
  const group = svg(
    "g",
    {
      class: classes.filter(Boolean).join(" "),
      "data-state": name,
      "data-fate": fate,
      tabindex: 0,
      role: "button",
      "aria-label": `${name} (${node.stateType}${fate ? `, ${fate}` : ""})`,
    },
    svg("title", {}, `${name} — ${node.stateType}${fate ? ` — ${fate}` : ""}`),
    svg("rect", { x: left, y: top, width: node.width, height: node.height, rx: 6 }),
    svg("text", { x: node.x, y: node.y + 4, class: "state-name" }, name.length > 40 ? `${name.slice(0, 39)}…` : name),
    svg("text", { x: left + 6, y: top + 11, class: "state-type" }, node.callback ? `${node.stateType} · token` : node.stateType),
    node.retry ? svg("text", { x: left + node.width - 6, y: top + 11, class: "retry-mark" }, svg("title", {}, "Retry"), node.retry) : null,
  );
  if (options.onSelect) {
    const select = () => options.onSelect!(name);
    group.addEventListener("click", select);
    group.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key === "Enter" || (event as KeyboardEvent).key === " ") select();
    });
  }
  return group;
}
