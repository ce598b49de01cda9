/**
 * The runtime's live log: `[source] line`, one colour per source on a terminal, plain text otherwise
 * (and when NO_COLOR is set: https://no-color.org).
 *
 * Lines are gathered and written once per event-loop turn: an execution logs some 25 lines, and one write
 * per line was the runtime's largest cost under load (measured with --cpu-prof).
 */
export type LogSink = (source: string, line: string) => void;

export interface Logger extends LogSink {
  /** Writes what is pending now (before exiting). */
  flush(): void;
}

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

export function createLogger(stream: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Logger {
  const colour = stream.isTTY === true && !env.NO_COLOR;
  const assigned = new Map<string, number>();
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    stream.write(text);
  };
  const log = ((source: string, line: string) => {
    if (pending.length === 0) setImmediate(flush);
    if (!colour) return void pending.push(`[${source}] ${line}\n`);
    let code = assigned.get(source);
    if (code === undefined) {
      code = COLOURS[assigned.size % COLOURS.length];
      assigned.set(source, code);
    }
    pending.push(`\u001b[${code}m[${source}]\u001b[0m ${line}\n`);
  }) as Logger;
  log.flush = flush;
  return log;
}
