import * as assert from "node:assert/strict";
import { createLogger } from "../../../local/host/logger";

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return {
    stream: { isTTY, write: (text: string) => (writes.push(text), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean },
    writes,
  };
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("runtime log", () => {
  it("writes plain `[source] line` when the output is not a terminal, lines of one turn in one write, in order", async () => {
    const { stream, writes } = sink(false);
    const log = createLogger(stream, {});
    log("states", "a ExecutionStarted");
    log("fn-1", "START RequestId: 1");
    assert.deepEqual(writes, [], "nothing is written before the turn ends");
    await nextTurn();
    assert.deepEqual(writes, ["[states] a ExecutionStarted\n[fn-1] START RequestId: 1\n"]);
  });

  it("colours each source consistently on a terminal, and not at all with NO_COLOR", async () => {
    const terminal = sink(true);
    const log = createLogger(terminal.stream, {});
    log("states", "x");
    log("fn-1", "y");
    log("states", "z");
    log.flush();
    assert.equal(terminal.writes.join(""), "\u001b[36m[states]\u001b[0m x\n\u001b[33m[fn-1]\u001b[0m y\n\u001b[36m[states]\u001b[0m z\n");
    const noColour = sink(true);
    const plain = createLogger(noColour.stream, { NO_COLOR: "1" });
    plain("states", "x");
    plain.flush();
    assert.deepEqual(noColour.writes, ["[states] x\n"]);
  });

  it("starts each line with its ISO time when asked (--timestamps)", () => {
    const { stream, writes } = sink(false);
    const log = createLogger(stream, {}, { timestamps: true });
    log("states", "a ExecutionStarted");
    log.flush();
    assert.match(writes.join(""), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[states\] a ExecutionStarted\n$/);
  });

  it("leaves out lines below the chosen level: warn keeps warnings and errors only; lines without a level are info", () => {
    const { stream, writes } = sink(false);
    const log = createLogger(stream, {}, { level: "warn" });
    log("fn-1", "START RequestId: 1");
    log("states", 'a - ExecutionFailed: error "X"', "warn");
    log("runtime", "internal error", "error");
    log("runtime", "client went away", "debug");
    log.flush();
    assert.equal(writes.join(""), '[states] a - ExecutionFailed: error "X"\n[runtime] internal error\n');
    const everything = sink(false);
    const debug = createLogger(everything.stream, {}, { level: "debug" });
    debug("runtime", "client went away", "debug");
    debug.flush();
    assert.equal(everything.writes.join(""), "[runtime] client went away\n");
  });
});
