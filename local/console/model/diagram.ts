/**
 * A state machine definition as a laid-out diagram: one box per state (by name), start and end, Next and
 * Choice edges (with their conditions), Catch edges (with the errors they catch), Retry marks, and Parallel
 * and Map states drawn as groups holding their branches or item processor.
 *
 * Layout is dagre's (MIT): layered graph drawing with compound (nested) nodes, which is what a flow chart
 * with nested groups needs. elkjs lays out nested graphs at least as well but is EPL-2.0 and ships a ~1.5 MB
 * transpiled-Java bundle; dagre is ~100 KB and already a dependency. Pure: runs in the browser and in tests.
 */
import { graphlib, layout } from "@dagrejs/dagre";

/** The parts of an ASL definition the diagram reads (the console gets the definition as JSON text). */
export interface DefinitionBlock {
  StartAt: string;
  States: Record<string, DefinitionState>;
}

export interface DefinitionState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<Record<string, unknown> & { Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
  Branches?: DefinitionBlock[];
  ItemProcessor?: DefinitionBlock;
  Iterator?: DefinitionBlock;
  Resource?: string;
}

export type NodeKind = "state" | "start" | "end" | "join";
export type EdgeKind = "next" | "choice" | "default" | "catch";

export interface DiagramNode {
  id: string;
  kind: NodeKind;
  /** The state's name (state nodes; a group's header node carries its group's state name). */
  stateName?: string;
  stateType?: string;
  /** "↻ 3" style summary of the state's retriers, when it has any. */
  retry?: string;
  /** A task that waits for a token (`.waitForTaskToken`). */
  callback?: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DiagramEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  label?: string;
  points: Array<{ x: number; y: number }>;
  labelX?: number;
  labelY?: number;
}

