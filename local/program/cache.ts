/**
 * The evaluation cache: `.local/<stack>/program.json` holds the last evaluation of the program and the key it
 * was made under, a hash of everything that can change what the program declares: the program's own sources
 * (every project file it required, as the evaluation listed them), Pulumi*.yaml, the -c overrides,
 * package-lock.json (the packages, @pulumi/aws's behaviour among them), the Node version, AWS_REGION (the region
 * when the stack sets none: it is in every ARN), and the runtime's own evaluation code. A warm start whose key matches skips Pulumi entirely.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EvaluatedProgram } from "./evaluator";

/** Bumped when the cache file's shape changes. */
const CACHE_FORMAT = 1;

interface CacheFile {
  format: number;
  key: string;
  /** Project-relative paths of the program's sources, as the evaluation listed them. */
  sources: string[];
  program: EvaluatedProgram;
}

export interface CacheInputs {
  projectDirectory: string;
  stack: string;
  configOverrides: readonly string[];
}

/** The runtime's files that shape an evaluation's result. */
const EVALUATION_CODE = ["loader.ts", "childEvaluation.ts", "evaluator.ts", "config.ts", "../cloud/fakeState.ts"].map((file) =>
  path.join(__dirname, file),
);

/** Pulumi.yaml and every stack file: a project's config may change with any of them. */
export function projectFiles(projectDirectory: string): string[] {
  return fs
    .readdirSync(projectDirectory)
    .filter((file) => /^Pulumi(\..+)?\.ya?ml$/.test(file) || file === "package-lock.json")
    .sort();
}

export function cacheKey(inputs: CacheInputs, sources: readonly string[]): string | undefined {
  const hash = createHash("sha256");
  hash.update(
    JSON.stringify({
      format: CACHE_FORMAT,
      node: process.version,
      stack: inputs.stack,
      overrides: inputs.configOverrides,
      // loader.ts reads it when the stack's config names no aws:region.
      region: process.env.AWS_REGION ?? null,
    }),
  );
  const files = [...new Set([...projectFiles(inputs.projectDirectory), ...sources])].map((file) =>
    path.resolve(inputs.projectDirectory, file),
  );
  for (const file of [...files, ...EVALUATION_CODE]) {
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch {
      return undefined; // a source is gone: the program must be evaluated again
    }
    hash.update(`\0${file}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex");
}

export function cachePath(workDirectory: string, stack: string): string {
  return path.join(workDirectory, stack, "program.json");
}

/** The cached evaluation and its sources if its key still holds, else undefined. */
export function readCache(file: string, inputs: CacheInputs): { program: EvaluatedProgram; sources: string[] } | undefined {
  let cached: CacheFile;
  try {
    cached = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  if (cached.format !== CACHE_FORMAT || cached.key !== cacheKey(inputs, cached.sources)) return undefined;
  return { program: cached.program, sources: cached.sources };
}

/** Writes atomically (a rename), so a crash never leaves a torn cache file. */
export function writeCache(file: string, inputs: CacheInputs, program: EvaluatedProgram, sources: string[]): void {
  const key = cacheKey(inputs, sources);
  if (!key) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ format: CACHE_FORMAT, key, sources, program } satisfies CacheFile));
  fs.renameSync(temporary, file);
}
