/**
 * One local execution environment: a Node process running runtime/bootstrap.js with the function's code,
 * handling one invocation at a time and kept warm between invocations, as Lambda does.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
import { fork, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";

const BOOTSTRAP = path.join(__dirname, "runtime", "bootstrap.js");
const LOG_OPEN = Symbol("log open");

export interface FunctionProcessSpec {
  functionName: string;
  functionArn: string;
  nodeExecutable: string;
  codeDirectory: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
}

/** The error object Lambda returns as the payload of a failed invocation. */
export interface FunctionErrorObject {
  errorType?: string;
  errorMessage: string;
  trace?: string[];
}

export type InvocationOutcome =
  | { kind: "result"; payload: string }
  | { kind: "error"; error: FunctionErrorObject }
  /** Killed at the configured timeout. */
  | { kind: "timeout"; error: FunctionErrorObject }
  /** The process ended during the invocation (process.exit, uncaught exception, signal). */
  | { kind: "exit"; error: FunctionErrorObject }
  /**
   * The process was already gone (killed while warm) before the invocation started: nothing ran, so the
   * caller gives the invocation to a fresh process, as Lambda does with an environment it lost.
   */
  | { kind: "notStarted"; error: FunctionErrorObject };

export interface InvocationRequest {
  requestId: string;
  payload: string;
  clientContext?: unknown;
  /**
   * Wait a turn after the result for the log lines still in the pipe, so `log` holds all of them (LogType=Tail).
   * An asynchronous invocation's caller reads no log: its process goes back to the pool at once.
   */
  collectLog?: boolean;
}

type ChildMessage =
  | { type: "ready" }
  | { type: "initError"; error: FunctionErrorObject }
  | { type: "result"; requestId: string; payload: string }
  | { type: "error"; requestId: string; error: FunctionErrorObject };

export class FunctionProcess {
  private readonly child: ChildProcess;
  private readonly initialized: Promise<FunctionErrorObject | undefined>;
  /** Init succeeded: a warm process's invocations skip the init wait (a timer and a race each). */
  private ready = false;
  private current?: { requestId: string; finish(outcome: InvocationOutcome): void };
  private exited = false;
  /** The request id of the last START line the process wrote: the invocation it began. */
  private startedRequestId?: string;
  private killed = false;
  /** Lines written while the current invocation runs (for the Invoke API's LogType=Tail). */
  private invocationLog: string[] = [];
  /** The request whose START line opens invocationLog, or LOG_OPEN once it has. */
  private logOwner?: string | typeof LOG_OPEN;

