/**
 * Step Functions ARNs: `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME` and
 * `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`. Malformed ones answer `InvalidArn`, as AWS does.
 */
import { StepFunctionsApiError } from "./apiErrors";

export function stateMachineArn(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

export function executionArn(machineArn: string, executionName: string): string {
  const parts = machineArn.split(":");
  return `${parts.slice(0, 5).join(":")}:execution:${parts[6]}:${executionName}`;
}

/** Checks the ARN names a Step Functions resource of `resourceType`; throws InvalidArn otherwise. */
export function requireArn(arn: string, resourceType: "stateMachine" | "execution"): void {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !/^aws(-cn|-us-gov)?$/.test(parts[1]) || parts[2] !== "states") {
    throw new StepFunctionsApiError("InvalidArn", `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  }
  if (parts[5] !== resourceType) {
    throw new StepFunctionsApiError("InvalidArn", `Invalid Arn: 'Resource type not valid in this context: ${parts[5]}'`);
  }
  const expectedParts = resourceType === "stateMachine" ? 7 : 8;
  if (parts.length !== expectedParts || parts.slice(6).some((part) => part === "")) {
    throw new StepFunctionsApiError(
      "InvalidArn",
      `Invalid Arn: 'Invalid ${resourceType === "stateMachine" ? "State Machine" : "Execution"} Arn: ${arn}'`,
    );
  }
}

export function requireRoleArn(arn: string): void {
  if (!/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) {
    throw new StepFunctionsApiError("InvalidArn", `Invalid Arn: 'Invalid Role Arn: ${arn}'`);
  }
}

/**
 * Execution and state machine names: 1–80 characters (checked by the request shape), none of whitespace,
 * `< > { } [ ] ? * " # % \ ^ | ~ \` $ & , ; : /` or control characters.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name
 */
export function requireValidName(name: string): void {
  // Control characters are exactly what AWS forbids here.
  // eslint-disable-next-line no-control-regex
  if (/[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw new StepFunctionsApiError("InvalidName", `Invalid Name: '${name}'`);
  }
}
