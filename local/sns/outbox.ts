/**
 * Where email and email-json deliveries go locally: a list served at `GET /_local/sns/messages`, so a person
 * (or a test) can read the approval mail and follow its links.
 */
export interface OutboxEntry {
  topicArn: string;
  protocol: "email" | "email-json";
  endpoint: string;
  subject: string | null;
  message: string;
  timestamp: string;
}

export const OUTBOX_PATH = "/_local/sns/messages";

export class Outbox {
  private readonly entries: OutboxEntry[] = [];

  add(entry: OutboxEntry): void {
    this.entries.push(entry);
  }

  list(): readonly OutboxEntry[] {
    return this.entries;
  }
}
