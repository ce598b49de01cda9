/**
 * The Step Functions API operations, over the engine: state machines, executions, histories and task
 * tokens. Requests and responses are the JSON 1.0 wire shapes (dates as epoch seconds), so the HTTP layer
 * (service.ts) and in-process callers (the API Gateway emulation, tests) share every check and error.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html
 */
import { randomUUID } from "node:crypto";
import { validateDefinition } from "./asl/validate";
import { checkRequest, StepFunctionsApiError, type RequestShape } from "./apiErrors";
import { executionArn, requireArn, requireRoleArn, requireValidName, stateMachineArn } from "./arns";
import { Execution, type ExecutionMachine, type ExecutionStatus, type Parking } from "./execution";
import { eventToWire, type HistoryEvent } from "./history";
import type { EngineServices } from "./interpreter";
import { exceedsPayloadLimit, PAYLOAD_LIMIT_BYTES } from "./limits";
import { isSupportedResource } from "./resources";
import { diagnoseDefinition } from "./diagnostics";
import { eventsOf, type LoadedExecution, type StepFunctionsPersistence, type StoredMachine } from "./persistence";
import { mergeTags, parseTags, tagsToWire } from "./tags";
import { attemptKey, redriveStatusOf } from "./redrive";
import { testState, type TestStateRequest } from "./testState";
import { checkDefinition } from "./definitionCheck";
import { TaskTokenError } from "./tokens";
import type { StoredToken, TaskTokenRegistry } from "./tokens";

export type StateMachineType = "STANDARD" | "EXPRESS";

/**
 * One revision of a state machine: what an execution runs. UpdateStateMachine makes a new one; executions
 * already running keep theirs (as AWS runs an execution on the revision it started with).
 */
export interface MachineRevision extends ExecutionMachine {
  /** The definition exactly as given (DescribeStateMachine returns it verbatim). */
  definitionText: string;
  loggingConfiguration: Record<string, unknown>;
  tracingConfiguration: Record<string, unknown>;
  /** Set by UpdateStateMachine; the first revision has none (AWS's "INITIAL"). */
  revisionId?: string;
  /** When this revision was made (creation for the first). */
  updateDate: number;
}

export interface StateMachineRecord extends MachineRevision {
  type: StateMachineType;
  creationDate: number;
  /** DELETING after DeleteStateMachine while executions still run; then the machine is gone. */
  status: "ACTIVE" | "DELETING";
  tags: Map<string, string>;
  executions: Map<string, Execution>;
}

export interface CreateStateMachineInput {
  name: string;
  definition: string;
  roleArn: string;
  type?: StateMachineType;
  /** AWS API shape: `{level, includeExecutionData, destinations}`. */
  loggingConfiguration?: Record<string, unknown>;
  tracingConfiguration?: Record<string, unknown>;
  /** Use this ARN instead of deriving one from the name (resources declared by the Pulumi program). */
  arn?: string;
  tags?: ReadonlyMap<string, string>;
}

/** A summary of an execution still running, for the runtime to report on shutdown. */
export interface RunningExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  startDate: Date;
  /** The type of its latest history event, e.g. "TaskSubmitted" while it waits for a callback. */
  lastEventType: string;
}

export const OPERATIONS = [
  "StartExecution",
  "DescribeExecution",
  "ListExecutions",
  "GetExecutionHistory",
  "StopExecution",
  "SendTaskSuccess",
  "SendTaskFailure",
  "SendTaskHeartbeat",
  "ListStateMachines",
  "DescribeStateMachine",
  "CreateStateMachine",
  "DescribeStateMachineForExecution",
  "UpdateStateMachine",
  "DeleteStateMachine",
  "ValidateStateMachineDefinition",
  "TagResource",
  "UntagResource",
  "ListTagsForResource",
  "RedriveExecution",
  "TestState",
] as const;
export type Operation = (typeof OPERATIONS)[number];

const TOKEN: RequestShape[string] = { type: "string", required: true, min: 1, max: 2048, sensitive: true };
const MAX_RESULTS: RequestShape[string] = { type: "integer", min: 0, max: 1000 };
const NEXT_TOKEN: RequestShape[string] = { type: "string", min: 1, max: 1024 };
const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"] as const;
const DEFAULT_PAGE_SIZE = 100;

