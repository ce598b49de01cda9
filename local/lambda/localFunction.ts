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

/** How often an invocation is given to another process when the one it got had already ended. */
const MAX_START_ATTEMPTS = 3;

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

/** An asynchronous invocation waiting in the function's queue (or between attempts). */
export interface QueuedEvent {
  requestId: string;
  functionName: string;
  payload: string;
  acceptedAt: number;
  /** The attempt to run next (1 = first). */
  attempt: number;
  /** Not before this time (ms since the epoch): the retry delay; 0 = at once. */
  notBefore: number;
}

export interface QueueKeeper {
  kept(event: QueuedEvent): void;
  done(requestId: string): void;
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
    /** Keeps queued Event invocations across restarts (absent: memory only). */
    private readonly queueKeeper?: QueueKeeper,
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
  async invokeSync(
    payload: string,
    options: { signal?: AbortSignal; clientContext?: unknown; collectLog?: boolean } = {},
  ): Promise<InvocationRecord> {
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
   * error as Lambda does (by default twice more, after 1 and 2 minutes). Returns the request id. With a queue
   * keeper, the event is kept until it is done, so a restart runs it again (Lambda's queue: at least once).
   */
  invokeAsync(payload: string): string {
    const event: QueuedEvent = {
      requestId: randomUUID(),
      functionName: this.name,
      payload,
      acceptedAt: Date.now(),
      attempt: 1,
      notBefore: 0,
    };
    this.queueKeeper?.kept(event);
    this.runQueued(event);
    return event.requestId;
  }

  /** Runs an event kept from an earlier run (after its retry delay, if one was pending). */
  resumeQueued(event: QueuedEvent): void {
    this.runQueued(event);
  }

  private runQueued(event: QueuedEvent): void {
    const { requestId, payload, acceptedAt } = event;
    const attempt = async (attemptNumber: number): Promise<void> => {
      if (this.closed) return;
      // Over the reservation, events wait in the queue instead of failing (Lambda retries throttled events).
      const { result } = await this.run(requestId, payload, {});
      if (this.closed) return;
      if (!result.functionError) return this.queueKeeper?.done(requestId);
      const attempts = 1 + this.asyncConfig.maximumRetryAttempts;
      const delayMs = this.config.asyncRetryDelaysMs[Math.min(attemptNumber - 1, this.config.asyncRetryDelaysMs.length - 1)] ?? 0;
      const tooOld = Date.now() + delayMs - acceptedAt > this.asyncConfig.maximumEventAgeInSeconds * 1000;
      if (attemptNumber >= attempts || tooOld) {
        this.log(
          `Async invocation ${requestId} failed after ${attemptNumber} attempt(s); event discarded (no destination configured locally)`,
        );
        return this.queueKeeper?.done(requestId);
      }
      this.log(`Async invocation ${requestId} failed (attempt ${attemptNumber} of ${attempts}); retrying in ${delayMs / 1000} s`);
      this.queueKeeper?.kept({ ...event, attempt: attemptNumber + 1, notBefore: Date.now() + delayMs });
      this.schedule(() => void attempt(attemptNumber + 1), delayMs);
    };
    const waitMs = event.notBefore - Date.now();
    if (waitMs > 0) this.schedule(() => void attempt(event.attempt), waitMs);
    else void attempt(event.attempt);
  }

  private schedule(callback: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      callback();
    }, delayMs);
    this.retryTimers.add(timer);
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
    options: { signal?: AbortSignal; clientContext?: unknown; collectLog?: boolean },
  ): Promise<InvocationRecord> {
    this.inFlight++;
    // Counted until the function is done, not until the caller stops waiting: an invocation whose caller went
    // away (a stopped execution) still runs and still holds concurrency, as on AWS.
    const invocation = (async () => {
      try {
        for (let attempt = 1; ; attempt++) {
          const process = await this.acquire();
          const done = await process.invoke({ requestId, payload, clientContext: options.clientContext, collectLog: options.collectLog });
          this.release(process);
          // A warm process killed while idle never began the invocation: a fresh one runs it. Bounded, so a
          // function whose processes die as soon as they start still gets an answer.
          if (done.outcome.kind !== "notStarted" || attempt >= MAX_START_ATTEMPTS) return done;
          this.log(
            `A warm process of ${this.name} had ended (${done.outcome.error.errorMessage.replace(/^.*Error: /, "")}); a fresh one takes the invocation`,
          );
        }
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
