/**
 * TestState: runs one state, alone, through the engine's own state execution (interpreter.ts), and answers
 * how it ended (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR), where it would go next, its output, and at DEBUG
 * the data flow step by step. A Task without a mock really calls its resource, as the given role.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html
 */
import { randomUUID } from "node:crypto";
import type { MapState, ParallelState, State, SubStateMachine, TaskState } from "./asl/types";
import { StepFunctionsApiError } from "./apiErrors";
import { requireRoleArn, stateMachineArn } from "./arns";
import type { ExecutionContextBase } from "./context";
import { StatesError, STATES_ERRORS, toStatesError } from "./errors";
import { checkDefinition } from "./definitionCheck";
import { History } from "./history";
import { RetryDue, type InspectionStep, type StateInspector } from "./inspection";
import { executeState, RunScope, type EngineServices } from "./interpreter";
import { parseTaskResource } from "./resources";
import type { StateStep } from "./states/handler";
import { VariableScope } from "./variables";

/** AWS stops a TestState run after five minutes with States.Timeout. */
export const TEST_STATE_LIMIT_MS = 5 * 60 * 1000;
const TEST_MACHINE_NAME = "TestStateMachine";

export interface TestStateRequest {
  definition: string;
  roleArn?: string;
  input?: string;
  inspectionLevel?: "INFO" | "DEBUG" | "TRACE";
  revealSecrets?: boolean;
  variables?: string;
  stateName?: string;
  mock?: { result?: string; errorOutput?: { error?: string; cause?: string }; fieldValidationMode?: "STRICT" | "PRESENT" | "NONE" };
  context?: string;
  stateConfiguration?: {
    retrierRetryCount?: number;
    errorCausedByState?: string;
    mapIterationFailureCount?: number;
    mapItemReaderData?: string;
  };
}

export interface TestStateResponse {
  status: "SUCCEEDED" | "FAILED" | "RETRIABLE" | "CAUGHT_ERROR";
  output?: string;
  error?: string;
  cause?: string;
  nextState?: string;
  inspectionData?: Record<string, unknown>;
}

export interface TestStateOptions {
  services: EngineServices;
  accountId: string;
}

const validation = (message: string) => new StepFunctionsApiError("ValidationException", message);

