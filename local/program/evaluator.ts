/**
 * Evaluates a program in a child process (childEvaluation.ts) and returns what it declared as data. A child
 * per evaluation is what lets the runtime evaluate the program again on every edit: Pulumi's runtime state
 * and Node's module cache are per process, and a fresh process sees the edited files.
 *
 * The child evaluates against a placeholder origin, replaced here by the real one, so one evaluation (and
 * one cache entry, cache.ts) serves every port.
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import type { DeclaredResource } from "../common/service";
import type { FakeCloud } from "../cloud/fakeState";

/** Stands for the local origin in an evaluation; never a real origin (no host is named so). */
export const ORIGIN_PLACEHOLDER = "http://local-origin.invalid";

/** A declared resource plus what the engine knows about its kind. */
export interface EvaluatedResource extends DeclaredResource {
  /** A provider-managed (custom) resource, as opposed to a component. */
  custom: boolean;
  /** A multi-language component (e.g. from @pulumi/awsx) whose children a provider plugin would create. */
  remote: boolean;
}

/** What the program declared, as data (assets and archives in Pulumi's wire form). */
export interface EvaluatedProgram {
  stack: string;
  /** The configuration the program saw ("namespace:key" → string). */
  config: Record<string, string>;
  /** Where each config value came from ("namespace:key" → "Pulumi.yaml default" | "Pulumi.yaml" | "Pulumi.<stack>.yaml" | "-c"). */
  configSources: Record<string, string>;
  cloud: FakeCloud;
  /** In declaration order. */
  resources: EvaluatedResource[];
  /** Stack outputs, fully resolved, in export order. */
  outputs: Record<string, unknown>;
}

export type EvaluationReply =
  | { ok: true; program: EvaluatedProgram; sources: string[] }
  /** `location`: "handlers/x.ts:12", the project file the error comes from, when known. */
  | { ok: false; message: string; sources: string[]; location?: string };

export interface EvaluationOptions {
  projectDirectory: string;
  stack: string;
  configOverrides?: readonly string[];
  accountId?: string;
  /** The program's console output, line by line. */
  log(line: string): void;
}

/** The program failed to evaluate; `location` names the file (and line) when it is known. */
export class ProgramEvaluationError extends Error {
  override readonly name = "ProgramEvaluationError";
  constructor(
    message: string,
    readonly location: string | undefined,
    /** Project files the failed evaluation had required: still worth watching. */
    readonly sources: readonly string[],
  ) {
    super(location && !message.includes(location) ? `${location}: ${message}` : message);
  }
}

/** Evaluates the program in a fresh child process; resolves with the declared resources and the project files it required. */
export function evaluateInChild(options: EvaluationOptions): Promise<{ program: EvaluatedProgram; sources: string[] }> {
  const child = fork(path.join(__dirname, "childEvaluation.ts"), [], {
    cwd: options.projectDirectory,
    execArgv: ["-r", require.resolve("ts-node/register")],
    // Type checking is the editor's and `tsc`'s job; the runtime only needs the JavaScript (as `npm start` runs).
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) options.log(line);
    });
  }
  return new Promise((resolve, reject) => {
    let reply: EvaluationReply | undefined;
    child.once("message", (message) => (reply = message as EvaluationReply));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (!reply)
        return reject(
          new ProgramEvaluationError(`the program's evaluation ended without an answer (${signal ?? `exit code ${code}`})`, undefined, []),
        );
      if (!reply.ok) return reject(new ProgramEvaluationError(reply.message, reply.location, reply.sources));
      resolve({ program: reply.program, sources: reply.sources });
    });
    child.send({
      projectDirectory: options.projectDirectory,
      stack: options.stack,
      configOverrides: options.configOverrides,
      accountId: options.accountId,
      origin: ORIGIN_PLACEHOLDER,
    });
  });
}

/** The evaluation with the placeholder origin replaced by `origin` everywhere (outputs such as startUrl, API endpoints). */
export function withOrigin(program: EvaluatedProgram, origin: string): EvaluatedProgram {
  return JSON.parse(JSON.stringify(program).split(ORIGIN_PLACEHOLDER).join(origin));
}
