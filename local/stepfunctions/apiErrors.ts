/**
 * Errors of the Step Functions API, with AWS's codes and message shapes, and the request checks AWS's
 * service model applies before an operation runs (`ValidationException`, `SerializationException`).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
 */

export type StepFunctionsErrorCode =
  | "InvalidToken"
  | "TaskDoesNotExist"
  | "TaskTimedOut"
  | "InvalidOutput"
  | "ValidationException"
  | "ExecutionDoesNotExist"
  | "StateMachineDoesNotExist"
  | "InvalidArn"
  | "InvalidExecutionInput"
  | "InvalidName"
  | "ExecutionAlreadyExists"
  | "StateMachineAlreadyExists"
  | "InvalidDefinition"
  | "InvalidLoggingConfiguration"
  | "UnknownOperationException"
  | "SerializationException"
  | "MissingRequiredParameter"
  | "StateMachineDeleting"
  | "ResourceNotFound"
  | "TooManyTags"
  | "ExecutionNotRedrivable";

/** Any refused call; the wire answers status 400 with `{"__type": code, "message"}` and `x-amzn-errortype`. */
export class StepFunctionsApiError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: StepFunctionsErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = code;
  }
}

export interface FieldRule {
  type: "string" | "integer" | "boolean" | "object" | "array";
  required?: boolean;
  /** Length bounds for strings (UTF-16 units, as the model counts them), value bounds for integers. */
  min?: number;
  max?: number;
  allowed?: readonly string[];
  /** AWS leaves sensitive values out of validation messages ("Value at 'taskToken' ..."). */
  sensitive?: boolean;
}

export type RequestShape = Record<string, FieldRule>;

const TYPE_NAMES = {
  string: "STRING_VALUE",
  integer: "INTEGER_VALUE",
  boolean: "BOOLEAN_VALUE",
  object: "STRUCTURE_VALUE",
  array: "LIST_VALUE",
};

function hasType(value: unknown, type: FieldRule["type"]): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
  }
}

/**
 * Checks a request against its shape: wrong JSON types are a SerializationException; every constraint
 * violation is collected into one ValidationException, worded as AWS words it.
 */
export function checkRequest(request: unknown, shape: RequestShape): Record<string, any> {
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    throw new StepFunctionsApiError("SerializationException", "Start of structure or map found where not expected.");
  }
  const fields = request as Record<string, unknown>;
  const violations: string[] = [];
  for (const [name, rule] of Object.entries(shape)) {
    const value = fields[name];
    if (value === undefined || value === null) {
      if (rule.required) violations.push(`Value null at '${name}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    if (!hasType(value, rule.type)) {
      throw new StepFunctionsApiError(
        "SerializationException",
        `${TYPE_NAMES[rule.type]} expected for '${name}', received ${Array.isArray(value) ? "an array" : typeof value}`,
      );
    }
    const shown = rule.sensitive ? "Value" : `Value '${String(value)}'`;
    if (rule.type === "string") {
      const length = (value as string).length;
      if (rule.min !== undefined && length < rule.min) {
        violations.push(`${shown} at '${name}' failed to satisfy constraint: Member must have length greater than or equal to ${rule.min}`);
      }
      if (rule.max !== undefined && length > rule.max) {
        violations.push(`${shown} at '${name}' failed to satisfy constraint: Member must have length less than or equal to ${rule.max}`);
      }
      if (rule.allowed && !rule.allowed.includes(value as string)) {
        violations.push(
          `${shown} at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${rule.allowed.join(", ")}]`,
        );
      }
    }
    if (rule.type === "integer") {
      if (rule.min !== undefined && (value as number) < rule.min) {
        violations.push(`${shown} at '${name}' failed to satisfy constraint: Member must have value greater than or equal to ${rule.min}`);
      }
      if (rule.max !== undefined && (value as number) > rule.max) {
        violations.push(`${shown} at '${name}' failed to satisfy constraint: Member must have value less than or equal to ${rule.max}`);
      }
    }
  }
  if (violations.length > 0) {
    const count = violations.length === 1 ? "1 validation error" : `${violations.length} validation errors`;
    throw new StepFunctionsApiError("ValidationException", `${count} detected: ${violations.join("; ")}`);
  }
  return fields as Record<string, any>;
}
