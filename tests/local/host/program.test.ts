import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";

const FIXTURES = path.join(__dirname, "fixtures");
const REPOSITORY = path.resolve(__dirname, "../../..");

/** Runs the loader on a fixture program in a child process (Pulumi's runtime state is per process). */
function load(program: string, stack: string, overrides: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register", path.join(FIXTURES, "loadProgramInChild.ts"), path.join(FIXTURES, program), stack, ...overrides],
      { cwd: REPOSITORY, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("program loader: the Pulumi program evaluated under mocks", function () {
  this.timeout(60_000);
  let loaded: any;

  before(async () => {
    const { code, stdout, stderr } = await load("program", "dev", ["heartbeatSeconds=5"]);
    assert.equal(code, 0, stderr);
    loaded = JSON.parse(stdout);
  });

  it("resolves the stack outputs, with config from the declarations, the stack file and -c, typed as the program reads them", () => {
    assert.deepEqual(loaded.outputs, {
      functionName: loaded.resources.find((resource: any) => resource.type === "aws:lambda/function:Function").id,
      // greeting from Pulumi.dev.yaml, heartbeatSeconds from -c (a number), verbose from its declared default
      settings: { greeting: "hi from dev", heartbeatSeconds: 5, verbose: false },
      region: "eu-central-1",
    });
  });

  it("answers with the fake cloud's realistic ids, in the stack config's region, with the local origin", () => {
    assert.deepEqual(loaded.cloud, { region: "eu-central-1", accountId: "123456789012", origin: "http://127.0.0.1:4321" });
    const fn = loaded.resources.find((resource: any) => resource.type === "aws:lambda/function:Function");
    assert.match(fn.id, /^greeter-fn-[0-9a-f]{7}$/);
    assert.equal(fn.arn, `arn:aws:lambda:eu-central-1:123456789012:function:${fn.id}`);
  });

  it("records every declared resource, in the order Pulumi registers them, with its URN and parent", () => {
    const declared = loaded.resources.map((resource: any) => [resource.type, resource.name, resource.custom]);
    assert.deepEqual([...declared].sort(), [
      ["aws:iam/role:Role", "greeter-role", true],
      ["aws:kinesis/stream:Stream", "jobs", true],
      ["aws:lambda/function:Function", "greeter-fn", true],
      ["fixture:index:Greeter", "greeter", false],
    ]);
    const index = (name: string) => loaded.resources.findIndex((resource: any) => resource.name === name);
    assert.ok(
      index("greeter") < index("greeter-role") && index("greeter-role") < index("greeter-fn"),
      "a parent before its children, a dependency before its dependent",
    );
    const byName = (name: string) => loaded.resources[index(name)];
    const component = byName("greeter");
    assert.equal(component.urn, "urn:pulumi:dev::fixture-program::fixture:index:Greeter::greeter");
    assert.equal(byName("greeter-role").urn, "urn:pulumi:dev::fixture-program::fixture:index:Greeter$aws:iam/role:Role::greeter-role");
    assert.equal(byName("greeter-role").parent, component.urn);
    assert.equal(byName("greeter-fn").parent, component.urn);
    assert.equal(byName("jobs").parent, undefined);
  });

  it("keeps the function's inputs resolved, including the serialized __index.js that Pulumi would upload", () => {
    const fn = loaded.resources.find((resource: any) => resource.type === "aws:lambda/function:Function");
    assert.equal(fn.handler, "__index.handler");
    assert.deepEqual(fn.environment, { variables: { GREETING: "hi from dev" } });
    assert.match(fn.indexJs, /exports\.handler = /);
    assert.match(fn.indexJs, /process\.env\.GREETING/);
  });

  it("reports a program that throws while evaluating, with its message", async () => {
    const { code, stderr } = await load("broken-program", "dev");
    assert.notEqual(code, 0);
    assert.match(
      stderr,
      /^ProgramError: Evaluating .*index\.ts for stack "dev" failed: heartbeatSeconds \(900\) must be less than timeoutSeconds \(600\)$/,
    );
  });

  it("reports config errors before evaluating anything", async () => {
    const { code, stderr } = await load("program", "dev", ["verbose=maybe"]);
    assert.notEqual(code, 0);
    assert.equal(stderr, 'ConfigError: -c "verbose": must be of type boolean (declared in Pulumi.yaml), got "maybe"');
  });
});
