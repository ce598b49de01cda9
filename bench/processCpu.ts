/**
 * CPU seconds used by a process and its descendants, read from /proc (Linux): benchmarks print where the CPU of
 * a run went (the runtime itself, its function processes; the floor's server and workers) beside the rates.
 * Elsewhere it returns undefined and the benchmarks say so.
 */
import * as fs from "node:fs";

export interface TreeCpu {
  /** The root process. */
  own: number;
  /** Its descendants, together. */
  descendants: number;
}

/** utime + stime of `pid` and of every process below it now, in seconds; undefined without /proc. */
export function treeCpu(pid: number): TreeCpu | undefined {
  if (!fs.existsSync(`/proc/${pid}/stat`)) return undefined;
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture Node supports
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const parent = Number(fields[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / ticksPerSecond);
  }
  let descendants = 0;
  const below = [...(children.get(pid) ?? [])];
  while (below.length > 0) {
    const next = below.pop()!;
    descendants += cpu.get(next) ?? 0;
    below.push(...(children.get(next) ?? []));
  }
  return { own: cpu.get(pid) ?? 0, descendants };
}

/** CPU used between two readings (a descendant that ended between them is not counted: pools keep theirs). */
export function cpuBetween(before: TreeCpu | undefined, after: TreeCpu | undefined): TreeCpu | undefined {
  if (!before || !after) return undefined;
  return { own: after.own - before.own, descendants: after.descendants - before.descendants };
}
