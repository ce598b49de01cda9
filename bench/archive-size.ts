/**
 * Code archive sizes: what each function of the stack uploads (the handler alone, `@aws-sdk/*` left to the
 * Lambda runtime) next to what `aws.lambda.CallbackFunction` uploads for the same handler with default options
 * (every production dependency packed), plus the wall time of the deploy unit tests.
 *
 *   TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register bench/archive-size.ts
 *
 * Sizes are computed without writing a zip: a zip holds each file deflated plus fixed headers
 * (30 + 46 bytes + twice the name per entry, 22 at the end), so the sum is the upload's size within a few bytes.
 * https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (sections 4.3.7, 4.3.12, 4.3.16)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { deflateRawSync } from "node:zlib";
import { processAndCheckCompletionFactory } from "../handlers/processAndCheckCompletion";
import { splitDocFactory } from "../handlers/splitDoc";
import { declare, findAll, loadProgram } from "../tests/mocks";

const REPO = path.resolve(__dirname, "..");

interface ArchiveSize {
  files: number;
  bytes: number;
  zipBytes: number;
}

/** Sizes every file of an AssetArchive's entries (strings, files, directories), as the zip Pulumi uploads would hold them. */
async function archiveSize(assets: Record<string, any>): Promise<ArchiveSize> {
  const size: ArchiveSize = { files: 0, bytes: 0, zipBytes: 22 };
  const add = (name: string, content: Buffer) => {
    size.files += 1;
    size.bytes += content.length;
    size.zipBytes += deflateRawSync(content).length + 30 + 46 + 2 * Buffer.byteLength(name);
  };
  const walk = (name: string, filePath: string) => {
    const stat = fs.statSync(filePath);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(filePath)) walk(`${name}/${entry}`, path.join(filePath, entry));
    else if (stat.isFile()) add(name, fs.readFileSync(filePath));
  };
  for (const [name, asset] of Object.entries(assets)) {
    if (asset instanceof pulumi.asset.StringAsset) add(name, Buffer.from(await (asset as any).text, "utf8"));
    else if (asset instanceof pulumi.asset.FileAsset || asset instanceof pulumi.asset.FileArchive)
      walk(name, path.resolve(REPO, await (asset as any).path));
    else throw new Error(`archive entry ${name} is neither a string, a file nor a directory`);
  }
  return size;
}

function kilobytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

async function main(): Promise<void> {
  const program = await loadProgram();
  // The demo's functions and their factories (the pipeline's functions are measured by its own benchmark).
  const factories: Record<string, aws.lambda.CallbackFactory<any, any>> = {
    "callback-split-doc": splitDocFactory,
    "callback-wait-for-completion-receiver": processAndCheckCompletionFactory,
  };
  const functions = findAll(program.resources, "aws:lambda/function:Function").filter((lambda) => lambda.name in factories);

  // The same handler factories, packed the way CallbackFunction does when given no codePathOptions.
  const defaults = await declare(() =>
    functions.map(
      (lambda) =>
        new aws.lambda.CallbackFunction(`${lambda.name}-default`, {
          callbackFactory: factories[lambda.name],
          role: "arn:aws:iam::123456789012:role/bench",
          runtime: "nodejs24.x",
        }),
    ),
  );

  console.log("Code archive per function: this stack vs CallbackFunction's default packing (zip size, uncompressed in brackets)");
  console.log(`${"function".padEnd(20)} ${"this stack".padEnd(26)} ${"default options".padEnd(30)} ratio (zip)`);
  for (const lambda of functions) {
    const ours = await archiveSize(await lambda.inputs.code.assets);
    const fallback = findAll(defaults.resources, "aws:lambda/function:Function").find(
      (resource) => resource.name === `${lambda.name}-default`,
    )!;
    const theirs = await archiveSize(await fallback.inputs.code.assets);
    console.log(
      `${lambda.name.padEnd(20)} ${`${kilobytes(ours.zipBytes)} [${kilobytes(ours.bytes)}, ${ours.files} file]`.padEnd(26)} ` +
        `${`${kilobytes(theirs.zipBytes)} [${kilobytes(theirs.bytes)}, ${theirs.files} files]`.padEnd(30)} ` +
        `1 : ${Math.round(theirs.zipBytes / ours.zipBytes)}`,
    );
  }

  const started = process.hrtime.bigint();
  const run = spawnSync(
    process.execPath,
    [
      require.resolve("mocha/bin/mocha.js"),
      "--no-config",
      "-r",
      "ts-node/register",
      "--extension",
      "ts",
      "--timeout",
      "20000",
      "--reporter",
      "dot",
      "tests/deploy/**/*.test.ts",
    ],
    { cwd: REPO, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, encoding: "utf8" },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const passing = /(\d+) passing/.exec(run.stdout)?.[1] ?? "0";
  const failing = /(\d+) failing/.exec(run.stdout)?.[1] ?? "0";
  console.log(
    `\nDeploy unit tests (tests/deploy, mocha + ts-node transpile-only): ${passing} passing, ${failing} failing in ${seconds.toFixed(1)} s wall time`,
  );
  if (run.status !== 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