const SHAPES: Record<Operation, RequestShape> = {
  StartExecution: {
    stateMachineArn: { type: "string", required: true, min: 1, max: 2048 },
    name: { type: "string", min: 1, max: 80 },
    input: { type: "string", sensitive: true },
    traceHeader: { type: "string", max: 256 },
  },
  DescribeExecution: { executionArn: { type: "string", required: true, min: 1, max: 2048 } },
  ListExecutions: {
    stateMachineArn: { type: "string", required: true, min: 1, max: 2048 },
    statusFilter: { type: "string", allowed: STATUSES },
    redriveFilter: { type: "string", allowed: ["REDRIVEN", "NOT_REDRIVEN"] },
    maxResults: MAX_RESULTS,
    nextToken: NEXT_TOKEN,
  },
  GetExecutionHistory: {
    executionArn: { type: "string", required: true, min: 1, max: 2048 },
    maxResults: MAX_RESULTS,
    reverseOrder: { type: "boolean" },
    nextToken: NEXT_TOKEN,
    includeExecutionData: { type: "boolean" },
  },
  StopExecution: {
    executionArn: { type: "string", required: true, min: 1, max: 2048 },
    error: { type: "string", max: 256, sensitive: true },
    cause: { type: "string", max: 32_768, sensitive: true },
  },
  SendTaskSuccess: { taskToken: TOKEN, output: { type: "string", required: true, sensitive: true } },
  SendTaskFailure: {
    taskToken: TOKEN,
    error: { type: "string", max: 256, sensitive: true },
    cause: { type: "string", max: 32_768, sensitive: true },
  },
  SendTaskHeartbeat: { taskToken: TOKEN },
  ListStateMachines: { maxResults: MAX_RESULTS, nextToken: NEXT_TOKEN },
  DescribeStateMachine: { stateMachineArn: { type: "string", required: true, min: 1, max: 2048 } },
  CreateStateMachine: {
    name: { type: "string", required: true, min: 1, max: 80 },
    definition: { type: "string", required: true, min: 1, max: 1_048_576, sensitive: true },
    roleArn: { type: "string", required: true, min: 1, max: 256 },
    type: { type: "string", allowed: ["STANDARD", "EXPRESS"] },
    loggingConfiguration: { type: "object" },
    tracingConfiguration: { type: "object" },
    tags: { type: "array" },
    publish: { type: "boolean" },
    versionDescription: { type: "string", max: 256 },
    encryptionConfiguration: { type: "object" },
  },
  DescribeStateMachineForExecution: { executionArn: { type: "string", required: true, min: 1, max: 2048 } },
  UpdateStateMachine: {
    stateMachineArn: { type: "string", required: true, min: 1, max: 2048 },
    definition: { type: "string", min: 1, max: 1_048_576, sensitive: true },
    roleArn: { type: "string", min: 1, max: 256 },
    loggingConfiguration: { type: "object" },
    tracingConfiguration: { type: "object" },
    publish: { type: "boolean" },
    versionDescription: { type: "string", max: 256 },
    encryptionConfiguration: { type: "object" },
  },
  DeleteStateMachine: { stateMachineArn: { type: "string", required: true, min: 1, max: 2048 } },
  ValidateStateMachineDefinition: {
    definition: { type: "string", required: true, min: 1, max: 1_048_576, sensitive: true },
    type: { type: "string", allowed: ["STANDARD", "EXPRESS"] },
    severity: { type: "string", allowed: ["ERROR", "WARNING"] },
    maxResults: { type: "integer", min: 0, max: 100 },
  },
  TagResource: { resourceArn: { type: "string", required: true, min: 1, max: 256 }, tags: { type: "array", required: true } },
  UntagResource: { resourceArn: { type: "string", required: true, min: 1, max: 256 }, tagKeys: { type: "array", required: true } },
  ListTagsForResource: { resourceArn: { type: "string", required: true, min: 1, max: 256 } },
  RedriveExecution: {
    executionArn: { type: "string", required: true, min: 1, max: 2048 },
    clientToken: { type: "string", min: 1, max: 64 },
  },
  TestState: {
    definition: { type: "string", required: true, min: 1, max: 1_048_576, sensitive: true },
    roleArn: { type: "string", min: 1, max: 256 },
    input: { type: "string", sensitive: true },
    inspectionLevel: { type: "string", allowed: ["INFO", "DEBUG", "TRACE"] },
    revealSecrets: { type: "boolean" },
    variables: { type: "string", sensitive: true },
    stateName: { type: "string", min: 1, max: 80 },
    mock: { type: "object" },
    context: { type: "string", sensitive: true },
    stateConfiguration: { type: "object" },
  },
};

const toSeconds = (milliseconds: number) => milliseconds / 1000;

export interface StepFunctionsApiOptions {
  services: EngineServices & { tokens: TaskTokenRegistry };
  accountId: string;
  /** Where state machines and executions are kept across restarts; absent: in memory only. */
  persistence?: StepFunctionsPersistence;
}

/** What a restart brought back. */
export interface RestoreSummary {
  runningExecutions: number;
  finishedExecutions: number;
  /** Tasks whose Lambda call was in flight when the runtime died, invoked again (at least once). */
  reinvokedTasks: number;
}

export class StepFunctionsApi {
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, Execution>();
  private lastHistoryRead?: { execution: Execution; status: ExecutionStatus; redriveCount: number; events: readonly HistoryEvent[] };
  /** Replays of parked executions under way, by the task token whose callback started them (wakeFor). */
  private readonly waking = new Map<string, Promise<void>>();
  private executionSequence = 0;
  /** The client token of each execution's latest redrive. */
  private readonly redriveTokens = new Map<string, string>();