export async function testState(request: TestStateRequest, options: TestStateOptions): Promise<TestStateResponse> {
  const { name, state, queryLanguage } = stateUnderTest(request.definition, request.stateName);
  const mock = checkMock(request, state);
  if (!mock) {
    if (request.roleArn === undefined) throw validation("roleArn is required to test a state without a mock");
    if (request.context !== undefined) throw validation("context can only be given together with a mock");
  }
  if (request.roleArn !== undefined) requireRoleArn(request.roleArn);
  const unsupported = Object.keys(request.stateConfiguration ?? {}).filter((field) => field !== "retrierRetryCount");
  if (unsupported.length > 0) {
    throw validation(
      `stateConfiguration.${unsupported[0]} is not emulated by the local runtime (Distributed Map is not); see docs/stepfunctions-api.md`,
    );
  }
  const input = parseJson(request.input ?? "{}", "input", "InvalidExecutionInput");
  const variables = request.variables === undefined ? {} : parseJson(request.variables, "variables");
  if (variables === null || typeof variables !== "object" || Array.isArray(variables)) throw validation("variables must be a JSON object");
  const context = request.context === undefined ? undefined : parseJson(request.context, "context");
  if (context !== undefined && (context === null || typeof context !== "object" || Array.isArray(context))) {
    throw validation("context must be a JSON object");
  }

  const { services, accountId } = options;
  const now = services.clock.now();
  const machineArn = stateMachineArn(services.region, accountId, TEST_MACHINE_NAME);
  const executionName = randomUUID();
  const given = (context ?? {}) as Partial<ExecutionContextBase>;
  const contextBase: ExecutionContextBase = {
    Execution: {
      Id: `${machineArn.replace(":stateMachine:", ":execution:")}:${executionName}`,
      Input: input,
      Name: executionName,
      RoleArn: request.roleArn ?? "",
      StartTime: new Date(now).toISOString(),
      RedriveCount: 0,
      ...given.Execution,
    },
    StateMachine: { Id: machineArn, Name: TEST_MACHINE_NAME, ...given.StateMachine },
  };

  const steps: Partial<Record<InspectionStep, unknown>> = {};
  const inspector: StateInspector = {
    note: (step, value) => void (steps[step] = value),
    execute: async (tested, effectiveInput, run) => (mock ? mockedStep(tested, effectiveInput, run, mock) : undefined),
    retriesMade: request.stateConfiguration?.retrierRetryCount ?? 0,
  };
  const controller = new AbortController();
  const limit = services.clock.setTimer(
    () => controller.abort(new StatesError(STATES_ERRORS.Timeout, "The state did not finish within the five minutes TestState allows")),
    TEST_STATE_LIMIT_MS,
  );
  const scopeVariables = new VariableScope();
  scopeVariables.assign(variables as Record<string, unknown>);
  // Its own history (nothing is kept) and no progress lines: a test is not an execution.
  const quiet: EngineServices = Object.create(services, { log: { value: undefined }, onHistoryEvent: { value: undefined } });
  const scope = new RunScope(
    quiet,
    contextBase.Execution.Id,
    executionName,
    contextBase,
    new History(() => quiet.clock.now()).thread(),
    controller.signal,
    queryLanguage,
    scopeVariables,
  );
  scope.inspector = inspector;

  let response: TestStateResponse;
  const errorDetails: Record<string, number> = {};
  try {
    const outcome = await executeState(name, state, input, scope);
    response = { status: "SUCCEEDED", output: JSON.stringify(outcome.output), nextState: outcome.end ? undefined : outcome.next };
    if (inspector.caught) {
      const { error, catchIndex } = inspector.caught;
      response = { ...response, status: "CAUGHT_ERROR", error: error.error, cause: error.cause || undefined };
      errorDetails.catchIndex = catchIndex;
    }
  } catch (thrown) {
    if (thrown instanceof RetryDue) {
      response = { status: "RETRIABLE", error: thrown.error.error, cause: thrown.error.cause || undefined };
      errorDetails.retryIndex = thrown.retryIndex;
      errorDetails.retryBackoffIntervalSeconds = thrown.delayMs / 1000;
    } else {
      const error = toStatesError(thrown);
      response = { status: "FAILED", error: error.error, cause: error.cause || undefined };
    }
  } finally {
    limit.cancel();
  }
  response.inspectionData = inspectionData(request, input, steps, scope.variables.all(), errorDetails);
  // Absent members stay absent (as on the wire).
  return Object.fromEntries(Object.entries(response).filter(([, value]) => value !== undefined)) as TestStateResponse;
}

/**
 * INFO answers only how the state ended (and which retrier or catcher handled it); DEBUG adds the data flow.
 * TRACE adds the HTTP request and response of an HTTP Task, which the local runtime does not run (such a
 * definition is refused), so for every other state it answers as DEBUG does.
 */
function inspectionData(
  request: TestStateRequest,
  input: unknown,
  steps: Partial<Record<InspectionStep, unknown>>,
  variables: Readonly<Record<string, unknown>>,
  errorDetails: Record<string, number>,
): Record<string, unknown> | undefined {
  const data: Record<string, unknown> = {};
  if (request.inspectionLevel === "DEBUG" || request.inspectionLevel === "TRACE") {
    data.input = JSON.stringify(input);
    for (const [step, value] of Object.entries(steps)) data[step] = JSON.stringify(value);
    data.variables = JSON.stringify(variables);
  }
  if (Object.keys(errorDetails).length > 0) data.errorDetails = errorDetails;
  return Object.keys(data).length > 0 ? data : undefined;
}

