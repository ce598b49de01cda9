import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, readProjectFile, resolveStackConfig } from "../../../local/program/config";

function project(files: Record<string, string>): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "config-test-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(directory, name), text);
  return directory;
}

const PULUMI_YAML = `
name: demo
runtime: nodejs
config:
  timeoutSeconds:
    type: integer
    default: 300
  heartbeatSeconds:
    type: integer
  verbose:
    type: boolean
    default: false
  failureRate:
    type: string
    default: "0.5"
  regions:
    type: array
    default: [a, b]
  aws:region:
    value: eu-west-1
`;

describe("stack config, read as the Pulumi CLI reads it", () => {
  const directories: string[] = [];
  const make = (files: Record<string, string>) => {
    const directory = project(files);
    directories.push(directory);
    return readProjectFile(directory);
  };
  after(() => directories.forEach((directory) => fs.rmSync(directory, { recursive: true, force: true })));

  it("layers declared defaults < Pulumi.yaml values < Pulumi.<stack>.yaml < -c overrides, all as strings", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config:\n  demo:timeoutSeconds: 60\n  aws:region: us-east-2\n" });
    assert.deepEqual(resolveStackConfig(demo, "dev"), {
      "demo:timeoutSeconds": "60",
      "demo:verbose": "false",
      "demo:failureRate": "0.5",
      "demo:regions": '["a","b"]',
      "aws:region": "us-east-2",
    });
    const overridden = resolveStackConfig(demo, "dev", ["timeoutSeconds=5", "demo:verbose=true", "aws:region=ap-south-1", "failureRate=0"]);
    assert.equal(overridden["demo:timeoutSeconds"], "5");
    assert.equal(overridden["demo:verbose"], "true");
    assert.equal(overridden["aws:region"], "ap-south-1");
    assert.equal(overridden["demo:failureRate"], "0");
  });

  it("puts a bare -c key in the project's namespace and keeps everything after the first '=' as the value", () => {
    const demo = make({ "Pulumi.yaml": "name: demo\nruntime: nodejs\n", "Pulumi.dev.yaml": "config: {}\n" });
    assert.deepEqual(resolveStackConfig(demo, "dev", ["message=a=b", "other:key="]), { "demo:message": "a=b", "other:key": "" });
  });

  it("rejects a -c value that does not match the declared type, naming the key, type and value", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config: {}\n" });
    assert.throws(() => resolveStackConfig(demo, "dev", ["heartbeatSeconds=3.5"]), {
      name: "ConfigError",
      message: '-c "heartbeatSeconds": must be of type integer (declared in Pulumi.yaml), got "3.5"',
    });
    assert.throws(() => resolveStackConfig(demo, "dev", ["verbose=yes"]), /"verbose": must be of type boolean .* got "yes"/);
    assert.throws(() => resolveStackConfig(demo, "dev", ["regions=a,b"]), /"regions": must be of type array/);
  });

  it("rejects a stack file value that does not match the declared type", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config:\n  demo:timeoutSeconds: soon\n" });
    assert.throws(() => resolveStackConfig(demo, "dev"), /Pulumi\.dev\.yaml: key "timeoutSeconds": must be of type integer/);
  });

  it("rejects an undeclared project key (a typo) once the project declares its config, listing the declared keys", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config: {}\n" });
    assert.throws(
      () => resolveStackConfig(demo, "dev", ["heartbeatSecond=3"]),
      /"heartbeatSecond": the project "demo" declares no such config key \(declared: failureRate, heartbeatSeconds, regions, timeoutSeconds, verbose\)/,
    );
  });

  it("rejects malformed -c arguments and keys", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config: {}\n" });
    assert.throws(() => resolveStackConfig(demo, "dev", ["timeoutSeconds"]), /-c expects key=value, got "timeoutSeconds"/);
    assert.throws(() => resolveStackConfig(demo, "dev", ["=5"]), /-c expects key=value/);
    assert.throws(() => resolveStackConfig(demo, "dev", ["a:b:c=1"]), /"a:b:c" is not a valid configuration key/);
  });

  it("names the stacks that exist when the requested one has no Pulumi.<stack>.yaml", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config: {}\n", "Pulumi.prod.yaml": "config: {}\n" });
    assert.throws(
      () => resolveStackConfig(demo, "staging"),
      /No stack "staging": Pulumi\.staging\.yaml not found in .* \(stacks: dev, prod\)/,
    );
  });

  it("refuses encrypted (secure) values, which cannot be decrypted offline, and says how to pass them", () => {
    const demo = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config:\n  demo:failureRate:\n    secure: v1:abc\n" });
    assert.throws(
      () => resolveStackConfig(demo, "dev"),
      /"demo:failureRate" is an encrypted secret.*pass it with -c demo:failureRate=VALUE/,
    );
  });

  it("reads the project name and the program path (Pulumi.yaml main, else package.json main, else index.ts)", () => {
    const withMain = make({ "Pulumi.yaml": "name: a\nruntime: nodejs\nmain: src/app.ts\n" });
    assert.equal(withMain.main, path.join(withMain.directory, "src/app.ts"));
    const withPackage = make({ "Pulumi.yaml": "name: b\nruntime:\n  name: nodejs\n", "package.json": '{"main": "program.ts"}' });
    assert.equal(withPackage.main, path.join(withPackage.directory, "program.ts"));
    assert.equal(make({ "Pulumi.yaml": "name: c\nruntime: nodejs\n" }).main.endsWith(`${path.sep}index.ts`), true);
  });

  it("rejects a project file that is not a Node.js project, or a default on another namespace's key", () => {
    assert.throws(() => make({ "Pulumi.yaml": "name: p\nruntime: python\n" }), /runtime "python" is not supported locally/);
    assert.throws(
      () => make({ "Pulumi.yaml": "name: p\nruntime: nodejs\nconfig:\n  aws:region:\n    default: us-east-1\n" }),
      /cannot have a default; use "value"/,
    );
    assert.throws(
      () => readProjectFile(os.tmpdir()),
      (error: Error) => error instanceof ConfigError && /No Pulumi.yaml in/.test(error.message),
    );
  });

  it("says where each value came from: a declared default, Pulumi.yaml, the stack file, or -c", () => {
    const loaded = make({ "Pulumi.yaml": PULUMI_YAML, "Pulumi.dev.yaml": "config:\n  demo:heartbeatSeconds: 60\n  demo:verbose: true\n" });
    const sources = new Map<string, string>();
    const config = resolveStackConfig(loaded, "dev", ["verbose=false"], sources);
    assert.equal(config["demo:heartbeatSeconds"], "60");
    assert.deepEqual(Object.fromEntries(sources), {
      "demo:timeoutSeconds": "Pulumi.yaml default",
      "demo:verbose": "-c",
      "demo:failureRate": "Pulumi.yaml default",
      "demo:regions": "Pulumi.yaml default",
      "aws:region": "Pulumi.yaml",
      "demo:heartbeatSeconds": "Pulumi.dev.yaml",
    });
  });
});