export interface DiagramGroup {
  id: string;
  stateName: string;
  stateType: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Diagram {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  groups: DiagramGroup[];
  width: number;
  height: number;
}

const START = "__start";
const END = "__end";
const NODE_HEIGHT = 40;
const CHARACTER_WIDTH = 7.4;
const LABEL_LINE_HEIGHT = 14;
const MAX_LABEL_CHARACTERS = 34;

type LayoutGraph = graphlib.Graph;

/** Lays out a whole state machine. */
export function buildDiagram(definition: DefinitionBlock): Diagram {
  const graph: LayoutGraph = new graphlib.Graph({ compound: true, multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, edgesep: 12, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  const kinds = new Map<string, Omit<DiagramNode, "x" | "y" | "width" | "height">>();
  const edges: Array<Omit<DiagramEdge, "points">> = [];
  const groups = new Map<string, { stateName: string; stateType: string }>();

  const addNode = (node: Omit<DiagramNode, "x" | "y" | "width" | "height">, width: number, height: number, parent?: string) => {
    kinds.set(node.id, node);
    graph.setNode(node.id, { width, height });
    if (parent) graph.setParent(node.id, parent);
  };

  /** Adds a block's states; returns the ids where it starts and the ids of its terminal nodes. */
  const addBlock = (block: DefinitionBlock, parent: string | undefined): { entry: string; exits: string[] } => {
    const exits: string[] = [];
    // Where transitions out of a state leave from: the state's box, or a group's join node.
    const outOf = new Map<string, string>();
    for (const [name, state] of Object.entries(block.States)) {
      const nested =
        state.Type === "Parallel" ? (state.Branches ?? []) : state.Type === "Map" ? [state.ItemProcessor ?? state.Iterator] : [];
      const base = {
        id: name,
        kind: "state" as const,
        stateName: name,
        stateType: state.Type,
        retry: retrySummary(state),
        callback: state.Resource?.endsWith(".waitForTaskToken") || undefined,
      };
      if (state.Type === "Parallel" || state.Type === "Map") {
        const groupId = `group:${name}`;
        groups.set(groupId, { stateName: name, stateType: state.Type });
        graph.setNode(groupId, {});
        if (parent) graph.setParent(groupId, parent);
        addNode(base, boxWidth(name), NODE_HEIGHT, groupId);
        const joinId = `join:${name}`;
        addNode({ id: joinId, kind: "join", stateName: name }, 14, 14, groupId);
        for (const inner of nested) {
          if (!inner) continue;
          const { entry, exits: innerExits } = addBlock(inner, groupId);
          edges.push({ from: name, to: entry, kind: "next" });
          for (const exit of innerExits) edges.push({ from: exit, to: joinId, kind: "next" });
        }
        outOf.set(name, joinId);
      } else {
        addNode(base, boxWidth(name), NODE_HEIGHT, parent);
        outOf.set(name, name);
      }
    }
    for (const [name, state] of Object.entries(block.States)) {
      const from = outOf.get(name)!;
      if (state.Type === "Choice") {
        for (const choice of state.Choices ?? []) edges.push({ from, to: choice.Next, kind: "choice", label: describeChoiceRule(choice) });
        if (state.Default) edges.push({ from, to: state.Default, kind: "default", label: "Default" });
      }
      if (state.Next) edges.push({ from, to: state.Next, kind: "next" });
      for (const catcher of state.Catch ?? [])
        edges.push({ from, to: catcher.Next, kind: "catch", label: `Catch ${catcher.ErrorEquals.join(", ")}` });
      if (state.End || state.Type === "Succeed" || state.Type === "Fail") exits.push(from);
    }
    return { entry: block.StartAt, exits };
  };

  addNode({ id: START, kind: "start" }, 56, 26);
  const { entry, exits } = addBlock(definition, undefined);
  addNode({ id: END, kind: "end" }, 56, 26);
  edges.push({ from: START, to: entry, kind: "next" });
  for (const exit of exits) edges.push({ from: exit, to: END, kind: "next" });

  edges.forEach((edge, index) => {
    const label = edge.label ? wrapLabel(edge.label) : undefined;
    graph.setEdge(
      edge.from,
      edge.to,
      label
        ? { width: Math.max(...label.map((line) => line.length)) * 6.4 + 8, height: label.length * LABEL_LINE_HEIGHT + 4, labelpos: "c" }
        : { width: 0, height: 0 },
      String(index),
    );
  });

  layout(graph);

  const nodes: DiagramNode[] = [...kinds.values()].map((node) => {
    const placed = graph.node(node.id);
    return { ...node, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
  });
  const laidEdges: DiagramEdge[] = edges.map((edge, index) => {
    const placed = graph.edge({ v: edge.from, w: edge.to, name: String(index) }) as {
      points?: Array<{ x: number; y: number }>;
      x?: number;
      y?: number;
    };
    return { ...edge, points: placed.points ?? [], labelX: edge.label ? placed.x : undefined, labelY: edge.label ? placed.y : undefined };
  });
  const laidGroups: DiagramGroup[] = [...groups].map(([id, group]) => {
    const placed = graph.node(id);
    return { id, ...group, x: placed.x, y: placed.y, width: placed.width, height: placed.height };
  });
  const size = graph.graph();
  return { nodes, edges: laidEdges, groups: laidGroups, width: size.width ?? 0, height: size.height ?? 0 };
}

/** Every state name of a definition, nested blocks included (what the diagram must show). */
export function allStateNames(block: DefinitionBlock): string[] {
  const names: string[] = [];
  for (const [name, state] of Object.entries(block.States)) {
    names.push(name);
    for (const inner of [...(state.Branches ?? []), state.ItemProcessor, state.Iterator]) if (inner) names.push(...allStateNames(inner));
  }
  return names;
}

function boxWidth(name: string): number {
  return Math.max(120, Math.min(name.length, 40) * CHARACTER_WIDTH + 36);
}

function retrySummary(state: DefinitionState): string | undefined {
  if (!state.Retry || state.Retry.length === 0) return undefined;
  const attempts = state.Retry.reduce((sum, retrier) => sum + (retrier.MaxAttempts ?? 3), 0);
  return `↻ ${attempts}`;
}

/** Splits an edge label into lines the diagram can show without overlapping its neighbours. */
export function wrapLabel(label: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of label.split(" ")) {
    if (line && line.length + word.length + 1 > MAX_LABEL_CHARACTERS) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const COMPARISONS: Array<[suffix: string, symbol: string]> = [
  ["GreaterThanEquals", ">="],
  ["LessThanEquals", "<="],
  ["GreaterThan", ">"],
  ["LessThan", "<"],
  ["Equals", "=="],
  ["Matches", "matches"],
];

/** A Choice rule as a short readable condition: `$.outcome == "success"`, `$.n > 3 and $.ok is present`. */
export function describeChoiceRule(rule: Record<string, unknown>): string {
  if (Array.isArray(rule.And)) return rule.And.map((inner) => describeNested(inner)).join(" and ");
  if (Array.isArray(rule.Or)) return rule.Or.map((inner) => describeNested(inner)).join(" or ");
  if (rule.Not && typeof rule.Not === "object") return `not ${describeNested(rule.Not)}`;
  const variable = String(rule.Variable ?? "?");
  for (const [key, value] of Object.entries(rule)) {
    if (key === "Variable" || key === "Next" || key === "Comment") continue;
    if (key.startsWith("Is")) return `${variable} ${value ? "is" : "is not"} ${key.slice(2).toLowerCase()}`;
    const byPath = key.endsWith("Path");
    const operator = byPath ? key.slice(0, -4) : key;
    const comparison = COMPARISONS.find(([suffix]) => operator.endsWith(suffix));
    if (!comparison) continue;
    const shown = byPath ? String(value) : JSON.stringify(value);
    return `${variable} ${comparison[1]} ${shown}`;
  }
  return "(condition)";
}

function describeNested(rule: unknown): string {
  const text = describeChoiceRule(rule as Record<string, unknown>);
  return / (and|or) /.test(text) ? `(${text})` : text;
}
