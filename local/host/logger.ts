/**
 * The runtime's live log: `[source] line`, one colour per source on a terminal, plain text otherwise
 * (and when NO_COLOR is set: https://no-color.org). Optionally each line starts with its ISO time, and
 * lines below a level are left out.
 *
 * Lines are gathered and written once per event-loop turn: an execution logs some 25 lines, and one write
 * per line was the runtime's largest cost under load (measured with --cpu-prof).
 */
import type { LogLevel } from "../common/service";

export type LogSink = (source: string, line: string, level?: LogLevel) => void;

export interface Logger extends LogSink {
  /** Writes what is pending now (before exiting). */
  flush(): void;
}

export interface LoggerOptions {
  /** Start each line with its ISO 8601 time (UTC). @default false */
  timestamps?: boolean;
  /** Lines less important than this are left out. @default "info" */
  level?: LogLevel;
}

export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

export function createLogger(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  options: LoggerOptions = {},
): Logger {
  const colour = stream.isTTY === true && !env.NO_COLOR;
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const assigned = new Map<string, number>();
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    stream.write(text);
  };
  const log = ((source: string, line: string, level: LogLevel = "info") => {
    if (LOG_LEVELS.indexOf(level) > threshold) return;
    if (pending.length === 0) setImmediate(flush);
    const time = options.timestamps ? `${new Date().toISOString()} ` : "";
    if (!colour) return void pending.push(`${time}[${source}] ${line}\n`);
    let code = assigned.get(source);
    if (code === undefined) {
      code = COLOURS[assigned.size % COLOURS.length];
      assigned.set(source, code);
    }
    pending.push(`${time}\u001b[${code}m[${source}]\u001b[0m ${line}\n`);
  }) as Logger;
  log.flush = flush;
  return log;
}
