/**
 * The child process side of evaluating a program (see evaluator.ts): loads it under Pulumi's mocks, turns
 * what it declared into plain data (assets and archives in Pulumi's wire form, local/common/assets.ts), lists
 * the project files it required, and sends all of that to the parent over the IPC channel. One evaluation
 * per process: Pulumi's runtime state is global.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ARCHIVE_SIGNATURE, ASSET_SIGNATURE, SIGNATURE_KEY } from "../common/assets";
import { loadProgram, type LoadProgramOptions } from "./loader";
import type { EvaluationReply } from "./evaluator";

/** Resolves every asset and archive inside `value` (their fields are promises) into Pulumi's wire form. */
async function toData(value: unknown): Promise<unknown> {
  if (pulumi.asset.Asset.isInstance(value)) {
    const asset = value as any;
    const [text, filePath, uri] = await Promise.all([asset.text, asset.path, asset.uri]);
    return { [SIGNATURE_KEY]: ASSET_SIGNATURE, text, path: filePath === undefined ? undefined : path.resolve(filePath), uri };
  }
  if (pulumi.asset.Archive.isInstance(value)) {
    const archive = value as any;
    const [assets, filePath, uri] = (await Promise.all([archive.assets, archive.path, archive.uri])) as [
      Record<string, unknown> | undefined,
      string | undefined,
      string | undefined,
    ];
    const entries =
      assets === undefined
        ? undefined
        : Object.fromEntries(await Promise.all(Object.entries(assets).map(async ([name, entry]) => [name, await toData(entry)] as const)));
    return { [SIGNATURE_KEY]: ARCHIVE_SIGNATURE, assets: entries, path: filePath === undefined ? undefined : path.resolve(filePath), uri };
  }
  if (Array.isArray(value)) return Promise.all((value as unknown[]).map(toData));
  if (value && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([key, entry]) => [key, await toData(entry)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/** Files of the project the program required (its own sources), not packages and not this runtime. */
function programSources(projectDirectory: string): string[] {
  const runtimeDirectory = path.resolve(__dirname, "..");
  return Object.keys(require.cache)
    .filter((file) => file.startsWith(projectDirectory + path.sep))
    .filter((file) => !file.split(path.sep).includes("node_modules") && !file.startsWith(runtimeDirectory + path.sep))
    .map((file) => path.relative(projectDirectory, file))
    .sort();
}

async function evaluate(options: LoadProgramOptions): Promise<EvaluationReply> {
  const program = await loadProgram(options);
  const resources = [];
  for (const resource of program.resources) {
    resources.push({ ...resource, inputs: await toData(resource.inputs), state: await toData(resource.state) });
  }
  return {
    ok: true,
    program: {
      stack: program.stack,
      config: program.config,
      configSources: program.configSources,
      cloud: program.cloud,
      resources: resources as any,
      outputs: program.outputs,
    },
    sources: programSources(path.resolve(options.projectDirectory)),
  };
}

if (require.main === module) {
  process.once("message", (options: LoadProgramOptions) => {
    evaluate(options)
      .catch((error): EvaluationReply => {
        const projectDirectory = path.resolve(options.projectDirectory);
        return {
          ok: false,
          message: String(error?.message ?? error),
          sources: programSources(projectDirectory),
          location: locate(error, projectDirectory),
        };
      })
      .then((reply) => process.send!(reply, () => process.exit(0)));
  });
}

/**
 * The project file (and line) an evaluation error comes from: the first stack frame in the project, or the
 * file a TypeScript diagnostic names ("handlers/x.ts(3,5): error TS1005").
 */
function locate(error: unknown, projectDirectory: string): string | undefined {
  const cause = (error as any)?.cause ?? error;
  const texts = [String(cause?.diagnosticText ?? ""), String(cause?.message ?? ""), String(cause?.stack ?? "")];
  for (const text of texts) {
    const diagnostic = /^([^\s(]+\.[cm]?[jt]sx?)\((\d+),(\d+)\)/m.exec(text);
    if (diagnostic) return `${path.relative(projectDirectory, path.resolve(projectDirectory, diagnostic[1]))}:${diagnostic[2]}`;
    for (const match of text.matchAll(/(\/[^\s():]+\.[cm]?[jt]sx?):(\d+)/g)) {
      const file = match[1];
      if (file.startsWith(projectDirectory + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`))
        return `${path.relative(projectDirectory, file)}:${match[2]}`;
    }
  }
  return undefined;
}
