/**
 * Validates a state machine definition once, up front, and reports every problem together, as
 * CreateStateMachine does with its `InvalidDefinition` error.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
 *
 * Layers, all run so that one answer lists everything:
 * 1. JSON syntax;
 * 2. asl-validator (the ASL JSON schema, paths, transitions, terminal states, duplicate names);
 * 3. rules AWS enforces that asl-validator does not (States.ALL placement, reserved error names,
 *    HeartbeatSeconds < TimeoutSeconds, a .waitForTaskToken task that passes no token, intrinsic syntax);
 * 4. the query language of each state and its variables (./validateLanguage.ts);
 * 5. features the local runtime does not emulate, each named (distributed Map, Task Credentials).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type aslValidator from "asl-validator";
import { isStatesErrorName, referencesTaskToken } from "../../../workflow/contract";
import { DEFAULT_TASK_TIMEOUT_SECONDS } from "../limits";
import { parseTimestamp } from "./choice";
import { IntrinsicSyntaxError, isIntrinsic, parseIntrinsic } from "./intrinsics";
import { jsonataExpressionText } from "./jsonata/evaluate";
import { jsonPointer, pointerKeys } from "./jsonPointer";
import type { QueryLanguage, StateMachineDefinition } from "./types";
import { assignProblems, queryLanguageProblems } from "./validateLanguage";

export type * from "./types";

/**
 * Why a definition is refused: `invalid` (AWS would refuse it too), or `unsupported` when every problem is a
 * feature the local runtime does not run (AWS would accept it; the runtime may declare such a machine only).
 */
export type DefinitionErrorKind = "invalid" | "unsupported";

/** Raised for an invalid or unsupported definition; the Step Functions API answers `InvalidDefinition`. */
export class DefinitionError extends Error {
  constructor(
    readonly problems: string[],
    readonly kind: DefinitionErrorKind = "invalid",
  ) {
    // AWS's InvalidDefinition message: "Invalid State Machine Definition: '<CODE>: <detail>, ...'"
    super(`Invalid State Machine Definition: '${problems.join(", ")}'`);
    this.name = "DefinitionError";
  }
}

export interface ValidateOptions {
  /** Whether the local runtime can run a Task `Resource`; a rejected ARN is reported for its state. */
  supportedResource?: (arn: string) => boolean;
  /** EXPRESS state machines cannot wait for a task token. @default "STANDARD" */
  stateMachineType?: "STANDARD" | "EXPRESS";
}

/**
 * Parses and validates `definitionJson`. Returns the definition typed for the engine, or throws
 * `DefinitionError` listing every problem found.
 */
export function validateDefinition(definitionJson: string, options: ValidateOptions = {}): { definition: StateMachineDefinition } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definitionJson);
  } catch (error) {
    throw new DefinitionError([`INVALID_JSON_DESCRIPTION: ${(error as Error).message}`]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new DefinitionError([`SCHEMA_VALIDATION_FAILED: the definition must be a JSON object, received ${JSON.stringify(parsed)}`]);
  }

  const checker = new DefinitionChecker(options);
  const ownProblems = checker.check(parsed as JsonObject);
  const problems: string[] = [];
  for (const error of cachedSchemaErrors(definitionJson, parsed as JsonObject)) {
    // Transition targets are checked by DefinitionChecker for every state, whether or not the schema passed.
    if (error["Error code"] === "MISSING_TRANSITION_TARGET") continue;
    const pointer = error.schemaError?.instancePath;
    // The same `.$` field, reported with a more precise message by DefinitionChecker.
    if (pointer !== undefined && checker.flaggedPointers.has(pointer)) continue;
    // asl-validator's own default QueryLanguage, which it writes into states, tripping its schema.
    if (pointer !== undefined && pointer.endsWith("/QueryLanguage") && !pointerExists(parsed, pointer)) continue;
    // A valid Type reported only because JSON schema `oneOf` tried the other state types' schemas too.
    if (pointer !== undefined && pointer.endsWith("/Type") && STATE_TYPES.has(String(valueAt(parsed, pointer)))) continue;
    problems.push(awsProblem(error));
  }
  problems.push(...ownProblems);

  if (problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new DefinitionError(unique, unique.every((problem) => checker.localLimits.has(problem)) ? "unsupported" : "invalid");
  }
  return { definition: parsed as StateMachineDefinition };
}