  /**
   * The machines kept from the last run, read before this run declares any (a declaration saves its row, and
   * restore compares the kept creation date and revision with the new declaration).
   */
  private readonly keptMachines: StoredMachine[];

  constructor(private readonly options: StepFunctionsApiOptions) {
    this.keptMachines = options.persistence?.loadMachines() ?? [];
  }

  private get services() {
    return this.options.services;
  }

  /** Validates and registers a state machine (CreateStateMachine's rules). Idempotent for an identical one. */
  createStateMachine(input: CreateStateMachineInput): StateMachineRecord {
    requireValidName(input.name);
    requireRoleArn(input.roleArn);
    const type = input.type ?? "STANDARD";
    const arn = input.arn ?? stateMachineArn(this.services.region, this.options.accountId, input.name);
    const definition = checkDefinition(input.definition, type);
    const existing = this.machines.get(arn);
    if (existing?.status === "DELETING") {
      // AWS refuses the name until the old machine is gone, even for an identical definition.
      throw new StepFunctionsApiError("StateMachineDeleting", `State Machine is being deleted: '${arn}'`);
    }
    if (existing) {
      if (existing.definitionText === input.definition && existing.roleArn === input.roleArn && existing.type === type) return existing;
      throw new StepFunctionsApiError("StateMachineAlreadyExists", `State Machine Already Exists: '${arn}'`);
    }
    const tags = new Map<string, string>();
    if (input.tags) mergeTags(tags, new Map(input.tags), arn);
    const now = this.services.clock.now();
    const machine: StateMachineRecord = {
      arn,
      name: input.name,
      roleArn: input.roleArn,
      type,
      definition,
      definitionText: input.definition,
      creationDate: now,
      updateDate: now,
      status: "ACTIVE",
      loggingConfiguration: input.loggingConfiguration ?? { level: "OFF", includeExecutionData: false },
      tracingConfiguration: input.tracingConfiguration ?? { enabled: false },
      tags,
      executions: new Map(),
    };
    this.machines.set(arn, machine);
    this.saveMachine(machine);
    return machine;
  }

  private saveMachine(machine: StateMachineRecord): void {
    this.options.persistence?.saveMachine({
      arn: machine.arn,
      name: machine.name,
      roleArn: machine.roleArn,
      type: machine.type,
      definitionText: machine.definitionText,
      creationDate: machine.creationDate,
      loggingConfiguration: machine.loggingConfiguration,
      tracingConfiguration: machine.tracingConfiguration,
      revisionId: machine.revisionId,
      updateDate: machine.updateDate,
      status: machine.status,
      tags: [...machine.tags],
    });
  }

  /**
   * Brings back what the store kept: state machines created through the API (the program's own are declared
   * again at every start, and the program's definition wins), then every execution. Running ones are replayed
   * from their journal and continue (execution.ts), except those that only wait on a callback: they are parked
   * (`parkingOf`) and replayed when first touched. The caller holds the clock meanwhile.
   */
  restore(): RestoreSummary {
    const persistence = this.options.persistence;
    const summary: RestoreSummary = { runningExecutions: 0, finishedExecutions: 0, reinvokedTasks: 0 };
    if (!persistence) return summary;
    for (const stored of this.keptMachines.splice(0)) {
      const declared = this.machines.get(stored.arn);
      if (declared) {
        this.keepHistoryOf(declared, stored);
        continue;
      }
      try {
        const machine = this.createStateMachine({
          ...stored,
          definition: stored.definitionText,
          arn: stored.arn,
          tags: new Map(stored.tags ?? []),
        });
        Object.assign(machine, {
          creationDate: stored.creationDate,
          updateDate: stored.updateDate ?? stored.creationDate,
          revisionId: stored.revisionId,
          status: stored.status ?? "ACTIVE",
        });
        this.saveMachine(machine);
      } catch (error) {
        this.services.log?.(`state machine ${stored.arn} kept from an earlier run cannot be restored: ${(error as Error).message}`);
      }
    }
    const { tokens, clock } = this.services;
    const waitingTokens = new Map<string, Array<[string, StoredToken]>>();
    for (const entry of tokens.restore()) {
      const list = waitingTokens.get(entry[1].executionArn);
      if (list) list.push(entry);
      else waitingTokens.set(entry[1].executionArn, [entry]);
    }
    const definitions = new Map<string, ExecutionMachine["definition"]>();
    const toStart: Execution[] = [];
    const now = clock.now();
    for (const loaded of persistence.loadExecutions()) {
      const execution = this.restoreExecution(loaded, definitions);
      if (!execution) continue;
      this.executionSequence = Math.max(this.executionSequence, execution.sequence);
      if (execution.status !== "RUNNING") {
        summary.finishedExecutions++;
        continue;
      }
      summary.runningExecutions++;
      const parking = parkingOf(execution, waitingTokens.get(execution.arn), now);
      if (parking) {
        tokens.park(parking.token);
        execution.park(parking);
      } else {
        toStart.push(execution);
        summary.reinvokedTasks += countCallsInFlight(execution.history.events);
      }
    }
    for (const execution of toStart) execution.start();
    // A machine deleted while executions ran goes once they end, as before the restart (or now, if none runs).
    for (const machine of [...this.machines.values()]) {
      if (machine.status !== "DELETING") continue;
      for (const execution of machine.executions.values())
        if (execution.status === "RUNNING") void execution.done.then(() => this.removeIfDeleted(machine));
      this.removeIfDeleted(machine);
    }
    return summary;
  }

