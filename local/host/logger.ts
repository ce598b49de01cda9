/**
 * The runtime's live log: `[source] line`, one colour per source on a terminal, plain text otherwise
 * (and when NO_COLOR is set: https://no-color.org).
 */
export type LogSink = (source: string, line: string) => void;

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

export function createLogger(stream: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): LogSink {
  const colour = stream.isTTY === true && !env.NO_COLOR;
  const assigned = new Map<string, number>();
  return (source, line) => {
    if (!colour) return void stream.write(`[${source}] ${line}\n`);
    let code = assigned.get(source);
    if (code === undefined) {
      code = COLOURS[assigned.size % COLOURS.length];
      assigned.set(source, code);
    }
    stream.write(`\u001b[${code}m[${source}]\u001b[0m ${line}\n`);
  };
}
