/**
 * Where `npm start`'s time to ready goes, and what watch mode's reload costs, on a temporary copy of the
 * project (so the repository's own .local/ is left alone). In one run, side by side:
 * - loading the runtime's code (until the CLI prints "Listening on": the runtime is imported, the state folder
 *   open, the port bound): through ts-node (the TypeScript compiler, every start) and through local/start.js
 *   (esbuild, each file once, cached in .local/transpiled/);
 * - evaluating the program (Pulumi, @pulumi/aws, closure serialization) in its child process;
 * - start to ready (GET /_local/health answers 200) with the CLI: cold (the previous command, ts-node, no
 *   program cache) and warm (`npm start`'s command, caches filled: the target is at most 1.5 s);
 * - reload: from saving an edited handler file to the "reloaded in" log line.
 * Wall time on a shared machine swings with the load; CPU time of the process (user + system) is the steadier
 * figure, and both are printed. Functions run on this machine's Node (no Node download in the figures).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { evaluateInChild } from "../local/program/evaluator";
import { treeCpu } from "./processCpu";

const REPOSITORY = path.resolve(__dirname, "..");
const PROGRAM_FILES = ["index.ts", "components", "handlers", "workflow", "Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"];
const WARM_RUNS = Number(process.env.START_WARM_RUNS ?? 3);

interface Run {
  wallMs: number;
  cpuMs: number;
  output: string;
}

/** CPU time (user + system) of a live process, from /proc (Linux; NaN elsewhere). */
function cpuMsOf(pid: number): number {
  return (treeCpu(pid)?.own ?? NaN) * 1000;
}