/** AWS's form of one problem: `CODE: message at /json/pointer` (several are joined with ", " in InvalidDefinition). */
export function problemText(code: string, message: string, location: string): string {
  return `${code}: ${message} at ${location || "/"}`;
}

/** asl-validator's names for what AWS calls otherwise. */
const AWS_CODES: Record<string, string> = { MISSING_TERMINAL_STATE: "MISSING_END_STATE" };

/** asl-validator's "<pointer> is invalid. <detail>" in AWS's form, naming the field and ending with its location. */
function awsProblem(error: aslValidator.StateMachineError): string {
  const code = AWS_CODES[error["Error code"]] ?? error["Error code"];
  const pointer = error.schemaError?.instancePath;
  if (pointer === undefined || !error.Message.startsWith(pointer)) return `${code}: ${error.Message}`;
  const detail = error.Message.slice(pointer.length).replace(/^ is invalid\.?\s*/, "");
  const field = pointerKeys(pointer).pop()!;
  const subject = pointer === "" ? "The definition" : `The field '${field}'`;
  return problemText(code, `${subject} is invalid: ${detail}`, pointer);
}

/**
 * asl-validator compiles its JSON schemas on every call (~120 ms); the runtime and its tests create the
 * same definitions again and again, so its answer is kept per definition text.
 */
const schemaErrorsByDefinition = new Map<string, readonly aslValidator.StateMachineError[]>();
const SCHEMA_CACHE_LIMIT = 200;

let answersDirectory: string | undefined;
let runVariable: string | undefined;
/** Stands for `runVariable` in kept answers and their keys. */
const RUN_VARIABLE_TOKEN = "{{run-variable}}";

/**
 * Keeps asl-validator's answers on disk in `directory` too (one small file per definition and validator
 * version), so a runtime that starts again with the same definitions neither loads ajv nor compiles its
 * schemas: that was the largest part of a warm start (bench/start.ts). `runVariable` is text that differs
 * from run to run without changing what the schema says (a URL's port: definitions name queue URLs on the
 * runtime's origin): answers are kept with it replaced by a token, so a start on another port finds them.
 * An undefined `directory` keeps answers in memory only (the default).
 */
export function keepSchemaAnswersIn(directory: string | undefined, variable?: string): void {
  answersDirectory = directory;
  runVariable = variable || undefined;
}

function cachedSchemaErrors(definitionJson: string, definition: JsonObject): readonly aslValidator.StateMachineError[] {
  let errors = schemaErrorsByDefinition.get(definitionJson);
  if (!errors) {
    errors = answersDirectory ? storedSchemaErrors(answersDirectory, definitionJson, definition) : schemaErrors(definition);
    if (schemaErrorsByDefinition.size >= SCHEMA_CACHE_LIMIT) schemaErrorsByDefinition.clear();
    schemaErrorsByDefinition.set(definitionJson, errors);
  }
  return errors;
}

function storedSchemaErrors(directory: string, definitionJson: string, definition: JsonObject): aslValidator.StateMachineError[] {
  const variable = runVariable;
  const generalise = (text: string) => (variable ? text.split(variable).join(RUN_VARIABLE_TOKEN) : text);
  const key = createHash("sha256")
    .update(`asl-validator@${validatorVersion()}\0${generalise(definitionJson)}`)
    .digest("hex");
  const file = path.join(directory, `${key}.json`);
  try {
    const kept = fs.readFileSync(file, "utf8");
    return JSON.parse(variable ? kept.split(RUN_VARIABLE_TOKEN).join(variable) : kept);
  } catch {
    const errors = schemaErrors(definition);
    try {
      fs.mkdirSync(directory, { recursive: true });
      fs.writeFileSync(`${file}.${process.pid}.tmp`, generalise(JSON.stringify(errors)));
      fs.renameSync(`${file}.${process.pid}.tmp`, file);
    } catch {
      // Only a speed-up: a directory that cannot be written leaves validation as it was.
    }
    return errors;
  }
}

function validatorVersion(): string {
  return (require("asl-validator/package.json") as { version: string }).version;
}

