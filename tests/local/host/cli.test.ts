import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { formatEffectiveConfig, formatStackOutputs } from "../../../local/cli";

const REPOSITORY = path.resolve(__dirname, "../../..");

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // `npm start`'s own command.
      ["local/start.js", ...args],
      { cwd: REPOSITORY, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm start (local/cli.ts)", function () {
  this.timeout(30_000);

  it("prints stack outputs as `pulumi stack output` does: sorted, aligned, structured values as JSON", () => {
    assert.equal(
      formatStackOutputs({ startUrl: "http://127.0.0.1:3000/start", functionNames: { split: "a", handler: "b" }, count: 2 }),
      [
        "Current stack outputs (3):",
        "    OUTPUT         VALUE",
        "    count          2",
        '    functionNames  {"split":"a","handler":"b"}',
        "    startUrl       http://127.0.0.1:3000/start",
      ].join("\n"),
    );
  });

  it("documents every option and environment variable in --help", async () => {
    const { code, stdout } = await cli(["--help"]);
    assert.equal(code, 0);
    for (const option of [
      "--stack",
      "--config KEY=VALUE",
      "--port",
      "--cwd",
      "--log-level LEVEL",
      "--quiet",
      "--timestamps",
      "/_local/health",
      "SIGHUP",
      "--no-watch",
      "PORT",
      "LOCAL_LAMBDA_NODE",
      "LOCAL_LAMBDA_MAX_PROCESSES",
      "LOCAL_LAMBDA_ASYNC_RETRY_DELAYS",
      "NO_COLOR",
      "Ctrl-C",
    ]) {
      assert.ok(stdout.includes(option), `--help mentions ${option}`);
    }
  });

  it("refuses an unknown option, a stray argument and a bad port with exit code 2 and a usage hint", async () => {
    const unknown = await cli(["--frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: Unknown option '--frobnicate'/);
    assert.match(unknown.stderr, /Run `npm start -- --help` for usage\./);
    const stray = await cli(["heartbeatSeconds=3"]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument "heartbeatSeconds=3" \(config overrides go after -c\)/);
    const processes = await cli([], { LOCAL_LAMBDA_MAX_PROCESSES: "0" });
    assert.equal(processes.code, 2);
    assert.match(processes.stderr, /LOCAL_LAMBDA_MAX_PROCESSES must be a whole number of at least 1, got "0"/);
    const port = await cli([], { PORT: "http" });
    assert.equal(port.code, 2);
    assert.match(port.stderr, /port must be a number from 0 to 65535, got "http"/);
  });

  it("shows the effective config one key a line, with its value and where it came from", () => {
    assert.equal(
      formatEffectiveConfig([
        ["sfn-callback:heartbeatSeconds", "60", "Pulumi.dev.yaml"],
        ["port", "3000", "default"],
      ]),
      [
        "Effective config (2):",
        "    KEY                            VALUE  FROM",
        "    sfn-callback:heartbeatSeconds  60     Pulumi.dev.yaml",
        "    port                           3000   default",
      ].join("\n"),
    );
  });

  it("refuses an unknown log level, and --quiet together with --log-level", async () => {
    const level = await cli(["--log-level", "loud"]);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /--log-level must be one of error, warn, info, debug, got "loud"/);
    const both = await cli(["--quiet", "--log-level", "info"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--quiet and --log-level cannot be used together/);
  });

  it("says where to run it when the directory holds no Pulumi project", async () => {
    const { code, stderr } = await cli(["--cwd", path.join(REPOSITORY, "local")]);
    assert.equal(code, 2);
    assert.match(stderr, /no Pulumi.yaml in .*local; run from the project directory or pass --cwd/);
  });
});
