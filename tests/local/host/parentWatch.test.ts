/**
 * The runtime's watch on the process that started it, with the process tree `npm start` makes when npm runs
 * the script through a shell: npm → sh -c → node. Killing "npm" with SIGKILL forwards nothing, and the
 * shell lives on, re-parented: the watch must notice from the shell's new parent.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPOSITORY = path.resolve(__dirname, "../../..");
const FIXTURE = path.join(__dirname, "fixtures", "watchParentInChild.ts");

async function waitForFile(file: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return fs.readFileSync(file, "utf8");
}

describe("parent watch (a runtime never outlives npm)", function () {
  this.timeout(60_000);

  it("notices npm's end through the script shell between them, when npm is killed and forwards nothing", async () => {
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "parent-watch-")), "report");
    // Stands in for npm: a process whose child is `sh -c "node ..."` (the shell stays: it runs a second command).
    const command = `"${process.execPath}" -r ts-node/register "${FIXTURE}" "${report}"; true`;
    const npm = spawn(
      process.execPath,
      ["-e", `require("child_process").spawn("sh", ["-c", process.argv[1]], { stdio: "inherit" }); setInterval(() => {}, 1000)`, command],
      {
        cwd: REPOSITORY,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", npm_lifecycle_event: "start" },
        stdio: "ignore",
      },
    );
    await waitForFile(`${report}.ready`, 45_000);
    npm.kill("SIGKILL");
    assert.equal(await waitForFile(report, 10_000), `npm (process ${npm.pid}) ended`);
  });
});
