/**
 * The local Step Functions service: state machines declared by the Pulumi program (and created through
 * the API), served over AWS JSON 1.0 on the runtime's one origin.
 * Wire: `POST /`, `Content-Type: application/x-amz-json-1.0`, `X-Amz-Target: AWSStepFunctions.<Operation>`;
 * success 200 with a JSON body; errors 400 with `{"__type", "message"}` and the `x-amzn-errortype` header
 * (the AWS CLI reads the body, the JS SDK either).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { StepFunctionsApi, type CreateStateMachineInput, type RunningExecution, type StateMachineRecord } from "./api";
import { StepFunctionsApiError } from "./apiErrors";
import { DefinitionError } from "./asl/validate";
import { DeferringClock, systemClock, type Clock } from "./clock";
import { StepFunctionsPersistence } from "./persistence";
import type { Execution, ExecutionStatus } from "./execution";
import type { HistoryEvent } from "./history";
import { TaskTokenRegistry, type WaitingTaskInfo } from "./tokens";

export { StepFunctionsApiError } from "./apiErrors";
export type { RunningExecution, CreateStateMachineInput } from "./api";
export type { WaitingTaskInfo } from "./tokens";

/** One history event of one execution, as subscribers receive it. */
export interface ExecutionChange {
  executionArn: string;
  stateMachineArn: string;
  event: HistoryEvent;
}

export interface StepFunctionsServiceOptions {
  /** Clock for timestamps (history, dates on the wire). @default Date.now */
  now?: () => number;
  /** Clock for timestamps and timers together (tests drive waits, retries and timeouts with it). */
  clock?: Clock;
  /** Random source for retry jitter. @default Math.random */
  random?: () => number;
}

const TARGET_PREFIX = "AWSStepFunctions.";

export class StepFunctionsService implements LocalService {
  readonly signingNames = ["states"] as const;
  readonly resourceTypes = ["aws:sfn/stateMachine:StateMachine"] as const;
  /** The token registry behind SendTask* (exposed for tests and diagnostics). */
  readonly tokens: TaskTokenRegistry;
  private readonly api: StepFunctionsApi;
  private readonly clock: DeferringClock;
  private closedWithRunning: RunningExecution[] | undefined;
  private readonly listeners = new Set<(change: ExecutionChange) => void>();
  private historyEvents = 0;
  /** ARNs of declared machines a reload changes: `provision` updates them instead of creating them. */
  private readonly kept = new Set<string>();

  constructor(
    private readonly context: LocalContext,
    options: StepFunctionsServiceOptions = {},
  ) {
    this.clock = new DeferringClock(options.clock ?? (options.now ? { now: options.now, setTimer: systemClock.setTimer } : systemClock));
    const clock: Clock = this.clock;
    const persistence = context.store?.durable ? new StepFunctionsPersistence(context.store) : undefined;
    this.tokens = new TaskTokenRegistry(clock, persistence?.tokenPersistence());
    this.api = new StepFunctionsApi({
      accountId: context.accountId,
      persistence,
      services: {
        clock,
        lambda: context.lambda,
        // Read when a task runs: the runtime may connect SQS and SNS after building this service.
        get sqs() {
          return context.sqs;
        },
        get sns() {
          return context.sns;
        },
        tokens: this.tokens,
        region: context.region,
        random: options.random,
        log: (line, level) => context.log("states", line, level),
        onHistoryEvent: (executionArn, stateMachineArn, event) => {
          this.historyEvents++;
          if (this.listeners.size === 0) return;
          const change = { executionArn, stateMachineArn, event };
          for (const listener of this.listeners) listener(change);
        },
      },
    });
  }

