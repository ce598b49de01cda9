/**
 * Pulumi unit-test mocks for the whole project: every resource the program declares is answered by the shared
 * fake cloud (local/cloud/fakeState.ts, the same answers the local runtime gives) and recorded with its inputs
 * and state, so specs can assert exactly what would be deployed.
 *
 * Idempotent and opt-in: nothing happens on import. A spec calls `loadProgram()` (or `declare()`) in `before`;
 * each call installs fresh mocks, so specs of other parts that use their own mocks are not disturbed.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_FAKE_CLOUD, type FakeCloud, fakeInvoke, fakeResource } from "../local/cloud/fakeState";

export const PROJECT = "sfn-callback";
export const STACK = "test";

export interface RecordedResource {
  /** Pulumi type token, e.g. "aws:lambda/function:Function" */
  type: string;
  /** Logical name */
  name: string;
  /** Inputs as the mock monitor received them (assets kept as Pulumi asset objects) */
  inputs: Record<string, any>;
  /** Outputs the fake cloud answered */
  state: Record<string, any>;
  id: string;
}

export interface RecordedInvoke {
  token: string;
  inputs: Record<string, any>;
}

export interface Declaration<T> {
  /** What the declaring function returned (the program's exports, a component, ...). */
  value: T;
  resources: RecordedResource[];
  invokes: RecordedInvoke[];
}

/** Resolves any Output (or plain value) to its value, as it would be after `pulumi up`. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/**
 * Installs fresh mocks and config, runs `declare` (which declares resources), waits until every registration
 * has reached the mock monitor, and returns what was declared. Config keys are given without the project
 * prefix for this project (`timeoutSeconds`), or fully qualified (`aws:region`).
 */
export async function declare<T>(
  declareResources: () => T,
  options: { config?: Record<string, string>; cloud?: FakeCloud } = {},
): Promise<Declaration<T>> {
  const resources: RecordedResource[] = [];
  const invokes: RecordedInvoke[] = [];
  const cloud = options.cloud ?? DEFAULT_FAKE_CLOUD;
  const config: Record<string, string> = { "aws:region": cloud.region };
  for (const [key, value] of Object.entries(options.config ?? {})) config[key.includes(":") ? key : `${PROJECT}:${key}`] = value;
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const { id, state } = fakeResource({ type: args.type, name: args.name, inputs: args.inputs }, cloud);
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, state, id });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        invokes.push({ token: args.token, inputs: args.inputs });
        return fakeInvoke(args.token, args.inputs, cloud);
      },
    },
    PROJECT,
    STACK,
    false,
  );
  const value = declareResources();
  await settle(value);
  return { value, resources, invokes };
}

/**
 * Declares the program (`index.ts`) afresh under new mocks: its module is evaluated again even if another spec
 * loaded it before, so its resources are recorded here.
 */
export async function loadProgram(
  options: { config?: Record<string, string>; cloud?: FakeCloud } = {},
): Promise<Declaration<Record<string, any>>> {
  const programPath = require.resolve("../index");
  return declare(() => {
    delete require.cache[programPath];
    return require(programPath) as Record<string, any>;
  }, options);
}

/** Resolves every Output the value exposes, then waits for the registrations still queued. */
async function settle(value: unknown): Promise<void> {
  if (value !== null && typeof value === "object") {
    await Promise.all(
      Object.values(value)
        .filter((member) => pulumi.Output.isInstance(member))
        .map((member) => promiseOf(member)),
    );
  }
  // Registrations run asynchronously after their inputs resolve; Pulumi tracks them as outstanding RPCs.
  // waitForRPCs is internal to @pulumi/pulumi (marked @internal) but stable across 3.x, and nothing public waits for them.
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
  if (settings.waitForRPCs) await settings.waitForRPCs();
}

/** The single recorded resource of a type (and optionally a name), or a clear failure listing what was declared. */
export function findOne(resources: RecordedResource[], type: string, name?: string): RecordedResource {
  const matches = resources.filter((resource) => resource.type === type && (name === undefined || resource.name === name));
  if (matches.length !== 1) {
    const declared = resources.map((resource) => `${resource.type} ${resource.name}`).join("\n  ");
    throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}; declared:\n  ${declared}`);
  }
  return matches[0];
}

export function findAll(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((resource) => resource.type === type);
}
