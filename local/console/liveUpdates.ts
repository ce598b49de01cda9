/**
 * Server-sent events for open console pages. A page subscribes to everything (the overview), one state
 * machine or one execution; it is told *that* something changed, at most once per interval, and fetches
 * what it shows. On opening, the stream says the change count it subscribed at (a `subscribed` event): a page loaded at
 * that count or later has missed nothing and does not load again. Coalescing keeps a busy runtime (hundreds of executions a second) from paying per event
 * per page; with no page open the console does not listen to the engine at all.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { ServerResponse } from "node:http";
import type { SourceChange, StepFunctionsSource } from "./source";

export type LiveFilter = { kind: "all" } | { kind: "stateMachine"; arn: string } | { kind: "execution"; arn: string };

interface Subscriber {
  filter: LiveFilter;
  res: ServerResponse;
  /** Executions changed since the last message. */
  changed: Set<string>;
  timer?: NodeJS.Timeout;
}

/** Longest a page waits to hear of a change; also the most often it hears. */
export const LIVE_INTERVAL_MS = 200;
const KEEP_ALIVE_MS = 15_000;

export class LiveUpdates {
  private readonly subscribers = new Set<Subscriber>();
  private unsubscribe?: () => void;
  private keepAlive?: NodeJS.Timeout;

  constructor(private readonly source: StepFunctionsSource) {}

  /** Holds `res` open as an event stream until the client goes away. */
  open(res: ServerResponse, filter: LiveFilter): void {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    const subscriber: Subscriber = { filter, res, changed: new Set() };
    this.subscribers.add(subscriber);
    res.on("close", () => this.remove(subscriber));
    this.unsubscribe ??= this.source.subscribe((change) => this.onChange(change));
    // Read once subscribed: every change from this count on will be told.
    res.write(`event: subscribed\ndata: ${JSON.stringify({ changeCount: this.source.changeCount() })}\n\n`);
    this.keepAlive ??= setInterval(() => {
      for (const { res: stream } of this.subscribers) stream.write(": keep-alive\n\n");
    }, KEEP_ALIVE_MS);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  close(): void {
    for (const subscriber of [...this.subscribers]) {
      subscriber.res.end();
      this.remove(subscriber);
    }
  }

  private remove(subscriber: Subscriber): void {
    clearTimeout(subscriber.timer);
    this.subscribers.delete(subscriber);
    if (this.subscribers.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private onChange(change: SourceChange): void {
    for (const subscriber of this.subscribers) {
      const { filter } = subscriber;
      if (filter.kind === "stateMachine" && filter.arn !== change.stateMachineArn) continue;
      if (filter.kind === "execution" && filter.arn !== change.executionArn) continue;
      subscriber.changed.add(change.executionArn);
      subscriber.timer ??= setTimeout(() => this.flush(subscriber), LIVE_INTERVAL_MS);
    }
  }

  private flush(subscriber: Subscriber): void {
    subscriber.timer = undefined;
    const executions = [...subscriber.changed];
    subscriber.changed.clear();
    subscriber.res.write(`event: change\ndata: ${JSON.stringify({ executions })}\n\n`);
  }
}