  constructor(
    private readonly spec: FunctionProcessSpec,
    private readonly log: (line: string) => void,
    private readonly onExit: (process: FunctionProcess) => void,
  ) {
    this.child = fork(BOOTSTRAP, [], {
      execPath: spec.nodeExecutable,
      // Not this process's flags (ts-node, inspector): the function runs as the Lambda runtime would.
      execArgv: [],
      cwd: spec.codeDirectory,
      env: spec.environment,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
      // Its own process group: a terminal's Ctrl-C reaches the runtime, which ends functions in order;
      // should the runtime die instead, the IPC channel closes and bootstrap.js exits.
      detached: true,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.writeLog(line));
    }
    this.initialized = new Promise((resolve) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type === "ready") {
          this.ready = true;
          resolve(undefined);
        } else if (message.type === "initError") resolve(message.error);
        else return;
        this.child.off("message", onMessage);
      };
      this.child.on("message", onMessage);
      this.child.once("exit", (code, signal) =>
        resolve({ errorType: "Runtime.ExitError", errorMessage: `Runtime exited during init: ${exitDescription(code, signal)}` }),
      );
    });
    this.child.on("message", (message: ChildMessage) => {
      if ((message.type === "result" || message.type === "error") && this.current?.requestId === message.requestId) {
        this.current.finish(
          message.type === "result" ? { kind: "result", payload: message.payload } : { kind: "error", error: message.error },
        );
      }
    });
    this.child.once("exit", (code, signal) => {
      this.exited = true;
      if (!this.current) return this.onExit(this);
      // Whether the invocation began is known from its START line, which may still be in the stdout pipe
      // when "exit" fires: wait for the pipes to drain ("close"), or briefly, should a grandchild hold them.
      const drained = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.child.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      void drained.then(() => this.finishOnExit(code, signal));
    });
    this.child.on("error", (error) => this.writeLog(`Function process error: ${error.message}`));
  }

  /** Ends the invocation the exited process held: never begun (no START line yet), or broken off. */
  private finishOnExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.current) {
      const { requestId } = this.current;
      const errorMessage = `RequestId: ${requestId} Error: Runtime exited with error: ${exitDescription(code, signal)}`;
      if (this.startedRequestId !== requestId) {
        this.current.finish({ kind: "notStarted", error: { errorType: "Runtime.ExitError", errorMessage } });
      } else {
        this.writeLog(errorMessage);
        this.writeLog("Runtime.ExitError");
        this.writeLog(`END RequestId: ${requestId}`);
        this.current.finish({ kind: "exit", error: { errorType: "Runtime.ExitError", errorMessage } });
      }
    }
    this.onExit(this);
  }

  /** Usable for another invocation: not ended and not being killed. */
  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Runs one invocation; never rejects (every failure is an outcome, as Lambda reports it). The configured
   * timeout bounds the whole invocation, a cold start's module loading included, so a handler module that
   * hangs while loading times out instead of holding the caller (and a process slot) forever.
   */
  async invoke(request: InvocationRequest): Promise<{ outcome: InvocationOutcome; log: string[] }> {
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    // Lines of this invocation only: the START line of its request opens the log (writeLog), so a previous
    // invocation's END and REPORT lines arriving late are not counted as this one's.
    this.invocationLog = [];
    this.logOwner = request.requestId;
    let initError: FunctionErrorObject | "timeout" | undefined;
    if (!this.ready) {
      let initTimer: NodeJS.Timeout | undefined;
      initError = await Promise.race([
        this.initialized,
        new Promise<"timeout">((resolve) => (initTimer = setTimeout(() => resolve("timeout"), timeoutMs))),
      ]);
      clearTimeout(initTimer);
    }
    if (initError === "timeout") return { outcome: this.timedOut(request.requestId), log: this.invocationLog };
    if (initError) {
      this.kill();
      return { outcome: { kind: "error", error: initError }, log: [] };
    }
    if (this.exited) {
      return {
        outcome: {
          kind: "notStarted",
          error: {
            errorType: "Runtime.ExitError",
            errorMessage: `RequestId: ${request.requestId} Error: Runtime exited before the invocation`,
          },
        },
        log: [],
      };
    }
    const outcome = await new Promise<InvocationOutcome>((resolve) => {
      const timer = setTimeout(
        () => {
          this.current = undefined;
          resolve(this.timedOut(request.requestId));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.current = {
        requestId: request.requestId,
        finish: (result) => {
          clearTimeout(timer);
          this.current = undefined;
          resolve(result);
        },
      };
      this.child.send({
        type: "invoke",
        requestId: request.requestId,
        payload: request.payload,
        deadline,
        invokedFunctionArn: this.spec.functionArn,
        clientContext: request.clientContext,
      });
    });
    // Log lines travel on a different pipe than the result: let the ones already written arrive.
    if (request.collectLog) await new Promise((resolve) => setImmediate(resolve));
    return { outcome, log: this.invocationLog };
  }

  /** Logs AWS's timeout lines and stops the environment: Lambda starts a fresh one for the next invocation. */
  private timedOut(requestId: string): InvocationOutcome {
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const message = `${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`;
    // Timed out before its START line (a hanging cold start): these lines are still this invocation's.
    if (this.logOwner === requestId) this.logOwner = LOG_OPEN;
    this.writeLog(message);
    this.writeLog(`END RequestId: ${requestId}`);
    this.writeLog(
      `REPORT RequestId: ${requestId}\tDuration: ${timeoutMs.toFixed(2)} ms\tBilled Duration: ${timeoutMs} ms\tStatus: timeout`,
    );
    this.kill();
    return { kind: "timeout", error: { errorMessage: message } };
  }

  kill(): void {
    this.killed = true;
    if (!this.exited) this.child.kill("SIGKILL");
  }

  /** Resolves once the process has ended. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise((resolve) => this.child.once("exit", resolve));
    this.kill();
    await ended;
  }

  private writeLog(line: string): void {
    if (line.startsWith("START RequestId: ")) {
      this.startedRequestId = line.slice("START RequestId: ".length).split(" ")[0];
      if (this.startedRequestId === this.logOwner) this.logOwner = LOG_OPEN;
    }
    if (this.logOwner === LOG_OPEN) this.invocationLog.push(line);
    this.log(line);
  }
}

/** Describes an exit the way Lambda's runtime API does ("exit status 1", "signal: killed"). */
function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) {
    const names: Record<string, string> = {
      SIGKILL: "killed",
      SIGABRT: "aborted",
      SIGSEGV: "segmentation fault",
      SIGTERM: "terminated",
      SIGINT: "interrupt",
    };
    return `signal: ${names[signal] ?? signal.toLowerCase()}`;
  }
  return `exit status ${code ?? 0}`;
}
