/**
 * IAM enforcement modes, in a file of their own so the CLI can check `--iam` without loading the enforcer
 * (the CLI loads the runtime, and with it Pulumi and the AWS SDK, only after its arguments are valid).
 */
export const IAM_MODES = ["enforce", "warn", "off"] as const;
export type IamMode = (typeof IAM_MODES)[number];
