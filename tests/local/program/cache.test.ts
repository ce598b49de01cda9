import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCache, writeCache, type CacheInputs } from "../../../local/program/cache";
import type { EvaluatedProgram } from "../../../local/program/evaluator";

describe("program evaluation cache", () => {
  let project: string;
  let file: string;
  let inputs: CacheInputs;
  const savedRegion = process.env.AWS_REGION;
  const program = { resources: [], outputs: { startUrl: "http://example" } } as unknown as EvaluatedProgram;

  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "cache-test-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: demo\nruntime: nodejs\n");
    fs.writeFileSync(path.join(project, "index.ts"), "export const a = 1;\n");
    file = path.join(project, ".local", "dev", "program.json");
    inputs = { projectDirectory: project, stack: "dev", configOverrides: [] };
    delete process.env.AWS_REGION;
  });
  afterEach(() => {
    fs.rmSync(project, { recursive: true, force: true });
    if (savedRegion === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = savedRegion;
  });

  it("answers the kept evaluation while nothing that shapes it changed", () => {
    writeCache(file, inputs, program, ["index.ts"]);
    assert.deepEqual(readCache(file, inputs), { program, sources: ["index.ts"] });
  });

  it("is not used after a source, a stack file or a -c override changed", () => {
    writeCache(file, inputs, program, ["index.ts"]);
    assert.equal(readCache(file, { ...inputs, configOverrides: ["timeoutSeconds=5"] }), undefined);
    fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config: {}\n");
    assert.equal(readCache(file, inputs), undefined);
    writeCache(file, inputs, program, ["index.ts"]);
    fs.writeFileSync(path.join(project, "index.ts"), "export const a = 2;\n");
    assert.equal(readCache(file, inputs), undefined);
  });

  it("is not used after AWS_REGION changed (it names the region of every ARN when the stack sets none)", () => {
    process.env.AWS_REGION = "us-east-1";
    writeCache(file, inputs, program, ["index.ts"]);
    assert.ok(readCache(file, inputs));
    process.env.AWS_REGION = "eu-west-1";
    assert.equal(readCache(file, inputs), undefined);
    delete process.env.AWS_REGION;
    assert.equal(readCache(file, inputs), undefined);
  });

  it("is not used when a listed source is gone", () => {
    writeCache(file, inputs, program, ["index.ts"]);
    fs.rmSync(path.join(project, "index.ts"));
    assert.equal(readCache(file, inputs), undefined);
  });
});
