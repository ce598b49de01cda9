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
import type { StoreCollection } from "../common/store";
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
  readonly stateName?: string;
  readonly openedAt: number;
  readonly heartbeatMs?: number;
  heartbeatTimer?: Timer;
  /** When the heartbeat clock runs out (ms since the epoch); kept so a restart honours it. */
  heartbeatDeadline?: number;
  /** Restored with a running heartbeat clock: the task's next startHeartbeatClock must not restart it. */
  heartbeatClockRestored?: boolean;
  handedOut?: HandedOut;
  settle(outcome: CallbackOutcome): void;
}

/**
 * Set once the task has handed its token out (its TaskSubmitted is recorded) and only waits: with it, a restart
 * can bring the task back without replaying its execution (api.ts parks such executions).
 */
export interface HandedOut {
  /** The journal key of the thread whose task waits ("0": the execution's own, not a branch or iteration). */
  thread: string;
  /** When the task's TimeoutSeconds ends it (ms since the epoch). */
  taskDeadline: number;
}

/** A token as kept in the store: its state, and how it ended once it has (the callback a 200 acknowledged). */
export interface StoredToken {
  executionArn: string;
  state: TaskTokenState;
  outcome?: CallbackOutcome;
  heartbeatMs?: number;
  heartbeatDeadline?: number;
  /** The task's state and when its token was minted (absent on rows kept by earlier versions). */
  stateName?: string;
  openedAt?: number;
  handedOut?: HandedOut;
}

/** Where the registry keeps tokens across restarts: its HMAC key and one row per token of a running execution. */
export interface TokenPersistence {
  key: Buffer;
  tokens: StoreCollection<StoredToken>;
}

/** A task waiting on its token, as the console shows it. */
export interface WaitingTaskInfo {
  token: string;
  stateName?: string;
  /** Epoch ms when the token was minted. */
  openedAt: number;
  heartbeatSeconds?: number;
  /** Epoch ms when a missed heartbeat ends the task, once the heartbeat clock runs. */
  heartbeatDeadline?: number;
}

export interface OpenedToken {
  readonly token: string;
  /** Settles once: with the callback, or `heartbeatTimeout`. Never rejects. */
  readonly outcome: Promise<CallbackOutcome>;
  /** Restored already closed: its callback was acknowledged before the runtime stopped. */
  readonly closedBeforeRestart?: boolean;
}

export class TaskTokenRegistry {
  private readonly waiting = new Map<string, WaitingTask>();
  private readonly closed = new Map<string, { state: Exclude<TaskTokenState, "waiting">; executionArn: string }>();
  private readonly key: Buffer;
  /** Tokens kept in the store, by execution (to forget them when it closes). */
  private readonly storedByExecution = new Map<string, string[]>();
  /** Tokens of running executions read back from the store, until their task is replayed. */
  private readonly restored = new Map<string, StoredToken>();
  /** Restored tokens still waiting whose execution is parked (not replayed yet): they count as waiting. */
  private readonly parked = new Map<string, StoredToken>();
  /** Who waits for a parked token's task to be replayed (untilOpened), resolved when `open` takes it or it is forgotten. */
  private readonly opening = new Map<string, { promise: Promise<void>; resolve(): void }>();

  constructor(
    private readonly clock: Clock,
    private readonly persistence?: TokenPersistence,
  ) {
    this.key = persistence?.key ?? randomBytes(32);
  }

  /** Reads back the tokens kept in the store; returns the ones still waiting. */
  restore(): Array<[token: string, stored: StoredToken]> {
    if (!this.persistence) return [];
    const waiting: Array<[string, StoredToken]> = [];
    for (const entry of this.persistence.tokens.entries()) {
      const [token, stored] = entry;
      this.restored.set(token, stored);
      this.remember(stored.executionArn, token);
      if (stored.state === "waiting") waiting.push(entry);
      else this.closed.set(token, { state: stored.state, executionArn: stored.executionArn });
    }
    return waiting;
  }