/** Ready: GET /_local/health on the origin the CLI printed answers 200 (the runtime has loaded and restored). */
const HEALTHY = "health";
const LISTENING = /Listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** Polls the runtime's health endpoint until it answers 200 (503 while loading or restoring). */
async function healthy(origin: string, child: ReturnType<typeof spawn>): Promise<void> {
  while (child.exitCode === null) {
    const answer = await fetch(`${origin}/_local/health`).catch(() => undefined);
    if (answer?.status === 200) return;
    await answer?.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs a command until it is ready (a line matching `ready` is printed, or with HEALTHY its health endpoint
 * answers 200); reports wall and CPU time to that point, then ends it.
 */
function runUntil(
  args: string[],
  ready: RegExp | typeof HEALTHY,
  env: NodeJS.ProcessEnv = {},
  afterReady?: (run: Run, child: ReturnType<typeof spawn>) => Promise<void>,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: REPOSITORY,
      env: { ...process.env, NO_COLOR: "1", LOCAL_LAMBDA_NODE: "machine", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let done = false;
    let polling = false;
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (done) return;
      if (ready === HEALTHY) {
        const origin = LISTENING.exec(output)?.[1];
        if (!origin || polling) return;
        polling = true;
        void healthy(origin, child).then(readied);
        return;
      }
      if (ready.test(output)) readied();
    };
    const readied = () => {
      if (done || child.exitCode !== null) return;
      done = true;
      const run = { wallMs: performance.now() - started, cpuMs: cpuMsOf(child.pid!), output };
      void (afterReady?.(run, child) ?? Promise.resolve()).then(
        () => {
          child.kill("SIGTERM");
          child.once("exit", () => resolve({ ...run, output }));
        },
        (error) => {
          child.kill("SIGKILL");
          reject(error);
        },
      );
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      if (!done) reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
  });
}

function copyProject(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bench-start-"));
  for (const file of PROGRAM_FILES) fs.cpSync(path.join(REPOSITORY, file), path.join(directory, file), { recursive: true });
  fs.symlinkSync(path.join(REPOSITORY, "node_modules"), path.join(directory, "node_modules"), "dir");
  return directory;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const row = (label: string, run: { wallMs: number; cpuMs: number }) =>
  console.log(`${label.padEnd(62)} wall ${seconds(run.wallMs).padStart(8)}   CPU ${seconds(run.cpuMs).padStart(8)}`);
const median = (runs: Run[], key: "wallMs" | "cpuMs") =>
  [...runs].map((run) => run[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];

async function main() {
  const project = copyProject();
  try {
    const tsNode = ["-r", "ts-node/register", "local/cli.ts"];
    const esbuildStart = ["local/start.js"];
    const tsEnv = { TS_NODE_TRANSPILE_ONLY: "true" };
    console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);

    const cli = (command: string[]) => [...command, "-C", project, "--port", "0", "--no-watch"];
    console.log('\nLoading the runtime\'s code (until "Listening on": runtime imported, state folder open, port bound)');
    row("  ts-node (TypeScript compiler, every start)", await runUntil(cli(tsNode), LISTENING, tsEnv));
    await runUntil(cli(esbuildStart), LISTENING); // fills .local/transpiled if needed
    row("  local/start.js (esbuild, transpile cache filled)", await runUntil(cli(esbuildStart), LISTENING));

    console.log("\nEvaluating the program (Pulumi, @pulumi/aws, closure serialization) in its child process");
    const evaluationStarted = performance.now();
    const cpuBefore = process.cpuUsage();
    const { program } = await evaluateInChild({ projectDirectory: project, stack: "dev", log: () => undefined });
    const evaluationMs = performance.now() - evaluationStarted;
    const parentCpuMs = (process.cpuUsage(cpuBefore).user + process.cpuUsage(cpuBefore).system) / 1000;
    console.log(
      `  ${program.resources.length} resources; wall ${seconds(evaluationMs)} (the child's CPU is not counted here; parent ${seconds(parentCpuMs)})`,
    );

    const ready = HEALTHY;
    console.log("\nStart to ready (GET /_local/health answers 200), the CLI on a copy of the project");
    fs.rmSync(path.join(project, ".local", "dev", "program.json"), { force: true });
    const cold = await runUntil(cli(tsNode), ready, tsEnv);
    row("  cold: ts-node, program evaluated (CPU: the runtime process only)", cold);
    const warmTsNode = await runUntil(cli(tsNode), ready, tsEnv);
    row("  ts-node, program from the cache", warmTsNode);
    const warm: Run[] = [];
    for (let run = 0; run < WARM_RUNS; run++) warm.push(await runUntil(cli(esbuildStart), ready));
    if (!warm.every((run) => run.output.includes("reused"))) throw new Error(`a warm start did not use the cache:\n${warm[0].output}`);
    row(`  warm: npm start (local/start.js, caches filled), median of ${WARM_RUNS}`, {
      wallMs: median(warm, "wallMs"),
      cpuMs: median(warm, "cpuMs"),
    });
    console.log(`  warm start over cold start (CPU of the runtime process): ${(median(warm, "cpuMs") / cold.cpuMs).toFixed(2)}`);

    console.log('\nReload after an edit (watch mode): save a handler file → "reloaded in" logged');
    const handler = path.join(project, "handlers", "splitDoc.ts");
    const original = fs.readFileSync(handler, "utf8");
    await runUntil([...esbuildStart, "-C", project, "--port", "0"], ready, {}, async (_run, child) => {
      let output = "";
      const edited = performance.now();
      const reloaded = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reload after 300 s:\n${output}`)), 300_000);
        child.stdout!.on("data", (chunk) => {
          output += chunk;
          const match = /\[reload\] (reloaded in (\d+) ms: .*|the program failed.*)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      // A change inside the handler's code (a comment would not change the serialized function).
      const changed = original.replace("document must be a string of text", "document must be a string of text (edited)");
      if (changed === original) throw new Error(`bench/start.ts: the edit no longer applies to ${handler}`);
      fs.writeFileSync(handler, changed);
      const line = await reloaded;
      console.log(`  edit to reloaded: wall ${seconds(performance.now() - edited)}; the runtime logged "${line}"`);
    });
    fs.writeFileSync(handler, original);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