function schemaErrors(definition: JsonObject): aslValidator.StateMachineError[] {
  const errors = runAslValidator(definition);
  if (!errors.some(isSchemaFailure)) return errors;
  // asl-validator keeps only the deepest schema errors of the whole document (its guard against the noise
  // of JSON schema `oneOf`), and a state's first bad field hides the states nested in it. On this failure
  // path only, each scope (the machine, each Parallel branch, each Map item processor) is checked on its
  // own, with its nested scopes replaced by a trivial machine.
  return scopeSchemaErrors(definition, "");
}

function isSchemaFailure(error: aslValidator.StateMachineError): boolean {
  return error["Error code"] === "SCHEMA_VALIDATION_FAILED";
}

const TRIVIAL_MACHINE = Object.freeze({ StartAt: "Stub", States: { Stub: { Type: "Succeed" } } });

/** Schema errors of one scope and, separately, of each scope nested in it; pointers are absolute. */
function scopeSchemaErrors(scope: JsonObject, prefix: string): aslValidator.StateMachineError[] {
  const nested: aslValidator.StateMachineError[] = [];
  const flattened: JsonObject = { ...scope };
  if (isObject(scope.States)) {
    const states: JsonObject = {};
    for (const [name, state] of Object.entries(scope.States)) {
      states[name] = state;
      if (!isObject(state)) continue;
      const statePointer = jsonPointer(jsonPointer(prefix, "States"), name);
      const flatState: JsonObject = { ...state };
      if (Array.isArray(state.Branches)) {
        flatState.Branches = state.Branches.map((branch, index) => {
          if (!isObject(branch)) return branch;
          nested.push(...scopeSchemaErrors(branch, jsonPointer(jsonPointer(statePointer, "Branches"), index)));
          return TRIVIAL_MACHINE;
        });
      }
      for (const field of ["ItemProcessor", "Iterator"]) {
        const processor = state[field];
        if (!isObject(processor)) continue;
        const { ProcessorConfig, ...machine } = processor;
        nested.push(...scopeSchemaErrors(machine, jsonPointer(statePointer, field)));
        flatState[field] = ProcessorConfig === undefined ? TRIVIAL_MACHINE : { ...TRIVIAL_MACHINE, ProcessorConfig };
      }
      states[name] = flatState;
    }
    flattened.States = states;
  }
  return [...stubbedSchemaErrors(flattened).map((error) => relocate(error, prefix)), ...nested];
}

/**
 * Runs asl-validator on one flat scope, then again with each state it reported replaced by a Succeed stub
 * (or each bad top-level field dropped), until no new schema error appears.
 */
function stubbedSchemaErrors(scope: JsonObject): aslValidator.StateMachineError[] {
  const errors = runAslValidator(scope);
  const reported = new Set(errors.map((error) => error.Message));
  const current = structuredClone(scope);
  let failures = errors.filter(isSchemaFailure);
  for (let round = 0; round < MAX_SCHEMA_ROUNDS && failures.length > 0; round++) {
    let progressed = false;
    for (const error of failures) progressed = stubFailingPart(current, error.schemaError?.instancePath) || progressed;
    if (!progressed) break;
    failures = runAslValidator(current).filter(isSchemaFailure);
    for (const error of failures) {
      if (!reported.has(error.Message)) errors.push(error);
      reported.add(error.Message);
    }
  }
  return errors;
}

const MAX_SCHEMA_ROUNDS = 50;
const SUCCEED_STUB = Object.freeze({ Type: "Succeed", Comment: "stub" });

/**
 * Replaces the state holding `pointer` by a Succeed stub, or drops a bad top-level field, in a flat
 * `scope`, so that the next asl-validator run looks past it. Returns whether anything changed.
 */
function stubFailingPart(scope: JsonObject, pointer: string | undefined): boolean {
  if (pointer === undefined) return false;
  const keys = pointerKeys(pointer);
  if (keys[0] === "States" && keys.length > 1) {
    if (!isObject(scope.States) || scope.States[keys[1]] === SUCCEED_STUB) return false;
    scope.States[keys[1]] = SUCCEED_STUB;
    return true;
  }
  if (keys.length === 0 || keys[0] === "States" || keys[0] === "StartAt" || !(keys[0] in scope)) return false;
  delete scope[keys[0]];
  return true;
}

