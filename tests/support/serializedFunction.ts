/**
 * Runs the code a function would upload (the `__index.js` of its declared code archive) in its own Node
 * process, the way the Node.js Lambda runtime would: the AWS SDK from NODE_PATH (the runtime bundles it),
 * the endpoint from AWS_ENDPOINT_URL, the declared environment, and no shared config or credentials files.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RecordedResource } from "../mocks";

const REPO = path.resolve(__dirname, "../..");

/** Calls `exports.handler` once per event, in order, in one process (a warm container), printing each outcome. */
const RUNNER = `
// Function logs go to stderr here, so stdout carries only the outcomes.
console.log = (...parts) => process.stderr.write(parts.join(" ") + "\\n");
const { handler } = require(process.argv[2]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk)).on("end", async () => {
  const outcomes = [];
  for (const event of JSON.parse(input)) {
    try {
      outcomes.push({ ok: true, result: await handler(event, { awsRequestId: "00000000-0000-4000-8000-000000000000" }) });
    } catch (error) {
      outcomes.push({ ok: false, errorType: error.name, errorMessage: error.message });
    }
  }
  process.stdout.write(JSON.stringify(outcomes));
});
`;

export type InvocationOutcome = { ok: true; result: any } | { ok: false; errorType: string; errorMessage: string };

export class SerializedFunctions {
  private readonly modulePaths = new Map<string, string>();
  private readonly environments = new Map<string, Record<string, string>>();

  private constructor(private readonly workDirectory: string) {}

  /** Writes each function's `__index.js` (and the runner) under `workDirectory`, which must exist. */
  static async write(functions: readonly RecordedResource[], workDirectory: string): Promise<SerializedFunctions> {
    const written = new SerializedFunctions(workDirectory);
    fs.writeFileSync(path.join(workDirectory, "runner.js"), RUNNER);
    for (const lambda of functions) {
      const assets = await lambda.inputs.code.assets;
      const directory = path.join(workDirectory, lambda.name);
      fs.mkdirSync(directory);
      const modulePath = path.join(directory, "__index.js");
      fs.writeFileSync(modulePath, await assets["__index.js"].text);
      written.modulePaths.set(lambda.name, modulePath);
      written.environments.set(lambda.name, lambda.inputs.environment?.variables ?? {});
    }
    return written;
  }

  /** Runs `events` through one function in one fresh process; `environment` overrides the declared one. */
  run(functionName: string, events: unknown[], endpoint: string, environment: Record<string, string> = {}): Promise<InvocationOutcome[]> {
    const modulePath = this.modulePaths.get(functionName);
    if (!modulePath) throw new Error(`no function named ${functionName}; known: ${[...this.modulePaths.keys()].join(", ")}`);
    const child = spawn(process.execPath, [path.join(this.workDirectory, "runner.js"), modulePath], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_PATH: path.join(REPO, "node_modules"),
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDLOCALTEST",
        AWS_SECRET_ACCESS_KEY: "local-secret",
        AWS_CONFIG_FILE: path.join(this.workDirectory, "no-config"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(this.workDirectory, "no-credentials"),
        ...this.environments.get(functionName),
        ...environment,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.end(JSON.stringify(events));
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0 || stdout === "") reject(new Error(`${functionName}: handler process exited with ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout));
      });
    });
  }
}
