import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";

const REPOSITORY = path.resolve(__dirname, "../../..");

describe("closure debugger: Pulumi's inspector session is off while the runtime serves", function () {
  this.timeout(60_000);

  it("turns the debugger Pulumi's closure serializer opened off once, and back on before another program is loaded", async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["-r", "ts-node/register", path.join(__dirname, "fixtures", "closureDebuggerInChild.ts")],
        { cwd: REPOSITORY, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
        (error, out, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(out)),
      ),
    );
    assert.deepEqual(JSON.parse(stdout), { opened: true, paused: false, pausedTwice: false, resumed: true });
  });
});
