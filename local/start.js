/**
 * `npm start`'s entry: runs local/cli.ts with TypeScript transpiled by esbuild, each file once, cached on disk
 * under .local/transpiled/ (keyed by the file's path and content, and the transform's settings). Loading the runtime through ts-node
 * compiled some 80 files with the TypeScript compiler on every start: about 3.5 s of CPU, most of a warm
 * start (bench/start.ts prints the split). Plain JavaScript so that nothing has to be compiled to load it.
 * Type checking stays with `npm run typecheck` / `npm run lint`, as ts-node's transpile-only mode did.
 */
/* global require, __dirname, process */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const REPOSITORY = path.resolve(__dirname, "..");
const CACHE = path.join(REPOSITORY, ".local", "transpiled");
// The tsconfig settings that change emitted JavaScript (class field semantics follow target ES2022).
const COMPILER_OPTIONS = JSON.parse(fs.readFileSync(path.join(REPOSITORY, "tsconfig.json"), "utf8")).compilerOptions;
// `import()` becomes `require()`, as tsc's CommonJS output does: left as is, Node would hand it to its ES module
// loader, which resolves no extensionless path and never sees the `.ts` hook below (cli.ts loads the runtime so).
const TRANSFORM_OPTIONS = { loader: "ts", format: "cjs", target: "node20", sourcemap: "inline", supported: { "dynamic-import": false } };
let esbuild;

function transpile(source, filename) {
  const key = crypto
    .createHash("sha256")
    .update(JSON.stringify([TRANSFORM_OPTIONS, COMPILER_OPTIONS]))
    .update(filename)
    .update("\0")
    .update(source)
    .digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    esbuild ??= require("esbuild");
    const { code } = esbuild.transformSync(source, {
      ...TRANSFORM_OPTIONS,
      sourcefile: filename,
      tsconfigRaw: { compilerOptions: COMPILER_OPTIONS },
    });
    fs.mkdirSync(CACHE, { recursive: true });
    const temporary = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, code);
    fs.renameSync(temporary, cached);
    return code;
  }
}

Module._extensions[".ts"] = (module, filename) => module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
process.setSourceMapsEnabled(true);

require("./cli.ts").main();
