/** Opens the runtime's state store: SQLite in the stack's state folder, or memory (`--state memory`). */
import type { StateStore } from "../common/store";
import { MemoryStore } from "./memoryStore";
import { SqliteStore } from "./sqliteStore";

export { StateFolderInUseError } from "./sqliteStore";

export interface StateStoreOptions {
  kind: "durable" | "memory";
  /** The state folder, e.g. `<project>/.local/dev/state` (durable only). */
  directory: string;
  reset?: boolean;
}

export function openStateStore(options: StateStoreOptions): StateStore {
  return options.kind === "memory" ? new MemoryStore() : SqliteStore.open(options.directory, { reset: options.reset });
}