/** The state to run: the definition itself, or with `stateName` the named state of a whole state machine. */
function stateUnderTest(
  definitionText: string,
  stateName: string | undefined,
): { name: string; state: State; queryLanguage: "JSONPath" | "JSONata" } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definitionText);
  } catch (error) {
    throw new StepFunctionsApiError(
      "InvalidDefinition",
      `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${(error as Error).message}'`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new StepFunctionsApiError(
      "InvalidDefinition",
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The definition must be a JSON object at /'",
    );
  }
  if (stateName !== undefined) {
    const definition = checkDefinition(definitionText, "STANDARD");
    const state = findState(definition, stateName);
    if (!state) throw validation(`The state '${stateName}' does not exist in the definition`);
    return { name: stateName, state, queryLanguage: state.QueryLanguage ?? definition.QueryLanguage ?? "JSONPath" };
  }
  const single = parsed as Record<string, unknown>;
  if (typeof single.Type !== "string") {
    throw new StepFunctionsApiError(
      "InvalidDefinition",
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: A single state needs a Type (to test a state of a whole state machine, give stateName) at /Type'",
    );
  }
  // Validated as the one state of a machine; the states it names as next are stand-ins, never run.
  const name = "TestState";
  const targets = transitionTargets(single).filter((target) => target !== name);
  const ends =
    single.Type === "Choice" ||
    single.Type === "Succeed" ||
    single.Type === "Fail" ||
    single.Next !== undefined ||
    single.End !== undefined;
  const wrapped = {
    QueryLanguage: single.QueryLanguage,
    StartAt: name,
    States: {
      [name]: ends ? single : { ...single, End: true },
      ...Object.fromEntries(targets.map((target) => [target, { Type: "Succeed" }])),
    },
  };
  const definition = checkDefinition(JSON.stringify(wrapped), "STANDARD");
  return { name, state: definition.States[name], queryLanguage: definition.States[name].QueryLanguage ?? "JSONPath" };
}

function transitionTargets(state: Record<string, any>): string[] {
  const targets = new Set<string>();
  if (typeof state.Next === "string") targets.add(state.Next);
  if (typeof state.Default === "string") targets.add(state.Default);
  for (const rule of Array.isArray(state.Choices) ? state.Choices : []) if (typeof rule?.Next === "string") targets.add(rule.Next);
  for (const catcher of Array.isArray(state.Catch) ? state.Catch : []) if (typeof catcher?.Next === "string") targets.add(catcher.Next);
  return [...targets];
}

/** A state anywhere in the definition (state names are unique across a state machine). */
function findState(block: SubStateMachine, name: string): State | undefined {
  if (block.States[name]) return block.States[name];
  for (const state of Object.values(block.States)) {
    const nested =
      state.Type === "Parallel"
        ? (state as ParallelState).Branches
        : state.Type === "Map"
          ? [(state as MapState).ItemProcessor ?? (state as MapState).Iterator]
          : [];
    for (const inner of nested) {
      const found = inner && findState(inner, name);
      if (found) return found;
    }
  }
  return undefined;
}

type Mock = NonNullable<TestStateRequest["mock"]>;

/**
 * A mock stands in for the work of a Task, Map or Parallel state; without one, Map, Parallel and callback
 * tasks cannot be tested (AWS's rule: they would need other executions or a caller's token).
 */
function checkMock(request: TestStateRequest, state: State): Mock | undefined {
  const { mock } = request;
  const mockable = state.Type === "Task" || state.Type === "Map" || state.Type === "Parallel";
  if (!mock) {
    if (state.Type === "Map" || state.Type === "Parallel") throw validation(`A ${state.Type} state can only be tested with a mock`);
    if (state.Type === "Task" && (state as TaskState).Resource.endsWith(".waitForTaskToken")) {
      throw validation("A .waitForTaskToken task can only be tested with a mock");
    }
    return undefined;
  }
  if (!mockable) throw validation(`A mock can only be specified for Task, Map, or Parallel states, not for a ${state.Type} state`);
  if ((mock.result === undefined) === (mock.errorOutput === undefined))
    throw validation("A mock needs exactly one of result or errorOutput");
  if (mock.errorOutput !== undefined && typeof mock.errorOutput.error !== "string") {
    throw validation("mock.errorOutput.error is required when mock.errorOutput is specified");
  }
  if (mock.result !== undefined) validateMockResult(state, parseJson(mock.result, "mock.result"), mock.fieldValidationMode ?? "STRICT");
  return mock;
}

