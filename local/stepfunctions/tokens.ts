/**
 * The one registry of task tokens for `.waitForTaskToken` tasks. The engine opens a token per task attempt
 * and awaits its outcome; the API layer only translates SendTask* calls into `succeed`/`fail`/`heartbeat`.
 *
 * Tokens are opaque: 16 random bytes plus an HMAC of them under a per-process key. The HMAC is why closed
 * tokens need no unbounded memory: a token that verifies but is no longer waiting was ours and has closed
 * (AWS: `TaskTimedOut`), one that does not verify was never ours (AWS: `InvalidToken`).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock, Timer } from "./clock";

export type TaskTokenState = "waiting" | "succeeded" | "failed" | "timedOut" | "cancelled";

/** How a waiting task ended, as seen by the task that opened the token. */
export type CallbackOutcome =
  { kind: "success"; output: string } | { kind: "failure"; error?: string; cause?: string } | { kind: "heartbeatTimeout" };

export type TaskTokenErrorCode = "InvalidToken" | "TaskTimedOut";

/** A SendTask* call that AWS refuses, with AWS's error code and message. */
export class TaskTokenError extends Error {
  constructor(
    readonly code: TaskTokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export const INVALID_TOKEN_MESSAGE = "Invalid Token: 'Invalid token'";
export const CLOSED_TOKEN_MESSAGE = "Provided task does not exist anymore";

/** Closed tokens whose exact final state is remembered (for `stateOf`); older ones still answer TaskTimedOut. */
const REMEMBERED_CLOSED_TOKENS = 10_000;
const ID_BYTES = 16;
const MAC_BYTES = 16;
/**
 * Every token starts with the same letters, as AWS's do ("AQ..."). Without a fixed first character a
 * base64url token may begin with "-", and the AWS CLI then reads `--task-token <token>` as an option.
 */
const TOKEN_PREFIX = "AQ";

interface WaitingTask {
  readonly executionArn: string;
  readonly heartbeatMs?: number;
  heartbeatTimer?: Timer;
  settle(outcome: CallbackOutcome): void;
}

export interface OpenedToken {
  readonly token: string;
  /** Settles once: with the callback, or `heartbeatTimeout`. Never rejects. */
  readonly outcome: Promise<CallbackOutcome>;
}

export class TaskTokenRegistry {
  private readonly waiting = new Map<string, WaitingTask>();
  private readonly closed = new Map<string, { state: Exclude<TaskTokenState, "waiting">; executionArn: string }>();
  private readonly key = randomBytes(32);

  constructor(private readonly clock: Clock) {}

  /** Mints a fresh token for one task attempt of `executionArn`. */
  open(executionArn: string, options: { heartbeatSeconds?: number } = {}): OpenedToken {
    const id = randomBytes(ID_BYTES);
    const token = TOKEN_PREFIX + Buffer.concat([id, this.mac(id)]).toString("base64url");
    let settle!: (outcome: CallbackOutcome) => void;
    const outcome = new Promise<CallbackOutcome>((resolve) => (settle = resolve));
    const heartbeatMs = options.heartbeatSeconds === undefined ? undefined : options.heartbeatSeconds * 1000;
    this.waiting.set(token, { executionArn, heartbeatMs, settle });
    return { token, outcome };
  }

  /**
   * Starts (or restarts) the heartbeat clock. AWS starts it when the invoked function returns for
   * RequestResponse invocations, and at once for `InvocationType: Event`.
   */
  startHeartbeatClock(token: string): void {
    const task = this.waiting.get(token);
    if (!task || task.heartbeatMs === undefined) return;
    task.heartbeatTimer?.cancel();
    task.heartbeatTimer = this.clock.setTimer(() => this.finish(token, "timedOut", { kind: "heartbeatTimeout" }), task.heartbeatMs);
  }

  succeed(token: string, output: string): void {
    this.require(token);
    this.finish(token, "succeeded", { kind: "success", output });
  }

  fail(token: string, error?: string, cause?: string): void {
    this.require(token);
    this.finish(token, "failed", { kind: "failure", error, cause });
  }

  /** Resets the heartbeat clock only: AWS records no event and does not extend TimeoutSeconds. */
  heartbeat(token: string): void {
    const task = this.require(token);
    if (task.heartbeatTimer) this.startHeartbeatClock(token);
  }

  /** Closes a token from the engine's side (task timed out, execution stopped); later callbacks get TaskTimedOut. */
  close(token: string, state: "timedOut" | "cancelled"): void {
    const task = this.waiting.get(token);
    if (task) this.finish(token, state, undefined);
  }

  /** The token's state; "unknown" for tokens never minted here or closed long ago. */
  stateOf(token: string): TaskTokenState | "unknown" {
    if (this.waiting.has(token)) return "waiting";
    return this.closed.get(token)?.state ?? "unknown";
  }

  /** The execution a token was minted for (waiting or recently closed): IAM checks SendTask* against its state machine. */
  executionArnOf(token: string): string | undefined {
    return this.waiting.get(token)?.executionArn ?? this.closed.get(token)?.executionArn;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Closes every waiting token (runtime shutdown). */
  closeAll(): void {
    for (const token of [...this.waiting.keys()]) this.close(token, "cancelled");
  }

  private require(token: string): WaitingTask {
    const task = this.waiting.get(token);
    if (task) return task;
    if (this.isOurs(token)) throw new TaskTokenError("TaskTimedOut", CLOSED_TOKEN_MESSAGE);
    throw new TaskTokenError("InvalidToken", INVALID_TOKEN_MESSAGE);
  }

  private finish(token: string, state: Exclude<TaskTokenState, "waiting">, outcome: CallbackOutcome | undefined): void {
    const task = this.waiting.get(token);
    if (!task) return;
    task.heartbeatTimer?.cancel();
    this.waiting.delete(token);
    this.closed.set(token, { state, executionArn: task.executionArn });
    if (this.closed.size > REMEMBERED_CLOSED_TOKENS) this.closed.delete(this.closed.keys().next().value!);
    if (outcome) task.settle(outcome);
  }

  private isOurs(token: string): boolean {
    if (!token.startsWith(TOKEN_PREFIX)) return false;
    const encoded = token.slice(TOKEN_PREFIX.length);
    const raw = Buffer.from(encoded, "base64url");
    if (raw.length !== ID_BYTES + MAC_BYTES || raw.toString("base64url") !== encoded) return false;
    return timingSafeEqual(raw.subarray(ID_BYTES), this.mac(raw.subarray(0, ID_BYTES)));
  }

  private mac(id: Buffer): Buffer {
    return createHmac("sha256", this.key).update(id).digest().subarray(0, MAC_BYTES);
  }
}
