/**
 * Runs the benchmarks one after another, each in its own Node process so that one's memory and warm caches
 * do not colour the next one's figures. `npm run bench` runs all; `npm run bench -- engine e2e` runs some.
 * Benchmarks print figures; none of them asserts a target (targets are judged by people, in the README).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";

const ALL = [
  "archive-size",
  "engine",
  "waiting",
  "e2e",
  "iam",
  "pipeline",
  "sqs",
  "channels",
  "durable",
  "s3-start",
  "console",
  "soak",
  "start",
];

function main(): number {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !ALL.includes(name));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark(s): ${unknown.join(", ")}. Known: ${ALL.join(", ")}`);
    return 2;
  }
  let failures = 0;
  for (const name of requested.length > 0 ? requested : ALL) {
    const file = path.join(__dirname, `${name}.ts`);
    if (!existsSync(file)) {
      console.error(`bench/${name}.ts is missing`);
      failures++;
      continue;
    }
    console.log(`\n=== bench/${name}.ts`);
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ["-r", "ts-node/register", file], {
      stdio: "inherit",
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`=== bench/${name}.ts: exit ${result.status ?? result.signal} after ${seconds.toFixed(1)} s`);
    if (result.status !== 0) failures++;
  }
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
