/**
 * Notices when the process that started the runtime is gone, so the runtime never outlives the command
 * the user ran. `npm start` is npm → (`sh -c` unless the script `exec`s) → node: npm forwards SIGINT and
 * SIGTERM to its child but not SIGHUP, a shell in between does not forward at all, and `kill -9` on npm
 * forwards nothing. Whatever signal reached npm, its end shows here as a changed parent: on Linux a process
 * whose parent dies is re-parented (to init or a subreaper), and a shell left between us and a dead npm is
 * re-parented the same way.
 */
import * as fs from "node:fs";

export interface ParentWatch {
  stop(): void;
}

/** Calls `onGone` once, with what ended, when the parent (or npm above a script shell) ends. */
export function watchParent(onGone: (description: string) => void, intervalMs = 500): ParentWatch {
  const parent = process.ppid;
  // Under npm (which sets npm_lifecycle_event) a shell parent is npm's script shell: watch npm too.
  const shellParent = process.env.npm_lifecycle_event !== undefined && /^(sh|dash|bash|zsh)$/.test(commandName(parent) ?? "");
  const grandparent = shellParent ? parentOf(parent) : undefined;
  const timer = setInterval(() => {
    if (process.ppid !== parent) return gone(`its parent process (${parent}) ended`);
    if (grandparent !== undefined && parentOf(parent) !== grandparent) gone(`npm (process ${grandparent}) ended`);
  }, intervalMs);
  timer.unref();
  let reported = false;
  const gone = (description: string) => {
    clearInterval(timer);
    if (reported) return;
    reported = true;
    onGone(description);
  };
  return { stop: () => clearInterval(timer) };
}

/** A process's command name from /proc (Linux); undefined elsewhere or once it is gone. */
function commandName(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A process's parent id from /proc/<pid>/stat (the field after the parenthesised name); undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
