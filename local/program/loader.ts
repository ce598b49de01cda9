/**
 * Evaluates the Pulumi program (index.ts) for a stack with Pulumi's mock runtime as the engine, the way
 * `pulumi up` would run it, and records every resource it declares and its stack outputs. The fake cloud
 * (local/cloud/fakeState.ts) answers each declaration with the ids and ARNs a provider would report, with
 * endpoints pointing at the local origin, so outputs such as `startUrl` are the local URLs.
 *
 * A process can evaluate one program: Pulumi's runtime state is global (as it is under the real CLI).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type { DeclaredResource } from "../common/service";
import { DEFAULT_FAKE_CLOUD, fakeInvoke, fakeResource, type FakeCloud } from "../cloud/fakeState";
import { pauseClosureDebugger, resumeClosureDebugger } from "./closureDebugger";
import { readProjectFile, resolveStackConfig, type ProjectFile } from "./config";

export interface LoadProgramOptions {
  /** Directory holding Pulumi.yaml. */
  projectDirectory: string;
  /** Stack name, e.g. "dev". */
  stack: string;
  /** Raw `-c key=value` overrides. */
  configOverrides?: readonly string[];
  /** The local origin ("http://127.0.0.1:3000"); API endpoints in the outputs point here. */
  origin: string;
  /** Account id used in ARNs. @default "123456789012" */
  accountId?: string;
}

/** A declared resource plus what the engine knows about its kind. */
export interface LoadedResource extends DeclaredResource {
  /** A provider-managed (custom) resource, as opposed to a component. */
  custom: boolean;
  /** A multi-language component (e.g. from @pulumi/awsx) whose children a provider plugin would create. */
  remote: boolean;
}

export interface LoadedProgram {
  project: ProjectFile;
  stack: string;
  /** The configuration the program saw ("namespace:key" → string). */
  config: Record<string, string>;
  /** Where each config value came from ("namespace:key" → "Pulumi.yaml default" | "Pulumi.yaml" | "Pulumi.<stack>.yaml" | "-c"). */
  configSources: Record<string, string>;
  cloud: FakeCloud;
  /** In declaration order. */
  resources: LoadedResource[];
  /** Stack outputs, fully resolved, in export order. */
  outputs: Record<string, unknown>;
}

export async function loadProgram(options: LoadProgramOptions): Promise<LoadedProgram> {
  await resumeClosureDebugger();
  try {
    return await evaluateProgram(options);
  } finally {
    // Serving comes next: without the closure serializer's debugger every promise costs a fifth as much.
    await pauseClosureDebugger();
  }
}

async function evaluateProgram(options: LoadProgramOptions): Promise<LoadedProgram> {
  const project = readProjectFile(path.resolve(options.projectDirectory));
  const sources = new Map<string, string>();
  const config = resolveStackConfig(project, options.stack, options.configOverrides, sources);
  const cloud: FakeCloud = {
    // Neither stack config nor environment sets a region: the fake cloud's default (also the unit tests').
    region: config["aws:region"] ?? process.env.AWS_REGION ?? DEFAULT_FAKE_CLOUD.region,
    accountId: options.accountId ?? DEFAULT_FAKE_CLOUD.accountId,
    origin: options.origin,
  };

  const resources: LoadedResource[] = [];
  const failures: Error[] = [];
  // newResource runs synchronously inside MockMonitor.registerResource, so the monitor can hand it the
  // request fields the Mocks interface leaves out (parent, remote).
  let currentRequest: { parent?: string; remote: boolean; custom: boolean } | undefined;
  let pendingResource: LoadedResource | undefined;
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const request = currentRequest ?? { remote: false, custom: args.custom ?? true };
      const { id, state } =
        request.custom || request.remote
          ? fakeResource({ type: args.type, name: args.name, inputs: args.inputs }, cloud)
          : { id: "", state: {} };
      const resource: LoadedResource = {
        urn: "",
        type: args.type,
        name: args.name,
        id,
        inputs: args.inputs,
        state,
        parent: request.parent,
        custom: request.custom,
        remote: request.remote,
      };
      resources.push(resource);
      pendingResource = resource;
      return { id, state };
    },
    call(args) {
      return fakeInvoke(args.token, args.inputs, cloud);
    },
  };

  class RecordingMonitor extends MockMonitor {
    override async registerResource(request: any, callback: (error: any, response: any) => void): Promise<void> {
      currentRequest = { parent: request.getParent() || undefined, remote: request.getRemote?.() === true, custom: request.getCustom() };
      pendingResource = undefined;
      const registration = super.registerResource(request, (error: any, response: any) => {
        if (error) failures.push(error instanceof Error ? error : new Error(String(error)));
        else if (resource) resource.urn = response.getUrn();
        callback(error, response);
      });
      const resource = pendingResource as LoadedResource | undefined;
      currentRequest = undefined;
      return registration;
    }
  }

  await pulumi.runtime.setMocks(mocks, project.name, options.stack, false);
  pulumi.runtime.setMockOptions(new RecordingMonitor(mocks), project.name, options.stack, false);
  pulumi.runtime.setAllConfig(config);

  let programExports: unknown;
  try {
    programExports = require(project.main);
    // A program may export a (possibly async) function returning its outputs, as Pulumi allows.
    if (typeof programExports === "function") programExports = await (programExports as () => unknown)();
    else if (
      programExports &&
      typeof (programExports as any).default === "function" &&
      Object.keys(programExports as object).length === 1
    ) {
      programExports = await (programExports as any).default();
    }
  } catch (error) {
    throw new ProgramError(`Evaluating ${project.main} for stack "${options.stack}" failed: ${describe(error)}`, error);
  }

  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries((programExports as Record<string, unknown>) ?? {})) {
    if (name === "__esModule" || name === "default") continue;
    outputs[name] = await resolveOutput(value);
  }
  await (pulumi.runtime as any).waitForRPCs();
  if (failures.length > 0) throw new ProgramError(`Declaring resources failed: ${failures.map(describe).join("; ")}`, failures[0]);
  return { project, stack: options.stack, config, configSources: Object.fromEntries(sources), cloud, resources, outputs };
}

export class ProgramError extends Error {
  override readonly name = "ProgramError";
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Resolves an exported value (Output, promise, or plain, possibly nested) to what `pulumi stack output --json` shows. */
function resolveOutput(value: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    try {
      (pulumi.output(value) as pulumi.Output<unknown>).apply((resolved: unknown) => {
        resolve(resolved);
        return resolved;
      });
    } catch (error) {
      reject(error);
    }
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
