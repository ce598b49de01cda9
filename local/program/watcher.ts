/**
 * Watches a program's sources and calls back once per burst of changes: an editor's save is often several
 * file events (write, rename, chmod), and a `git checkout` touches many files at once.
 *
 * Node's fs.watch on each directory (not each file): editors that save by writing a new file and renaming it
 * over the old one replace the inode, which a per-file watch would lose. Hand-written rather than a package
 * (chokidar): a few directories, no globbing, and fs.watch is reliable for that on Linux and macOS.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectFiles } from "./cache";

export const DEBOUNCE_MS = 150;

export interface ProgramWatcher {
  /** Watches these project-relative files (the evaluation's sources) from now on, besides Pulumi*.yaml. */
  setSources(sources: readonly string[]): void;
  close(): void;
}

/** `onChange(files)` gets the project-relative files that changed, once the burst is over. */
export function watchProgram(projectDirectory: string, onChange: (files: string[]) => void, debounceMs = DEBOUNCE_MS): ProgramWatcher {
  const watchers = new Map<string, fs.FSWatcher>();
  let watched = new Set<string>();
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const isWatched = (file: string) =>
    watched.has(file) ||
    projectFiles(projectDirectory).includes(file) ||
    (path.dirname(file) === "." && /^Pulumi(\..+)?\.ya?ml$/.test(file));

  const watchDirectory = (directory: string) => {
    if (watchers.has(directory)) return;
    try {
      const watcher = fs.watch(directory, (_event, name) => {
        if (!name) return;
        const file = path.relative(projectDirectory, path.join(directory, name.toString()));
        if (!isWatched(file)) return;
        changed.add(file);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const files = [...changed].sort();
          changed = new Set();
          onChange(files);
        }, debounceMs);
      });
      watcher.on("error", () => watchers.delete(directory)); // the directory was removed
      watchers.set(directory, watcher);
    } catch {
      // A directory that does not exist (any more) has nothing to watch.
    }
  };

  watchDirectory(projectDirectory);
  return {
    setSources(sources) {
      watched = new Set(sources);
      for (const file of sources) watchDirectory(path.dirname(path.resolve(projectDirectory, file)));
    },
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