  /**
   * A machine the program declared again (before the restore) is the one kept from the earlier run: it keeps its
   * creation date, and its revision while the declaration is unchanged; a changed one is a new revision, as
   * UpdateStateMachine would make. A change of type is a replacement (a new machine), as on AWS.
   */
  private keepHistoryOf(declared: StateMachineRecord, stored: StoredMachine): void {
    if (declared.type !== stored.type) return;
    declared.creationDate = stored.creationDate;
    const unchanged =
      declared.definitionText === stored.definitionText &&
      declared.roleArn === stored.roleArn &&
      JSON.stringify(declared.loggingConfiguration) === JSON.stringify(stored.loggingConfiguration) &&
      JSON.stringify(declared.tracingConfiguration) === JSON.stringify(stored.tracingConfiguration);
    if (unchanged) {
      declared.revisionId = stored.revisionId;
      declared.updateDate = stored.updateDate ?? stored.creationDate;
    } else declared.revisionId = randomUUID();
    this.saveMachine(declared);
  }

  private restoreExecution(loaded: LoadedExecution, definitions: Map<string, ExecutionMachine["definition"]>): Execution | undefined {
    const { stored } = loaded;
    let definition = definitions.get(stored.definitionHash);
    if (!definition) {
      try {
        definition = validateDefinition(loaded.definitionText, { supportedResource: isSupportedResource }).definition;
      } catch (error) {
        this.services.log?.(`execution ${stored.arn} kept from an earlier run has an unreadable definition: ${(error as Error).message}`);
        return undefined;
      }
      definitions.set(stored.definitionHash, definition);
    }
    const machineRecord = this.machines.get(stored.machineArn);
    // The revision the execution started with, as it was kept (the machine may have changed since).
    const machine: MachineRevision = Object.freeze({
      arn: stored.machineArn,
      name: stored.machineName,
      roleArn: stored.roleArn,
      definition,
      definitionText: loaded.definitionText,
      loggingConfiguration: machineRecord?.loggingConfiguration ?? { level: "OFF", includeExecutionData: false },
      tracingConfiguration: machineRecord?.tracingConfiguration ?? { enabled: false },
      revisionId: stored.revisionId,
      updateDate: stored.revisionDate ?? stored.startDate,
    });
    const keeping = this.options.persistence!.keeping(
      stored.sequence,
      loaded.definitionText,
      stored.status === "RUNNING" ? loaded : undefined,
    );
    const execution = new Execution(
      machine,
      stored.name,
      stored.arn,
      stored.input,
      stored.startDate,
      stored.sequence,
      this.services,
      keeping,
      {
        status: stored.status,
        stopDate: stored.stopDate,
        output: stored.output,
        error: stored.error,
        cause: stored.cause,
        redriveCount: stored.redriveCount,
        redriveDate: stored.redriveDate,
        // A running one's replay reads its journal once for both; a finished one's history is read afresh each time.
        events:
          stored.status === "RUNNING" ? () => eventsOf(loaded.record().events) : this.options.persistence!.historyReader(stored.sequence),
      },
    );
    machineRecord?.executions.set(stored.name, execution);
    this.executions.set(stored.arn, execution);
    return execution;
  }

