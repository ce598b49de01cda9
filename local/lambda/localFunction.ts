/**
 * One declared Lambda function, run locally: a pool of warm function processes, its concurrency limit,
 * and the asynchronous (Event) invocation queue with Lambda's retry rules.
 * Concurrency: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 * Async retries: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
import { randomUUID } from "node:crypto";
import { FunctionProcess, type FunctionProcessSpec, type InvocationOutcome } from "./functionProcess";
import { TooManyRequestsException, type InvokeResult } from "../common/invoker";
import { raceAbort } from "../common/abort";

/** AWS: a function's response may be at most 6 MB. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

export interface LocalFunctionConfig extends FunctionProcessSpec {
  runtime: string;
  handler: string;
  /** The environment variables the program declared (what GetFunctionConfiguration shows). */
  declaredVariables: Record<string, string>;
  memorySize: number;
  role?: string;
  /** reservedConcurrentExecutions, when set (≥ 0): invocations beyond it are throttled, as on AWS. */
  reservedConcurrency?: number;
  /** How many processes may run at once on this machine (without a reservation, excess invocations wait). */
  maxProcesses: number;
  /** Delays before the 2nd, 3rd, ... attempt of a failed Event invocation. */
  asyncRetryDelaysMs: readonly number[];
  /** Node version the processes run on, for the log. */
  nodeVersion: string;
}

export interface AsyncInvokeConfig {
  /** @default 2 */
  maximumRetryAttempts: number;
  /** @default 21600 */
  maximumEventAgeInSeconds: number;
}

export interface InvocationRecord {
  result: InvokeResult;
  /** Every line the invocation wrote (START ... REPORT), for LogType=Tail. */
  log: string[];
}

/** Lambda's defaults when no event-invoke config is declared: two retries, events kept for 6 hours. */
export const DEFAULT_ASYNC_CONFIG: AsyncInvokeConfig = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 };

export class LocalFunction {
  /** Who may invoke it (aws:lambda/permission:Permission inputs), kept for later enforcement. */
  readonly permissions: Record<string, unknown>[] = [];
  asyncConfig: AsyncInvokeConfig = { ...DEFAULT_ASYNC_CONFIG };

  private readonly processes = new Set<FunctionProcess>();
  private readonly idle: FunctionProcess[] = [];
  private readonly waiting: Array<(process: FunctionProcess) => void> = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private closed = false;

  constructor(
    readonly config: LocalFunctionConfig,
    private readonly log: (line: string) => void,
  ) {}

  get name(): string {
    return this.config.functionName;
  }

  get arn(): string {
    return this.config.functionArn;
  }

  /** Number of live function processes (warm or busy). */
  get processCount(): number {
    return this.processes.size;
  }

  /** Invocations currently running or waiting for a process. */
  get activeInvocations(): number {
    return this.inFlight;
  }

  /** A synchronous (RequestResponse) invocation. Throws TooManyRequestsException over the reserved concurrency. */
  async invokeSync(payload: string, options: { signal?: AbortSignal; clientContext?: unknown } = {}): Promise<InvocationRecord> {
    const reserved = this.config.reservedConcurrency;
    if (reserved !== undefined && this.inFlight >= reserved) {
      throw new TooManyRequestsException(
        reserved === 0 ? "Rate Exceeded." : `Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: ${reserved})`,
      );
    }
    return this.run(randomUUID(), payload, options);
  }

  /**
   * An asynchronous (Event) invocation: accepted at once; run in the background, and retried after a function
   * error as Lambda does (by default twice more, after 1 and 2 minutes). Returns the request id.
   */
  invokeAsync(payload: string): string {
    const requestId = randomUUID();
    const acceptedAt = Date.now();
    const attempt = async (attemptNumber: number): Promise<void> => {
      if (this.closed) return;
      // Over the reservation, events wait in the queue instead of failing (Lambda retries throttled events).
      const { result } = await this.run(requestId, payload, {});
      if (!result.functionError || this.closed) return;
      const attempts = 1 + this.asyncConfig.maximumRetryAttempts;
      const delayMs = this.config.asyncRetryDelaysMs[Math.min(attemptNumber - 1, this.config.asyncRetryDelaysMs.length - 1)] ?? 0;
      const tooOld = Date.now() + delayMs - acceptedAt > this.asyncConfig.maximumEventAgeInSeconds * 1000;
      if (attemptNumber >= attempts || tooOld) {
        this.log(
          `Async invocation ${requestId} failed after ${attemptNumber} attempt(s); event discarded (no destination configured locally)`,
        );
        return;
      }
      this.log(`Async invocation ${requestId} failed (attempt ${attemptNumber} of ${attempts}); retrying in ${delayMs / 1000} s`);
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        void attempt(attemptNumber + 1);
      }, delayMs);
      this.retryTimers.add(timer);
    };
    void attempt(1);
    return requestId;
  }

  /**
   * Retires this version of the function (its code was replaced): warm processes end now, and the rest once
   * the invocations under way and their pending retries are done; new invocations go to the replacement.
   */
  async retire(): Promise<void> {
    for (const process of this.idle.splice(0)) void process.stop();
    // Polled: invocations end on many paths (result, crash, timeout), and retirement is rare (an edit).
    while (this.inFlight > 0 || this.retryTimers.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.all([...this.processes].map((process) => process.stop()));
  }

  private async run(
    requestId: string,
    payload: string,
    options: { signal?: AbortSignal; clientContext?: unknown },
  ): Promise<InvocationRecord> {
    this.inFlight++;
    // Counted until the function is done, not until the caller stops waiting: an invocation whose caller went
    // away (a stopped execution) still runs and still holds concurrency, as on AWS.
    const invocation = (async () => {
      try {
        const process = await this.acquire();
        const done = await process.invoke({ requestId, payload, clientContext: options.clientContext });
        this.release(process);
        return done;
      } finally {
        this.inFlight--;
      }
    })();
    const { outcome, log } = options.signal ? await raceAbort(invocation, options.signal) : await invocation;
    return { result: this.toResult(requestId, outcome), log };
  }

  private toResult(requestId: string, outcome: InvocationOutcome): InvokeResult {
    const base = { statusCode: 200, executedVersion: "$LATEST", requestId };
    if (outcome.kind === "result") {
      if (Buffer.byteLength(outcome.payload) > MAX_RESPONSE_BYTES) {
        const errorMessage = `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
        return {
          ...base,
          functionError: "Unhandled",
          payload: JSON.stringify({ errorMessage, errorType: "Function.ResponseSizeTooLarge" }),
        };
      }
      return { ...base, payload: outcome.payload };
    }
    return { ...base, functionError: "Unhandled", payload: JSON.stringify(outcome.error) };
  }

  private acquire(): Promise<FunctionProcess> {
    if (this.closed) return Promise.reject(new Error(`Function ${this.name} is shut down`));
    const warm = this.idle.pop();
    if (warm) return Promise.resolve(warm);
    if (this.processes.size < this.config.maxProcesses) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(process: FunctionProcess): void {
    if (!process.alive) return; // onExit already replaced it for any waiter
    const next = this.waiting.shift();
    if (next) next(process);
    else this.idle.push(process);
  }

  private spawn(): FunctionProcess {
    const process: FunctionProcess = new FunctionProcess(this.config, this.log, (ended) => {
      this.processes.delete(ended);
      const index = this.idle.indexOf(ended);
      if (index >= 0) this.idle.splice(index, 1);
      // A waiter that counted on a process slot gets a fresh environment.
      const next = this.waiting.shift();
      if (next && !this.closed) next(this.spawn());
    });
    this.processes.add(process);
    return process;
  }
}