/** The mocked outcome: the state's request is still built (it is part of the data flow), then the mock answers. */
async function mockedStep(state: State, input: unknown, run: Parameters<StateInspector["execute"]>[2], mock: Mock): Promise<StateStep> {
  if (state.Type === "Task" || state.Type === "Parallel") {
    const template = run.isJsonata ? (state as TaskState).Arguments : (state as TaskState).Parameters;
    const callback = state.Type === "Task" && (state as TaskState).Resource.endsWith(".waitForTaskToken");
    await run.payload(template, input, "Arguments", callback ? { Task: { Token: randomUUID() } } : undefined);
  }
  if (mock.errorOutput) throw new StatesError(mock.errorOutput.error!, mock.errorOutput.cause ?? "");
  return { result: JSON.parse(mock.result!) };
}

/** Field types of the results the local integrations answer with (their APIs' response shapes). */
const RESULT_SHAPES: Record<string, Record<string, "string" | "integer" | "any">> = {
  lambdaInvoke: {
    ExecutedVersion: "string",
    FunctionError: "string",
    LogResult: "string",
    Payload: "any",
    StatusCode: "integer",
    SdkHttpMetadata: "any",
    SdkResponseMetadata: "any",
  },
  "sqs:sendMessage": {
    MD5OfMessageAttributes: "string",
    MD5OfMessageBody: "string",
    MD5OfMessageSystemAttributes: "string",
    MessageId: "string",
    SequenceNumber: "string",
    SdkHttpMetadata: "any",
    SdkResponseMetadata: "any",
  },
  "sns:publish": { MessageId: "string", SequenceNumber: "string", SdkHttpMetadata: "any", SdkResponseMetadata: "any" },
};

/**
 * fieldValidationMode: STRICT and PRESENT check a mocked result against the shape the integration answers with
 * (no field of these responses is required, so the two agree here); NONE checks nothing. A callback task's
 * result is whatever SendTaskSuccess sent, and a plain function ARN's is the function's own payload: anything goes.
 */
function validateMockResult(state: State, result: unknown, mode: "STRICT" | "PRESENT" | "NONE"): void {
  if (mode === "NONE") return;
  if (state.Type === "Map" || state.Type === "Parallel") {
    if (!Array.isArray(result)) throw validation(`The mocked result of a ${state.Type} state must be a JSON array`);
    return;
  }
  if (state.Type !== "Task") return;
  const resource = parseTaskResource((state as TaskState).Resource);
  const shapeName =
    resource?.kind === "lambdaInvoke"
      ? "lambdaInvoke"
      : resource?.kind === "messaging" && !resource.waitForTaskToken
        ? resource.action
        : undefined;
  if (!shapeName) return;
  const shape = RESULT_SHAPES[shapeName];
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    throw validation(`Mock result schema validation error: the result of ${(state as TaskState).Resource} is an object`);
  }
  for (const [field, value] of Object.entries(result)) {
    const type = shape[field];
    if (!type)
      throw validation(`Mock result schema validation error: field '${field}' is not in the response of ${(state as TaskState).Resource}`);
    if (type === "string" && typeof value !== "string")
      throw validation(`Mock result schema validation error: field '${field}' must be a string`);
    if (type === "integer" && !Number.isInteger(value))
      throw validation(`Mock result schema validation error: field '${field}' must be an integer`);
  }
}

function parseJson(text: string, field: string, code: "ValidationException" | "InvalidExecutionInput" = "ValidationException"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (code === "InvalidExecutionInput") {
      throw new StepFunctionsApiError(code, `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    throw validation(`${field} is not valid JSON: ${(error as Error).message}`);
  }
}