  /** Runs one operation; resolves with the response body, rejects with StepFunctionsApiError. */
  async call(operation: string, request: object): Promise<object> {
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      throw new StepFunctionsApiError("UnknownOperationException", `Operation ${operation} is not supported by the local Step Functions`);
    }
    const fields = checkRequest(request, SHAPES[operation as Operation]);
    return this[operation as Operation](fields);
  }

  /** Executions still running, oldest first. */
  runningExecutions(): RunningExecution[] {
    return [...this.executions.values()]
      .filter((execution) => execution.status === "RUNNING")
      .map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: execution.machine.arn,
        name: execution.name,
        startDate: new Date(execution.startDate),
        lastEventType: execution.lastEventType,
      }));
  }

  /** How many executions of a state machine are in each status (the console's overview). */
  executionCounts(stateMachineArn: string): Partial<Record<ExecutionStatus, number>> {
    const counts: Partial<Record<ExecutionStatus, number>> = {};
    for (const execution of this.machine(stateMachineArn).executions.values())
      counts[execution.status] = (counts[execution.status] ?? 0) + 1;
    return counts;
  }

  /** Every execution's promise of its end (tests and benchmarks wait on these). */
  execution(arn: string): Execution | undefined {
    return this.executions.get(arn);
  }

  /** Cancels every running execution without closing it (the runtime is going away). */
  shutdown(): RunningExecution[] {
    const running = this.runningExecutions();
    this.options.persistence?.stop();
    for (const execution of this.executions.values()) execution.interrupt();
    this.services.tokens.closeAll();
    return running;
  }

  // --- operations -------------------------------------------------------------------------------------

  private async StartExecution(request: Record<string, any>) {
    const machine = this.machine(request.stateMachineArn);
    if (machine.status === "DELETING") {
      throw new StepFunctionsApiError("StateMachineDeleting", `State Machine is being deleted: '${machine.arn}'`);
    }
    const name: string = request.name ?? randomUUID();
    requireValidName(name);
    const input: string = request.input ?? "{}";
    if (exceedsPayloadLimit(input)) {
      throw new StepFunctionsApiError(
        "InvalidExecutionInput",
        `Invalid State Machine Execution Input: 'The input has a size of ${Buffer.byteLength(input)} bytes, which exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes'`,
      );
    }
    try {
      JSON.parse(input);
    } catch (error) {
      throw new StepFunctionsApiError("InvalidExecutionInput", `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    const existing = machine.executions.get(name);
    if (existing) {
      // AWS: the same name and input while the execution is open returns it again; anything else is refused.
      if (existing.status === "RUNNING" && existing.input === input) {
        return { executionArn: existing.arn, startDate: toSeconds(existing.startDate) };
      }
      throw new StepFunctionsApiError("ExecutionAlreadyExists", `Execution Already Exists: '${existing.arn}'`);
    }
    const arn = executionArn(machine.arn, name);
    const sequence = ++this.executionSequence;
    const revision = currentRevision(machine);
    const keeping = this.options.persistence?.keeping(sequence, revision.definitionText);
    const execution = new Execution(revision, name, arn, input, this.services.clock.now(), sequence, this.services, keeping);
    machine.executions.set(name, execution);
    this.executions.set(arn, execution);
    execution.start();
    void execution.done.then(() => this.removeIfDeleted(machine));
    return { executionArn: arn, startDate: toSeconds(execution.startDate) };
  }

  private async DescribeExecution(request: Record<string, any>) {
    const execution = this.executionByArn(request.executionArn);
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: toSeconds(execution.startDate),
      stopDate: execution.stopDate === undefined ? undefined : toSeconds(execution.stopDate),
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output,
      outputDetails: execution.output === undefined ? undefined : { included: true },
      error: execution.error,
      cause: execution.cause,
      redriveCount: execution.redriveCount,
      redriveDate: execution.redriveDate === undefined ? undefined : toSeconds(execution.redriveDate),
      ...this.redriveStatus(execution),
    };
  }

  /**
   * Restarts a failed, timed-out or aborted execution of a Standard workflow from where it stopped (redrive.ts).
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
   */
  private async RedriveExecution(request: Record<string, any>) {
    const execution = this.executionByArn(request.executionArn);
    // The same client token again while that redrive runs is the same request (AWS's idempotency).
    const previousToken = this.redriveTokens.get(execution.arn);
    if (request.clientToken !== undefined && previousToken === request.clientToken && execution.status === "RUNNING") {
      return { redriveDate: toSeconds(execution.redriveDate!) };
    }
    const { redriveStatus, redriveStatusReason } = this.redriveStatus(execution);
    if (redriveStatus !== "REDRIVABLE") throw new StepFunctionsApiError("ExecutionNotRedrivable", redriveStatusReason!);
    if (request.clientToken !== undefined) this.redriveTokens.set(execution.arn, request.clientToken);
    execution.redrive();
    const machine = this.machines.get(execution.machine.arn);
    if (machine) void execution.done.then(() => this.removeIfDeleted(machine));
    return { redriveDate: toSeconds(execution.redriveDate!) };
  }

  /** https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html */
  private async TestState(request: Record<string, any>) {
    return testState(request as TestStateRequest, { services: this.services, accountId: this.options.accountId });
  }

  private redriveStatus(execution: Execution) {
    const machine = this.machines.get(execution.machine.arn);
    return redriveStatusOf({
      status: execution.status,
      machineType: machine?.type ?? "STANDARD",
      machineStatus: machine?.status ?? "DELETING",
      startDate: execution.startDate,
      stopDate: execution.stopDate,
      // Read only when the status leaves the question open: a parked execution's history stays in the store.
      get historyLength() {
        return execution.history.length;
      },
      now: this.services.clock.now(),
    });
  }

  private async ListExecutions(request: Record<string, any>) {
    const machine = this.machine(request.stateMachineArn);
    const status: ExecutionStatus | undefined = request.statusFilter;
    const redriven: boolean | undefined = request.redriveFilter === undefined ? undefined : request.redriveFilter === "REDRIVEN";
    const after = request.nextToken === undefined ? Infinity : decodeCursor(request.nextToken, `executions:${machine.arn}`);
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    // Newest first, as AWS lists them; the cursor is the sequence number of the last one returned. The map
    // holds executions in start order (ascending sequence), so walking it backwards needs no sort.
    const all = [...machine.executions.values()];
    const matching: Execution[] = [];
    for (let index = all.length - 1; index >= 0 && matching.length <= pageSize; index--) {
      const execution = all[index];
      if (
        execution.sequence < after &&
        (!status || execution.status === status) &&
        (redriven === undefined || redriven === execution.redriveCount > 0)
      )
        matching.push(execution);
    }
    const page = matching.slice(0, pageSize);
    return {
      executions: page.map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: toSeconds(execution.startDate),
        stopDate: execution.stopDate === undefined ? undefined : toSeconds(execution.stopDate),
        redriveCount: execution.redriveCount,
        redriveDate: execution.redriveDate === undefined ? undefined : toSeconds(execution.redriveDate),
      })),
      nextToken: matching.length > pageSize ? encodeCursor(`executions:${machine.arn}`, page[page.length - 1].sequence) : undefined,
    };
  }

  private async GetExecutionHistory(request: Record<string, any>) {
    const execution = this.executionByArn(request.executionArn);
    const reverse = request.reverseOrder === true;
    const includeData = request.includeExecutionData !== false;
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    const scope = `history:${execution.arn}:${reverse}`;
    const events = this.historyOf(execution);
    const cursor = request.nextToken === undefined ? undefined : decodeCursor(request.nextToken, scope);
    // Event ids are 1-based positions in `events`; the cursor is the id of the last event returned.
    let page;
    if (!reverse) {
      const start = cursor ?? 0;
      page = events.slice(start, start + pageSize);
    } else {
      const end = cursor === undefined ? events.length : cursor - 1;
      page = events.slice(Math.max(0, end - pageSize), end).reverse();
    }
    const last = page[page.length - 1];
    const more = last !== undefined && (reverse ? last.id > 1 : last.id < events.length);
    return {
      events: page.map((event) => eventToWire(event, includeData)),
      nextToken: more ? encodeCursor(scope, last.id) : undefined,
    };
  }

  /**
   * A history only in the store is read once for every page of one listing (the CLI pages by 100, the console by
   * 1,000), not once per page; one is cached at a time. It changes only once the execution runs again (a parked one
   * woken, a redrive), which loads it back into memory; released again, it has another status or redrive count.
   */
  private historyOf(execution: Execution): readonly HistoryEvent[] {
    if (execution.history.loaded) return execution.history.read();
    const cached = this.lastHistoryRead;
    const { status, redriveCount } = execution;
    if (cached?.execution === execution && cached.status === status && cached.redriveCount === redriveCount) return cached.events;
    const events = execution.history.read();
    this.lastHistoryRead = { execution, status, redriveCount, events };
    return events;
  }

  private async StopExecution(request: Record<string, any>) {
    const execution = this.executionByArn(request.executionArn);
    if (execution.parked) await execution.wake();
    execution.stop(request.error, request.cause);
    return { stopDate: toSeconds(execution.stopDate ?? this.services.clock.now()) };
  }

  private async SendTaskSuccess(request: Record<string, any>) {
    const output: string = request.output;
    if (exceedsPayloadLimit(output)) {
      throw new StepFunctionsApiError(
        "InvalidOutput",
        `Invalid Output: 'The output has a size of ${Buffer.byteLength(output)} bytes, which exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes'`,
      );
    }
    try {
      JSON.parse(output);
    } catch (error) {
      throw new StepFunctionsApiError("InvalidOutput", `Invalid Output: '${(error as Error).message}'`);
    }
    await this.wakeFor(request.taskToken);
    this.withToken(() => this.services.tokens.succeed(request.taskToken, output));
    return {};
  }

  private async SendTaskFailure(request: Record<string, any>) {
    await this.wakeFor(request.taskToken);
    this.withToken(() => this.services.tokens.fail(request.taskToken, request.error, request.cause));
    return {};
  }

  private async SendTaskHeartbeat(request: Record<string, any>) {
    await this.wakeFor(request.taskToken);
    this.withToken(() => this.services.tokens.heartbeat(request.taskToken));
    return {};
  }

  private async ListStateMachines(request: Record<string, any>) {
    const pageSize = request.maxResults || DEFAULT_PAGE_SIZE;
    const machines = [...this.machines.values()];
    const start = request.nextToken === undefined ? 0 : decodeCursor(request.nextToken, "stateMachines");
    const page = machines.slice(start, start + pageSize);
    return {
      stateMachines: page.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: machine.type,
        creationDate: toSeconds(machine.creationDate),
      })),
      nextToken: start + pageSize < machines.length ? encodeCursor("stateMachines", start + pageSize) : undefined,
    };
  }

  private async DescribeStateMachine(request: Record<string, any>) {
    const machine = this.machine(request.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: machine.status,
      definition: machine.definitionText,
      roleArn: machine.roleArn,
      type: machine.type,
      creationDate: toSeconds(machine.creationDate),
      loggingConfiguration: machine.loggingConfiguration,
      tracingConfiguration: machine.tracingConfiguration,
      revisionId: machine.revisionId,
    };
  }

  private async CreateStateMachine(request: Record<string, any>) {
    rejectVersioning(request);
    const machine = this.createStateMachine({
      name: request.name,
      definition: request.definition,
      roleArn: request.roleArn,
      type: request.type,
      loggingConfiguration: request.loggingConfiguration,
      tracingConfiguration: request.tracingConfiguration,
      tags: request.tags === undefined ? undefined : parseTags(request.tags),
    });
    return { stateMachineArn: machine.arn, creationDate: toSeconds(machine.creationDate) };
  }

  private async DescribeStateMachineForExecution(request: Record<string, any>) {
    const execution = this.executionByArn(request.executionArn);
    // The revision the execution runs, which UpdateStateMachine does not change.
    const revision = execution.machine as MachineRevision;
    return {
      stateMachineArn: revision.arn,
      name: revision.name,
      definition: revision.definitionText,
      roleArn: revision.roleArn,
      updateDate: toSeconds(revision.updateDate),
      loggingConfiguration: revision.loggingConfiguration,
      tracingConfiguration: revision.tracingConfiguration,
      revisionId: revision.revisionId,
    };
  }

  /** https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateStateMachine.html */
  private async UpdateStateMachine(request: Record<string, any>) {
    const machine = this.machine(request.stateMachineArn);
    const changes = ["definition", "roleArn", "loggingConfiguration", "tracingConfiguration", "encryptionConfiguration"];
    if (!changes.some((field) => request[field] !== undefined)) {
      throw new StepFunctionsApiError(
        "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified",
      );
    }
    if (machine.status === "DELETING") {
      throw new StepFunctionsApiError("StateMachineDeleting", `State Machine is being deleted: '${machine.arn}'`);
    }
    rejectVersioning(request);
    if (request.roleArn !== undefined) requireRoleArn(request.roleArn);
    const definition = request.definition === undefined ? machine.definition : checkDefinition(request.definition, machine.type);
    // Executions hold the revision object they started with; the record gets the new one's fields.
    Object.assign(machine, {
      definition,
      definitionText: request.definition ?? machine.definitionText,
      roleArn: request.roleArn ?? machine.roleArn,
      loggingConfiguration: request.loggingConfiguration ?? machine.loggingConfiguration,
      tracingConfiguration: request.tracingConfiguration ?? machine.tracingConfiguration,
      revisionId: randomUUID(),
      updateDate: this.services.clock.now(),
    });
    this.saveMachine(machine);
    return { updateDate: toSeconds(machine.updateDate), revisionId: machine.revisionId };
  }

  /**
   * Marks the state machine DELETING; it is gone once its running executions have ended (they run on).
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachine.html
   */
  private async DeleteStateMachine(request: Record<string, any>) {
    requireArn(request.stateMachineArn, "stateMachine");
    const machine = this.machines.get(request.stateMachineArn);
    // Deleting a state machine that does not exist (any more) succeeds, as on AWS.
    if (!machine) return {};
    machine.status = "DELETING";
    this.saveMachine(machine);
    this.removeIfDeleted(machine);
    return {};
  }

  private async ValidateStateMachineDefinition(request: Record<string, any>) {
    return diagnoseDefinition(request.definition, {
      supportedResource: isSupportedResource,
      stateMachineType: request.type ?? "STANDARD",
      severity: request.severity ?? "ERROR",
      maxResults: request.maxResults,
    });
  }

  private async TagResource(request: Record<string, any>) {
    const machine = this.taggedResource(request.resourceArn);
    mergeTags(machine.tags, parseTags(request.tags), machine.arn);
    this.saveMachine(machine);
    return {};
  }

  private async UntagResource(request: Record<string, any>) {
    const machine = this.taggedResource(request.resourceArn);
    for (const key of request.tagKeys as unknown[]) {
      if (typeof key !== "string") throw new StepFunctionsApiError("SerializationException", "STRING_VALUE expected for 'tagKeys' members");
      machine.tags.delete(key);
    }
    this.saveMachine(machine);
    return {};
  }

  private async ListTagsForResource(request: Record<string, any>) {
    return { tags: tagsToWire(this.taggedResource(request.resourceArn).tags) };
  }

  // --- lookups ----------------------------------------------------------------------------------------

  private machine(arn: string): StateMachineRecord {
    requireArn(arn, "stateMachine");
    const machine = this.machines.get(arn);
    if (!machine) throw new StepFunctionsApiError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  /** Tags live on state machines (activities are not emulated). */
  private taggedResource(arn: string): StateMachineRecord {
    requireArn(arn, "stateMachine");
    const machine = this.machines.get(arn);
    if (!machine) throw new StepFunctionsApiError("ResourceNotFound", `Resource not found: '${arn}'`);
    return machine;
  }

  /** A DELETING state machine goes once none of its executions runs. */
  private removeIfDeleted(machine: StateMachineRecord): void {
    if (machine.status !== "DELETING") return;
    for (const execution of machine.executions.values()) if (execution.status === "RUNNING") return;
    this.machines.delete(machine.arn);
    this.options.persistence?.deleteMachine(machine.arn);
    for (const execution of machine.executions.values()) this.executions.delete(execution.arn);
  }

  private executionByArn(arn: string): Execution {
    requireArn(arn, "execution");
    const execution = this.executions.get(arn);
    if (!execution) throw new StepFunctionsApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  /**
   * A callback for a parked execution's task: the execution is replayed first, so the task is live to take it.
   * Every call for the token while that replay runs waits on the same promise, so they are answered in the order
   * they came (the replay may make the token live before it ends, and a later call must not overtake).
   */
  private wakeFor(taskToken: string): Promise<void> {
    const pending = this.waking.get(taskToken);
    if (pending) return pending;
    const executionArn = this.services.tokens.parkedExecutionOf(taskToken);
    const execution = executionArn === undefined ? undefined : this.executions.get(executionArn);
    if (!execution) return Promise.resolve();
    const woken = execution.wake().finally(() => this.waking.delete(taskToken));
    this.waking.set(taskToken, woken);
    return woken;
  }

  private withToken(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (error instanceof TaskTokenError) throw new StepFunctionsApiError(error.code, error.message);
      throw error;
    }
  }
}

/** Validates a definition as CreateStateMachine and UpdateStateMachine do. */
/** A frozen copy of the machine's current revision: what a new execution runs, whatever updates follow. */
function currentRevision(machine: StateMachineRecord): MachineRevision {
  const { arn, name, roleArn, definition, definitionText, loggingConfiguration, tracingConfiguration, revisionId, updateDate } = machine;
  return Object.freeze({
    arn,
    name,
    roleArn,
    definition,
    definitionText,
    loggingConfiguration,
    tracingConfiguration,
    revisionId,
    updateDate,
  });
}

/** Versions and aliases are not emulated: a request that would publish one is refused by name, never ignored. */
function rejectVersioning(request: Record<string, any>): void {
  if (request.versionDescription !== undefined && request.publish !== true) {
    throw new StepFunctionsApiError("ValidationException", "Version description can only be set when publish is true");
  }
  if (request.publish === true) {
    throw new StepFunctionsApiError(
      "ValidationException",
      "publish: state machine versions and aliases are not emulated by the local runtime (see docs/stepfunctions-api.md)",
    );
  }
}

/** Threads whose last recorded event is a Lambda call started but not answered: the call was in flight. */
function countCallsInFlight(events: readonly HistoryEvent[]): number {
  const lastByThread = new Map<string | undefined, string>();
  for (const event of events) lastByThread.set(event.thread, event.type);
  return [...lastByThread.values()].filter((type) => type === "TaskStarted" || type === "LambdaFunctionStarted").length;
}

/**
 * Whether a restored running execution can wait parked, not replayed: its only live step is a callback task of its
 * own thread (not a branch or iteration, so nothing else runs) that has handed its token out and waits, and none of
 * its deadlines has passed (overdue timers fire at once in deadline order, which replaying them all together gives).
 * Anything else (a Wait state, a retry delay, a call in flight, a callback acknowledged before the stop, rows kept by
 * an earlier version) is replayed at restore as before.
 */
function parkingOf(execution: Execution, waiting: ReadonlyArray<[string, StoredToken]> | undefined, now: number): Parking | undefined {
  if (waiting?.length !== 1) return undefined;
  const [token, stored] = waiting[0];
  if (!stored.handedOut || stored.handedOut.thread !== attemptKey(execution.redriveCount)) return undefined;
  const deadlines = [stored.handedOut.taskDeadline, stored.heartbeatDeadline, execution.deadline].filter((at) => at !== undefined);
  if (deadlines.some((at) => at <= now)) return undefined;
  return { token, deadlines, lastEventType: "TaskSubmitted" };
}

/** Paging tokens: opaque to callers, bound to the listing they came from. */
function encodeCursor(scope: string, position: number): string {
  return Buffer.from(JSON.stringify([scope, position])).toString("base64url");
}

function decodeCursor(token: string, scope: string): number {
  try {
    const [tokenScope, position] = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (tokenScope === scope && Number.isInteger(position) && position >= 0) return position;
  } catch {
    // falls through to the error below
  }
  throw new StepFunctionsApiError("InvalidToken", `Invalid Token: 'Invalid nextToken: ${token}'`);
}