  /** A restored waiting token whose execution stays parked: it counts and shows as waiting until `open` takes it. */
  park(token: string): void {
    const stored = this.restored.get(token);
    if (stored?.state === "waiting") this.parked.set(token, stored);
  }

  /** Resolves once the task of a parked token is live again (its replay opened the token); at once for any other. */
  untilOpened(token: string): Promise<void> {
    if (!this.parked.has(token)) return Promise.resolve();
    let entry = this.opening.get(token);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      entry = { promise, resolve };
      this.opening.set(token, entry);
    }
    return entry.promise;
  }

  /** No longer parked: opened by its replay, forgotten with its execution, or closed at shutdown. */
  private unpark(token: string): void {
    this.parked.delete(token);
    this.opening.get(token)?.resolve();
    this.opening.delete(token);
  }

  /** The execution of a parked token (SendTask* must wake it first), else undefined. */
  parkedExecutionOf(token: string): string | undefined {
    return this.parked.get(token)?.executionArn;
  }

  /** A fresh token for one task attempt (the task keeps it in its journal, so a replay opens the same one). */
  mint(): string {
    const id = randomBytes(ID_BYTES);
    return TOKEN_PREFIX + Buffer.concat([id, this.mac(id)]).toString("base64url");
  }

  /**
   * Opens `token` for one task attempt of `executionArn`. A token restored from the store comes back as it was
   * kept: still waiting (with its heartbeat deadline), or already answered, in which case `outcome` is that answer.
   */
  open(executionArn: string, options: { heartbeatSeconds?: number; stateName?: string } = {}, token = this.mint()): OpenedToken {
    let settle!: (outcome: CallbackOutcome) => void;
    const outcome = new Promise<CallbackOutcome>((resolve) => (settle = resolve));
    const heartbeatMs = options.heartbeatSeconds === undefined ? undefined : options.heartbeatSeconds * 1000;
    const restored = this.restored.get(token);
    this.restored.delete(token);
    this.unpark(token);
    if (restored && restored.state !== "waiting") {
      if (restored.outcome) settle(restored.outcome);
      return { token, outcome, closedBeforeRestart: true };
    }
    const task: WaitingTask = {
      executionArn,
      stateName: options.stateName,
      openedAt: restored?.openedAt ?? this.clock.now(),
      heartbeatMs,
      handedOut: restored?.handedOut,
      settle,
    };
    this.waiting.set(token, task);
    if (restored?.heartbeatDeadline !== undefined) {
      task.heartbeatClockRestored = true;
      this.armHeartbeat(token, task, restored.heartbeatDeadline);
    }
    if (!restored) {
      this.remember(executionArn, token);
      this.save(token, task, "waiting");
    }
    return { token, outcome };
  }

  /**
   * Starts (or restarts) the heartbeat clock. AWS starts it when the invoked function returns for
   * RequestResponse invocations, and at once for `InvocationType: Event`.
   */
  startHeartbeatClock(token: string): void {
    const task = this.waiting.get(token);
    if (!task || task.heartbeatMs === undefined) return;
    if (task.heartbeatClockRestored) {
      // Replayed after a restart: the clock already runs to the deadline kept before it.
      task.heartbeatClockRestored = false;
      return;
    }
    this.armHeartbeat(token, task, this.clock.now() + task.heartbeatMs);
    this.save(token, task, "waiting");
  }

  /** The task has handed its token out and only waits now: kept, so that a restart can park its execution. */
  handedOut(token: string, handedOut: HandedOut): void {
    const task = this.waiting.get(token);
    if (!task || task.handedOut) return;
    task.handedOut = handedOut;
    this.save(token, task, "waiting");
  }

  /** Forgets the kept tokens of an execution that has closed (they answer TaskTimedOut by their HMAC). */
  forgetExecution(executionArn: string): void {
    const tokens = this.storedByExecution.get(executionArn);
    if (!tokens || !this.persistence) return;
    this.storedByExecution.delete(executionArn);
    for (const token of tokens) {
      this.persistence.tokens.delete(token);
      this.restored.delete(token);
      this.unpark(token);
    }
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
    task.heartbeatClockRestored = false;
    if (task.heartbeatTimer) this.startHeartbeatClock(token);
  }

  /** Closes a token from the engine's side (task timed out, execution stopped); later callbacks get TaskTimedOut. */
  close(token: string, state: "timedOut" | "cancelled"): void {
    const task = this.waiting.get(token);
    if (task) this.finish(token, state, undefined);
  }

  /** The token's state; "unknown" for tokens never minted here or closed long ago. */
  stateOf(token: string): TaskTokenState | "unknown" {
    if (this.waiting.has(token) || this.parked.has(token)) return "waiting";
    return this.closed.get(token)?.state ?? "unknown";
  }

  /** The execution a token was minted for (waiting or recently closed): IAM checks SendTask* against its state machine. */
  executionArnOf(token: string): string | undefined {
    return this.waiting.get(token)?.executionArn ?? this.closed.get(token)?.executionArn ?? this.restored.get(token)?.executionArn;
  }

  /** The tasks of one execution waiting on their tokens now (a scan of the waiting tokens: the console asks per page view). */
  waitingTasks(executionArn: string): WaitingTaskInfo[] {
    const found: WaitingTaskInfo[] = [];
    for (const [token, task] of this.waiting) {
      if (task.executionArn !== executionArn) continue;
      const { stateName, openedAt, heartbeatMs, heartbeatDeadline } = task;
      found.push({
        token,
        stateName,
        openedAt,
        heartbeatSeconds: heartbeatMs === undefined ? undefined : heartbeatMs / 1000,
        heartbeatDeadline,
      });
    }
    for (const [token, stored] of this.parked) {
      if (stored.executionArn !== executionArn) continue;
      const { stateName, openedAt, heartbeatMs, heartbeatDeadline } = stored;
      found.push({
        token,
        stateName,
        openedAt: openedAt!,
        heartbeatSeconds: heartbeatMs === undefined ? undefined : heartbeatMs / 1000,
        heartbeatDeadline,
      });
    }
    return found;
  }

  get waitingCount(): number {
    return this.waiting.size + this.parked.size;
  }

  /** Stops every heartbeat clock and forgets waiting tokens in memory only (runtime shutdown: the store keeps them waiting). */
  closeAll(): void {
    for (const [token, task] of this.waiting) {
      task.heartbeatTimer?.cancel();
      this.closed.set(token, { state: "cancelled", executionArn: task.executionArn });
    }
    for (const [token, stored] of this.parked) {
      this.closed.set(token, { state: "cancelled", executionArn: stored.executionArn });
      this.unpark(token);
    }
    this.waiting.clear();
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
    this.save(token, task, state, outcome);
    if (outcome) task.settle(outcome);
  }

  private armHeartbeat(token: string, task: WaitingTask, deadline: number): void {
    task.heartbeatTimer?.cancel();
    task.heartbeatDeadline = deadline;
    task.heartbeatTimer = this.clock.setTimer(
      () => this.finish(token, "timedOut", { kind: "heartbeatTimeout" }),
      deadline - this.clock.now(),
    );
  }

  private save(token: string, task: WaitingTask, state: TaskTokenState, outcome?: CallbackOutcome): void {
    if (!this.persistence || !this.storedByExecution.has(task.executionArn)) return;
    this.persistence.tokens.put(token, {
      executionArn: task.executionArn,
      state,
      outcome,
      heartbeatMs: task.heartbeatMs,
      heartbeatDeadline: task.heartbeatDeadline,
      stateName: task.stateName,
      openedAt: task.openedAt,
      handedOut: state === "waiting" ? task.handedOut : undefined,
    });
  }

  private remember(executionArn: string, token: string): void {
    if (!this.persistence) return;
    const tokens = this.storedByExecution.get(executionArn);
    if (tokens) tokens.push(token);
    else this.storedByExecution.set(executionArn, [token]);
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
