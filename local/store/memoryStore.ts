/**
 * `--state memory`: the same contract with nothing kept across restarts (the benchmarks' baseline, and
 * tests that need no disk). Writes are visible at once; `committed()` resolves at once.
 */
import type { StateStore, StoreCollection } from "../common/store";

export class MemoryStore implements StateStore {
  readonly durable = false;
  readonly failedCommits = 0;
  readonly directory = undefined;
  private readonly collections = new Map<string, Map<string, unknown>>();

  collection<T>(name: string): StoreCollection<T> {
    let entries = this.collections.get(name);
    if (!entries) this.collections.set(name, (entries = new Map()));
    const map = entries as Map<string, T>;
    return {
      get: (key) => map.get(key),
      put: (key, value) => void map.set(key, value),
      delete: (key) => void map.delete(key),
      deletePrefix: (prefix) => {
        for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
      },
      // Nothing waits for a commit here: every write is kept at once.
      uncommitted: () => false,
      entries: (prefix = "") => [...map].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  }

  filesFor(): undefined {
    return undefined;
  }

  committed(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}
