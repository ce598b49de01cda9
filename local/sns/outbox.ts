/**
 * Where email and email-json deliveries go locally: a list served at `GET /_local/sns/messages`, so a person
 * (or a test) can read the approval mail and follow its links. Kept in the runtime's store when there is one,
 * so a mail delivered before a restart or a crash can still be read after it.
 */
import { randomBytes } from "node:crypto";
import type { StoreCollection } from "../common/store";

export interface OutboxEntry {
  topicArn: string;
  protocol: "email" | "email-json";
  endpoint: string;
  subject: string | null;
  message: string;
  timestamp: string;
}

export const OUTBOX_PATH = "/_local/sns/messages";

/** Keys sort as numbers do, so the store gives entries back in delivery order. */
const entryKey = (index: number) => String(index).padStart(12, "0");

export class Outbox {
  private readonly entries: OutboxEntry[] = [];
  /** This run's id, in the outbox's ETag: a length alone could match a list from before a restart or --reset. */
  readonly runId = randomBytes(6).toString("hex");
  /** How many entries came back from the store. */
  readonly restored: number;

  /**
   * Kept entries are read back here, not in the service's restore(): deliveries may start before that runs,
   * and each new entry's key follows the ones already kept.
   */
  constructor(private readonly kept?: StoreCollection<OutboxEntry>) {
    for (const [, entry] of kept?.entries() ?? []) this.entries.push(entry);
    this.restored = this.entries.length;
  }

  add(entry: OutboxEntry): void {
    this.kept?.put(entryKey(this.entries.length), entry);
    this.entries.push(entry);
  }

  list(): readonly OutboxEntry[] {
    return this.entries;
  }
}
