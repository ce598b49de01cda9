import * as assert from "node:assert/strict";
import type { DeclaredResource, LocalService } from "../../../local/common/service";
import type { EvaluatedProgram, EvaluatedResource } from "../../../local/program/evaluator";
import type { ProgramSource } from "../../../local/program/source";
import { applyProgramChange } from "../../../local/host/reload";
import { watchAndReload } from "../../../local/host/watchAndReload";

const TYPE = "test:index/thing:Thing";

function resource(name: string, inputs: Record<string, unknown> = {}): EvaluatedResource {
  return {
    urn: `urn:pulumi:dev::demo::${TYPE}::${name}`,
    type: TYPE,
    name,
    id: name,
    inputs,
    state: {},
    custom: true,
    remote: false,
  } as EvaluatedResource;
}

/** A service that records what it was asked, and refuses to provision the names in `refuse`. */
function recordingService(refuse: Set<string>) {
  const provisioned: string[] = [];
  const deprovisioned: string[] = [];
  const service = {
    resourceTypes: [TYPE],
    provision: async (declared: DeclaredResource) => {
      if (refuse.has(declared.name)) throw new Error(`cannot make ${declared.name}`);
      provisioned.push(declared.name);
    },
    deprovision: async (declared: DeclaredResource) => void deprovisioned.push(declared.name),
  } as unknown as LocalService;
  return { service, provisioned, deprovisioned, services: new Map([[TYPE, service]]) };
}

function program(resources: EvaluatedResource[]): EvaluatedProgram {
  return { stack: "dev", config: {}, configSources: {}, resources, outputs: {} } as unknown as EvaluatedProgram;
}

describe("watch mode: applying an edited program", () => {
  it("provisions every resource after one that fails, and returns the failure with the resource's type and name", async () => {
    const { services, provisioned } = recordingService(new Set(["b"]));
    const change = await applyProgramChange(services, [], [resource("a"), resource("b"), resource("c")]);
    assert.deepEqual(provisioned, ["a", "c"]);
    assert.deepEqual(
      change.failed.map(({ resource: failed, error }) => [failed.name, error.message]),
      [["b", `${TYPE} "b": cannot make b`]],
    );
    assert.equal(change.diff.added.length, 3);
  });

  it("provisions a resource that failed at one reload again at the next, though the program did not change it", async () => {
    const refuse = new Set(["b"]);
    const { services, provisioned } = recordingService(refuse);
    let current = program([resource("a")]);
    const edited = program([resource("a"), resource("b"), resource("c")]);
    let onChange: (files: string[]) => void = () => undefined;
    const source = {
      evaluate: async () => edited,
      watch: (listener: (files: string[]) => void) => (onChange = listener),
    } as unknown as ProgramSource;
    const lines: string[] = [];
    const logged = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const started = Date.now();
        const check = setInterval(() => {
          const line = lines.find((text) => pattern.test(text));
          if (line || Date.now() - started > 5000) clearInterval(check);
          if (line) resolve(line);
          else if (Date.now() - started > 5000) reject(new Error(`no log line matched ${pattern}; logged: ${lines.join(" | ")}`));
        }, 5);
      });
    const watcher = watchAndReload({
      source,
      servicesByType: services,
      current: () => current,
      replace: (next) => (current = next),
      log: (_source, line) => lines.push(line),
    });
    try {
      onChange(["index.ts"]);
      const partial = await logged(/^reload applied except 1 resource/);
      assert.match(partial, /cannot make b/);
      assert.deepEqual(
        provisioned,
        ["b", "c"].filter((name) => name !== "b"),
      );
      assert.deepEqual(
        current.resources.map(({ name }) => name),
        ["a", "c"],
      );

      refuse.clear();
      lines.length = 0;
      onChange(["handlers/other.ts"]);
      await logged(/^reloaded in \d+ ms/);
      assert.deepEqual(provisioned, ["c", "b"]);
      assert.deepEqual(
        current.resources.map(({ name }) => name),
        ["a", "b", "c"],
      );
    } finally {
      await watcher.close();
    }
  });

  it("keeps a changed resource that failed to provision as its previous declaration, so the next save replaces or removes it", async () => {
    const refuse = new Set(["b"]);
    const { services, provisioned, deprovisioned } = recordingService(refuse);
    let current = program([resource("a"), resource("b", { version: 1 })]);
    const programs = [
      program([resource("a"), resource("b", { version: 2 })]),
      program([resource("a"), resource("b", { version: 2 })]),
      program([resource("a")]),
    ];
    let onChange: (files: string[]) => void = () => undefined;
    const source = {
      evaluate: async () => programs.shift()!,
      watch: (listener: (files: string[]) => void) => (onChange = listener),
    } as unknown as ProgramSource;
    let reloads = 0;
    const reloaded = () =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const wanted = ++reloads;
        const check = setInterval(() => {
          if (lines.filter((line) => /^(reloaded in|reload applied except)/.test(line)).length >= wanted) {
            clearInterval(check);
            resolve();
          } else if (Date.now() - started > 5000) {
            clearInterval(check);
            reject(new Error(`reload ${wanted} did not end; logged: ${lines.join(" | ")}`));
          }
        }, 5);
      });
    const lines: string[] = [];
    const watcher = watchAndReload({
      source,
      servicesByType: services,
      current: () => current,
      replace: (next) => (current = next),
      log: (_source, line) => lines.push(line),
    });
    try {
      onChange(["index.ts"]);
      await reloaded();
      assert.deepEqual(current.resources.find(({ name }) => name === "b")?.inputs, { version: 1 });
      refuse.clear();
      onChange(["index.ts"]);
      await reloaded();
      // Replaced again: the kept previous declaration goes, then the new one is provisioned.
      assert.deepEqual([deprovisioned, provisioned], [["b", "b"], ["b"]]);
      assert.deepEqual(current.resources.find(({ name }) => name === "b")?.inputs, { version: 2 });
      onChange(["index.ts"]);
      await reloaded();
      assert.deepEqual(deprovisioned, ["b", "b", "b"]);
      assert.deepEqual(
        current.resources.map(({ name }) => name),
        ["a"],
      );
    } finally {
      await watcher.close();
    }
  });
});