  /** Turns a declared `aws.sfn.StateMachine` into a local one (same ARN, name, definition, role, type). */
  async provision(resource: DeclaredResource): Promise<void> {
    const { state, inputs } = resource;
    const definition = state.definition ?? inputs.definition;
    if (typeof definition !== "string") {
      throw new Error(`State machine '${resource.name}': its definition did not resolve to a string (received ${typeof definition})`);
    }
    const input: CreateStateMachineInput = {
      arn: state.arn,
      name: state.name ?? resource.name,
      definition,
      roleArn: state.roleArn ?? inputs.roleArn,
      type: (state.type ?? inputs.type ?? "STANDARD").toUpperCase(),
      loggingConfiguration: loggingFromPulumi(state.loggingConfiguration ?? inputs.loggingConfiguration),
      tracingConfiguration: state.tracingConfiguration ?? inputs.tracingConfiguration,
      tags: new Map(Object.entries((state.tagsAll ?? state.tags ?? inputs.tags ?? {}) as Record<string, string>)),
    };
    try {
      if (this.kept.delete(state.arn)) await this.update(input);
      else this.createStateMachine(input);
    } catch (error) {
      // A service integration the engine does not run yet (e.g. sqs:sendMessage before the local SQS exists) leaves
      // that one machine out, said aloud, instead of refusing to run the whole stack.
      if (error instanceof StepFunctionsApiError && error.cause instanceof DefinitionError && error.cause.kind === "unsupported") {
        this.context.log("states", `state machine '${resource.name}' is declared only, not run locally: ${error.message}`);
        return;
      }
      if (error instanceof StepFunctionsApiError) {
        throw new Error(`State machine '${resource.name}' (${state.arn}) cannot run locally: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * A removed state machine is deleted as DeleteStateMachine does (its running executions run on). A changed
   * one is updated by the `provision` that follows, as UpdateStateMachine does: a new revision for new
   * executions, while running ones keep the revision they started with. A change of type (STANDARD/EXPRESS)
   * replaces it, as it would on AWS.
   */
  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    const typeOf = (declared: DeclaredResource) => String(declared.state.type ?? declared.inputs.type ?? "STANDARD").toUpperCase();
    if (replacedBy && replacedBy.state.arn === resource.state.arn && typeOf(replacedBy) === typeOf(resource)) {
      this.kept.add(resource.state.arn);
      return;
    }
    await this.api.call("DeleteStateMachine", { stateMachineArn: resource.state.arn });
  }

  /** A declared machine's new declaration, through UpdateStateMachine and the tagging operations. */
  private async update(input: CreateStateMachineInput): Promise<void> {
    const stateMachineArn = input.arn!;
    await this.api.call("UpdateStateMachine", {
      stateMachineArn,
      definition: input.definition,
      roleArn: input.roleArn,
      ...(input.loggingConfiguration ? { loggingConfiguration: input.loggingConfiguration } : {}),
      ...(input.tracingConfiguration ? { tracingConfiguration: input.tracingConfiguration } : {}),
    });
    const { tags } = (await this.api.call("ListTagsForResource", { resourceArn: stateMachineArn })) as { tags: Array<{ key: string }> };
    const wanted = input.tags ?? new Map<string, string>();
    const stale = tags.map((tag) => tag.key).filter((key) => !wanted.has(key));
    if (stale.length > 0) await this.api.call("UntagResource", { resourceArn: stateMachineArn, tagKeys: stale });
    if (wanted.size > 0)
      await this.api.call("TagResource", { resourceArn: stateMachineArn, tags: [...wanted].map(([key, value]) => ({ key, value })) });
  }

  /** Registers a state machine directly (tests without Pulumi); throws StepFunctionsApiError like CreateStateMachine. */
  createStateMachine(input: CreateStateMachineInput): StateMachineRecord {
    return this.api.createStateMachine(input);
  }

  /**
   * Runs one API operation in-process: the same checks and errors as the wire (throws StepFunctionsApiError).
   * Resolves once what it changed is kept (acknowledged means kept).
   */
  async call(operation: string, request: object): Promise<any> {
    const response = await this.api.call(operation, request);
    await this.context.store?.committed();
    return response;
  }

  /**
   * Continues the executions kept from an earlier run. Their timers are held while every execution is replayed,
   * then armed in deadline order: overdue ones fire at once, oldest first.
   */
  async restore(): Promise<string[]> {
    this.clock.hold();
    let summary;
    try {
      summary = this.api.restore();
      // Replay runs on promises that are already settled: one macrotask later every execution is back at its live edge.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      this.clock.release();
    }
    await this.context.store?.committed();
    const phrases = [
      `${summary.runningExecutions} running execution${summary.runningExecutions === 1 ? "" : "s"}`,
      `${this.tokens.waitingCount} waiting token${this.tokens.waitingCount === 1 ? "" : "s"}`,
    ];
    if (summary.reinvokedTasks > 0) {
      phrases.push(`${summary.reinvokedTasks} Lambda call${summary.reinvokedTasks === 1 ? "" : "s"} cut off by the stop invoked again`);
    }
    if (summary.finishedExecutions > 0)
      phrases.push(`${summary.finishedExecutions} finished execution${summary.finishedExecutions === 1 ? "" : "s"}`);
    return phrases;
  }

  /** The execution behind an ARN (to await `done` in tests and benchmarks). */
  execution(executionArn: string): Execution | undefined {
    return this.api.execution(executionArn);
  }

  /**
   * How many history events every execution has recorded since the runtime started: something read at count N
   * has seen every change before the N-th (the console skips reloading a page nothing changed since).
   */
  changeCount(): number {
    return this.historyEvents;
  }

  /** Calls `listener` after every history event of every execution; returns the unsubscribe function. */
  subscribe(listener: (change: ExecutionChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Executions of a state machine by status (throws StepFunctionsApiError for an unknown ARN). */
  executionCounts(stateMachineArn: string): Partial<Record<ExecutionStatus, number>> {
    return this.api.executionCounts(stateMachineArn);
  }

  /** The tasks of an execution waiting on a task token now. */
  waitingTasks(executionArn: string): WaitingTaskInfo[] {
    return this.tokens.waitingTasks(executionArn);
  }

  /** Executions still running now; after `close()`, the ones that were running when it closed. */
  runningExecutions(): RunningExecution[] {
    return this.closedWithRunning ?? this.api.runningExecutions();
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    try {
      const target = String(req.headers["x-amz-target"] ?? "");
      if (req.method !== "POST" || !target.startsWith(TARGET_PREFIX)) {
        throw new StepFunctionsApiError("UnknownOperationException", `Unknown operation: '${target || `${req.method} ${req.url}`}'`);
      }
      let request: unknown;
      try {
        request = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch {
        throw new StepFunctionsApiError("SerializationException", "The request body is not valid JSON");
      }
      const response = await this.call(target.slice(TARGET_PREFIX.length), request as object);
      send(res, 200, response);
    } catch (error) {
      if (error instanceof StepFunctionsApiError) {
        send(res, error.statusCode, { __type: error.code, message: error.message }, error.code);
        return;
      }
      this.context.log("states", `internal error: ${(error as Error)?.stack ?? error}`);
      send(res, 500, { __type: "InternalFailure", message: String((error as Error)?.message ?? error) }, "InternalFailure");
    }
  }

  /** Stops every timer and waiting task; the executions still running are kept for `runningExecutions()`. */
  async close(): Promise<void> {
    if (!this.closedWithRunning) this.closedWithRunning = this.api.shutdown();
  }
}

function send(res: ServerResponse, status: number, body: object, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/x-amz-json-1.0",
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": crypto.randomUUID(),
  };
  if (errorType) headers["x-amzn-errortype"] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * Pulumi's `loggingConfiguration` ({level, includeExecutionData, logDestination}) in the API's shape
 * ({level, includeExecutionData, destinations: [{cloudWatchLogsLogGroup: {logGroupArn}}]}).
 */
function loggingFromPulumi(logging: Record<string, any> | undefined): Record<string, unknown> | undefined {
  if (!logging) return undefined;
  return {
    level: logging.level ?? "OFF",
    includeExecutionData: logging.includeExecutionData ?? false,
    destinations: logging.logDestination ? [{ cloudWatchLogsLogGroup: { logGroupArn: logging.logDestination } }] : undefined,
  };
}
