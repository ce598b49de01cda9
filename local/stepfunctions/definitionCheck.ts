/** A definition checked as CreateStateMachine, UpdateStateMachine and TestState check it: problems are InvalidDefinition. */
import type { StateMachineDefinition } from "./asl/types";
import { DefinitionError, validateDefinition } from "./asl/validate";
import { StepFunctionsApiError } from "./apiErrors";
import { isSupportedResource } from "./resources";

export function checkDefinition(definitionText: string, type: "STANDARD" | "EXPRESS"): StateMachineDefinition {
  try {
    return validateDefinition(definitionText, { supportedResource: isSupportedResource, stateMachineType: type }).definition;
  } catch (error) {
    if (error instanceof DefinitionError) throw new StepFunctionsApiError("InvalidDefinition", error.message, { cause: error });
    throw error;
  }
}