/** Moves an error found in a nested scope to its place in the whole definition. */
function relocate(error: aslValidator.StateMachineError, prefix: string): aslValidator.StateMachineError {
  if (!prefix) return error;
  const pointer = error.schemaError?.instancePath;
  if (pointer === undefined || !error.Message.startsWith(pointer)) return { ...error, Message: `${error.Message} (in ${prefix})` };
  return {
    ...error,
    Message: prefix + error.Message,
    schemaError: { ...error.schemaError!, instancePath: prefix + pointer },
  };
}

function runAslValidator(definition: JsonObject): aslValidator.StateMachineError[] {
  try {
    // asl-validator writes a default QueryLanguage into every state it reads; it gets its own copy.
    // Loaded on first use: asl-validator brings ajv (some 60 modules), needed only for a definition not validated before.
    const validate = require("asl-validator") as typeof aslValidator;
    return validate(structuredClone(definition), { checkPaths: true, checkArn: true }).errors;
  } catch (error) {
    return [{ "Error code": "SCHEMA_VALIDATION_FAILED", Message: `the definition could not be checked: ${(error as Error).message}` }];
  }
}

const STATE_TYPES = new Set(["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]);

/** Whether a JSON pointer (`/States/A/QueryLanguage`) names a value present in `document`. */
function pointerExists(document: unknown, pointer: string): boolean {
  return valueAt(document, pointer) !== undefined;
}

/** The value a JSON pointer names in `document`, or undefined. */
function valueAt(document: unknown, pointer: string): unknown {
  let node = document;
  for (const key of pointerKeys(pointer)) {
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Walks every state, nested ones included, collecting AWS rules asl-validator misses and unsupported features. */
class DefinitionChecker {
  private readonly problems: string[] = [];
  /** JSON pointers of the `.$` fields reported here, so asl-validator's vaguer report of them is dropped. */
  readonly flaggedPointers = new Set<string>();
  /** The problems that are features the local runtime lacks (AWS accepts them). */
  readonly localLimits = new Set<string>();

  private machineLanguage: QueryLanguage = "JSONPath";

  constructor(private readonly options: ValidateOptions) {}

  /** Reports a feature AWS runs and the local runtime does not. */
  private lacking(code: string, message: string, location: string): void {
    const problem = problemText(code, `${message} is not supported by the local runtime`, location);
    this.localLimits.add(problem);
    this.problems.push(problem);
  }

  check(definition: JsonObject): string[] {
    if (definition.QueryLanguage === "JSONata") this.machineLanguage = "JSONata";
    this.checkScope(definition, "");
    return this.problems;
  }

  /** One set of states with its StartAt: the state machine, a Parallel branch or a Map item processor. */
  private checkScope(scope: JsonObject, pointer: string): void {
    if (!isObject(scope.States)) return;
    const states = scope.States;
    if (typeof scope.StartAt === "string" && !(scope.StartAt in states)) {
      // AWS's own wording for a StartAt that names no state.
      this.problems.push(
        problemText("MISSING_TRANSITION_TARGET", `Missing 'Next' target: ${scope.StartAt}`, jsonPointer(pointer, "StartAt")),
      );
    }
    for (const [name, state] of Object.entries(states)) {
      if (isObject(state)) this.checkState(state, states, jsonPointer(jsonPointer(pointer, "States"), name));
    }
  }

  /**
   * A literal Wait Timestamp must be RFC 3339 (AWS's CreateStateMachine refuses it with this message); a JSONata
   * expression is only known at run time, where the Wait state checks it.
   */
  private checkWaitTimestamp(state: JsonObject, pointer: string): void {
    const timestamp = state.Timestamp;
    if (typeof timestamp !== "string" || jsonataExpressionText(timestamp) !== undefined || parseTimestamp(timestamp)) return;
    const location = jsonPointer(pointer, "Timestamp");
    this.problems.push(problemText("SCHEMA_VALIDATION_FAILED", "String does not match RFC3339 timestamp", location));
    this.flaggedPointers.add(location);
  }

  private checkState(state: JsonObject, siblings: JsonObject, pointer: string): void {
    const language: QueryLanguage =
      state.QueryLanguage === "JSONata" || state.QueryLanguage === "JSONPath" ? state.QueryLanguage : this.machineLanguage;
    for (const problem of [
      ...queryLanguageProblems(state, language, this.machineLanguage, pointer),
      ...assignProblems(state, language, pointer),
    ]) {
      this.problems.push(problem);
      // asl-validator reports the same field only as "must match exactly one schema in oneOf".
      const location = / at (\/\S+)$/.exec(problem);
      if (location) this.flaggedPointers.add(location[1]);
    }

    this.checkTarget(state.Next, siblings, jsonPointer(pointer, "Next"));
    if (state.Type === "Choice") {
      if (Array.isArray(state.Choices)) {
        state.Choices.forEach((rule, index) => {
          if (!isObject(rule)) return;
          this.checkTarget(rule.Next, siblings, jsonPointer(jsonPointer(jsonPointer(pointer, "Choices"), index), "Next"));
          if (language === "JSONPath" && isObject(rule.Assign)) {
            this.checkPayloadTemplate(rule.Assign, jsonPointer(jsonPointer(jsonPointer(pointer, "Choices"), index), "Assign"));
          }
        });
      }
      this.checkTarget(state.Default, siblings, jsonPointer(pointer, "Default"));
    }
    for (const field of ["Retry", "Catch"] as const) {
      if (Array.isArray(state[field])) this.checkErrorHandlers(field, state[field] as unknown[], siblings, jsonPointer(pointer, field));
    }
    if (language === "JSONPath") {
      for (const field of ["Parameters", "ResultSelector", "ItemSelector", "Assign"]) {
        if (isObject(state[field])) this.checkPayloadTemplate(state[field], jsonPointer(pointer, field));
      }
    }

    if (state.Type === "Wait") this.checkWaitTimestamp(state, pointer);
    if (state.Type === "Task") this.checkTask(state, language, pointer);
    if (state.Type === "Parallel" && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, index) => {
        if (isObject(branch)) this.checkScope(branch, jsonPointer(jsonPointer(pointer, "Branches"), index));
      });
    }
    if (state.Type === "Map") this.checkMap(state, pointer);
  }

  /** A transition must name a state of the same scope (AWS's MISSING_TRANSITION_TARGET, also for Default and Catch). */
  private checkTarget(target: unknown, siblings: JsonObject, location: string): void {
    if (typeof target === "string" && !(target in siblings)) {
      this.problems.push(problemText("MISSING_TRANSITION_TARGET", `Missing 'Next' target: ${target}`, location));
    }
  }

  private checkTask(task: JsonObject, language: QueryLanguage, pointer: string): void {
    const problem = (message: string, field: string) =>
      this.problems.push(problemText("SCHEMA_VALIDATION_FAILED", message, jsonPointer(pointer, field)));
    const resource = task.Resource;
    if (typeof resource === "string" && this.options.supportedResource && !this.options.supportedResource(resource)) {
      this.lacking("INVALID_RESOURCE", `The resource '${resource}'`, jsonPointer(pointer, "Resource"));
    }
    if ("Credentials" in task)
      this.lacking(
        "SCHEMA_VALIDATION_FAILED",
        "The field 'Credentials' (cross-account role assumption)",
        jsonPointer(pointer, "Credentials"),
      );

    const heartbeat = task.HeartbeatSeconds;
    const timeout = task.TimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
    if (typeof heartbeat === "number" && typeof timeout === "number" && heartbeat >= timeout) {
      const timeoutText = "TimeoutSeconds" in task ? `${timeout}` : `${timeout}, AWS's default`;
      problem(`HeartbeatSeconds (${heartbeat}) must be smaller than TimeoutSeconds (${timeoutText})`, "HeartbeatSeconds");
    }

    if (typeof resource === "string" && resource.endsWith(".waitForTaskToken")) {
      // https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
      if (
        language === "JSONata"
          ? !JSON.stringify(task.Arguments ?? null).includes("$states.context.Task.Token")
          : !referencesTaskToken(task.Parameters)
      ) {
        problem(
          language === "JSONata"
            ? "A .waitForTaskToken task must pass the token: reference $states.context.Task.Token in its Arguments"
            : "A .waitForTaskToken task must pass the token: reference $$.Task.Token (or $$.Task, or $$) in its Parameters",
          language === "JSONata" ? "Arguments" : "Parameters",
        );
      }
      if (this.options.stateMachineType === "EXPRESS") {
        problem("EXPRESS state machines do not support the .waitForTaskToken integration pattern (use STANDARD)", "Resource");
      }
    }
  }

  private checkMap(map: JsonObject, pointer: string): void {
    const unsupported = (feature: string, location: string) => this.lacking("SCHEMA_VALIDATION_FAILED", feature, location);
    for (const field of ["ItemReader", "ItemBatcher", "ResultWriter"]) {
      if (field in map) unsupported(`The field '${field}' (distributed Map)`, jsonPointer(pointer, field));
    }
    for (const field of [
      "ToleratedFailureCount",
      "ToleratedFailureCountPath",
      "ToleratedFailurePercentage",
      "ToleratedFailurePercentagePath",
    ]) {
      if (field in map) unsupported(`The field '${field}' (distributed Map)`, jsonPointer(pointer, field));
    }
    const processorField = "ItemProcessor" in map ? "ItemProcessor" : "Iterator";
    const processor = map[processorField];
    if (isObject(processor)) {
      if (isObject(processor.ProcessorConfig) && processor.ProcessorConfig.Mode === "DISTRIBUTED") {
        unsupported(
          "ProcessorConfig Mode DISTRIBUTED",
          jsonPointer(jsonPointer(jsonPointer(pointer, processorField), "ProcessorConfig"), "Mode"),
        );
      }
      this.checkScope(processor, jsonPointer(pointer, processorField));
    }
  }

  /**
   * Retry and Catch: `States.ALL` alone and last; names starting with `States.` must be AWS's own.
   * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
   */
  private checkErrorHandlers(field: "Retry" | "Catch", handlers: unknown[], siblings: JsonObject, pointer: string): void {
    const problem = (message: string, location: string) => this.problems.push(problemText("SCHEMA_VALIDATION_FAILED", message, location));
    handlers.forEach((handler, index) => {
      if (!isObject(handler)) return;
      const handlerPointer = jsonPointer(pointer, index);
      if (field === "Catch") this.checkTarget(handler.Next, siblings, jsonPointer(handlerPointer, "Next"));
      const errorEquals = handler.ErrorEquals;
      if (!Array.isArray(errorEquals)) return;
      const errorEqualsPointer = jsonPointer(handlerPointer, "ErrorEquals");
      errorEquals.forEach((errorName, position) => {
        if (typeof errorName !== "string") return;
        if (errorName === "States.ALL" && errorEquals.length > 1) {
          problem("States.ALL must be the only error name in its ErrorEquals", jsonPointer(errorEqualsPointer, position));
        }
        if (errorName.startsWith("States.") && !isStatesErrorName(errorName)) {
          problem(
            `'${errorName}' is not a Step Functions error; names starting with 'States.' are reserved`,
            jsonPointer(errorEqualsPointer, position),
          );
        }
      });
      if (errorEquals.includes("States.ALL") && index !== handlers.length - 1) {
        problem(`The ${field === "Retry" ? "retrier" : "catcher"} with States.ALL must be the last one`, handlerPointer);
      }
    });
  }

  /** Every `.$` field must hold a path or a well-formed intrinsic call. */
  private checkPayloadTemplate(template: unknown, pointer: string): void {
    if (Array.isArray(template)) {
      template.forEach((item, index) => this.checkPayloadTemplate(item, jsonPointer(pointer, index)));
      return;
    }
    if (!isObject(template)) return;
    for (const [key, value] of Object.entries(template)) {
      const fieldPointer = jsonPointer(pointer, key);
      if (!key.endsWith(".$")) {
        this.checkPayloadTemplate(value, fieldPointer);
        continue;
      }
      const flag = (message: string) => {
        this.problems.push(problemText("SCHEMA_VALIDATION_FAILED", `The value for the field '${key}' ${message}`, fieldPointer));
        this.flaggedPointers.add(fieldPointer);
      };
      if (typeof value !== "string") {
        flag(`must be a STRING holding a JSONPath or an intrinsic function call, received ${JSON.stringify(value)}`);
      } else if (isIntrinsic(value)) {
        try {
          parseIntrinsic(value);
        } catch (error) {
          if (!(error instanceof IntrinsicSyntaxError)) throw error;
          flag(`is not a valid intrinsic function call: ${error.reason} (at character ${error.position + 1} of '${value}')`);
        }
      } else if (!value.startsWith("$")) {
        flag(`must be a valid JSONPath ($...) or intrinsic function call (States.Name(...)), received '${value}'`);
      }
    }
  }
}
