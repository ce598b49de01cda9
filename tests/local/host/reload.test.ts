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

/**
 * Watch mode over a fake program source: each `save` hands the next of `programs` to watchAndReload and resolves
 * with the log line that ended that reload.
 */
function watching(initial: EvaluatedProgram, programs: EvaluatedProgram[], services: ReadonlyMap<string, LocalService>) {
  let current = initial;
  let onChange: (files: string[]) => void = () => undefined;
  const source = {
    evaluate: async () => programs.shift()!,
    watch: (listener: (files: string[]) => void) => (onChange = listener),
  } as unknown as ProgramSource;
  const lines: string[] = [];
  const watcher = watchAndReload({
    source,
    servicesByType: services,
    current: () => current,
    replace: (next) => (current = next),
    log: (_source, line) => lines.push(line),
  });
  let reloads = 0;
  const save = (file: string) =>
    new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const wanted = ++reloads;
      onChange([file]);
      const check = setInterval(() => {
        const ended = lines.filter((line) => /^(reloaded in|reload applied)/.test(line));
        if (ended.length >= wanted) {
          clearInterval(check);
          resolve(ended[wanted - 1]);
        } else if (Date.now() - started > 5000) {
          clearInterval(check);
          reject(new Error(`reload ${wanted} did not end; logged: ${lines.join(" | ")}`));
        }
      }, 5);
    });
  return { save, names: () => current.resources.map(({ name }) => name), current: () => current, close: () => watcher.close() };
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
    const edited = program([resource("a"), resource("b"), resource("c")]);
    const watch = watching(program([resource("a")]), [edited, edited], services);
    try {
      const partial = await watch.save("index.ts");
      assert.match(partial, /^reload applied except 1 resource.*cannot make b/);
      assert.deepEqual(provisioned, ["c"]);
      assert.deepEqual(watch.names(), ["a", "c"]);

      refuse.clear();
      assert.match(await watch.save("handlers/other.ts"), /^reloaded in \d+ ms/);
      assert.deepEqual(provisioned, ["c", "b"]);
      assert.deepEqual(watch.names(), ["a", "b", "c"]);
    } finally {
      await watch.close();
    }
  });

  it("provisions a changed resource that failed again when the edit is reverted (its service may have removed the old one)", async () => {
    const refuse = new Set(["b"]);
    const { services, provisioned, deprovisioned } = recordingService(refuse);
    const original = program([resource("a"), resource("b", { version: 1 })]);
    const watch = watching(original, [program([resource("a"), resource("b", { version: 2 })]), original], services);
    try {
      await watch.save("index.ts");
      refuse.clear();
      assert.match(await watch.save("index.ts"), /^reloaded in \d+ ms/);
      assert.deepEqual([deprovisioned, provisioned], [["b", "b"], ["b"]]);
      assert.deepEqual(watch.current().resources.find(({ name }) => name === "b")?.inputs, { version: 1 });
    } finally {
      await watch.close();
    }
  });

  it("keeps a changed resource that failed to provision as its previous declaration, so the next save replaces or removes it", async () => {
    const refuse = new Set(["b"]);
    const { services, provisioned, deprovisioned } = recordingService(refuse);
    const edited = program([resource("a"), resource("b", { version: 2 })]);
    const watch = watching(program([resource("a"), resource("b", { version: 1 })]), [edited, edited, program([resource("a")])], services);
    const inputsOfB = () => watch.current().resources.find(({ name }) => name === "b")?.inputs;
    try {
      await watch.save("index.ts");
      assert.deepEqual(inputsOfB(), { version: 1 });
      refuse.clear();
      await watch.save("index.ts");
      // Replaced again: the kept previous declaration goes, then the new one is provisioned.
      assert.deepEqual([deprovisioned, provisioned], [["b", "b"], ["b"]]);
      assert.deepEqual(inputsOfB(), { version: 2 });
      await watch.save("index.ts");
      assert.deepEqual(deprovisioned, ["b", "b", "b"]);
      assert.deepEqual(watch.names(), ["a"]);
    } finally {
      await watch.close();
    }
  });
});
