/**
 * Stack configuration, read the way the Pulumi CLI reads it before it runs a program:
 * project declarations (`config:` in Pulumi.yaml, with types and defaults), then the stack's
 * `Pulumi.<stack>.yaml`, then `-c key=value` overrides (as `pulumi up -c` does).
 * https://www.pulumi.com/docs/iac/concepts/projects/project-file/#config-options
 *
 * The result is the flat map Pulumi hands a program (`PULUMI_CONFIG`): "namespace:key" → string, where
 * structured values are JSON text, exactly what `new pulumi.Config().getNumber(...)` etc. parse.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/** The types a project may declare for a config key (Pulumi's project schema allows exactly these). */
export type DeclaredConfigType = "string" | "integer" | "boolean" | "array";

export interface ConfigDeclaration {
  type?: DeclaredConfigType;
  description?: string;
  /** Already in Pulumi's string form (JSON text for arrays). */
  default?: string;
  secret?: boolean;
}

export interface ProjectFile {
  /** Directory holding Pulumi.yaml. */
  directory: string;
  name: string;
  runtime: string;
  /** Absolute path of the program module to evaluate (Pulumi.yaml `main`, else package.json `main`, else index.ts). */
  main: string;
  /** Where `Pulumi.<stack>.yaml` files live (`stackConfigDir`, default the project directory). */
  stackConfigDirectory: string;
  /** Declarations of project-namespaced keys, by bare key name. */
  declarations: Map<string, ConfigDeclaration>;
  /** Values Pulumi.yaml sets for other namespaces (`aws:region: {value: ...}`), fully-qualified keys. */
  projectValues: Map<string, string>;
}

/** A configuration problem the user must fix; the message says what was wrong and what was received. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const DECLARABLE_TYPES: readonly DeclaredConfigType[] = ["string", "integer", "boolean", "array"];

export function readProjectFile(directory: string): ProjectFile {
  const file = ["Pulumi.yaml", "Pulumi.yml"].map((name) => path.join(directory, name)).find((candidate) => fs.existsSync(candidate));
  if (!file) throw new ConfigError(`No Pulumi.yaml in ${directory}: run from the project directory (the one holding Pulumi.yaml)`);
  const document = parseYamlFile(file);
  if (typeof document?.name !== "string" || !document.name) throw new ConfigError(`${file}: "name" (the project name) is required`);
  if (typeof document.runtime !== "string" && typeof document.runtime?.name !== "string") {
    throw new ConfigError(`${file}: "runtime" is required`);
  }
  const runtime = typeof document.runtime === "string" ? document.runtime : document.runtime.name;
  if (runtime !== "nodejs")
    throw new ConfigError(`${file}: runtime "${runtime}" is not supported locally; only "nodejs" programs can be evaluated`);

  const project: string = document.name;
  const declarations = new Map<string, ConfigDeclaration>();
  const projectValues = new Map<string, string>();
  for (const [rawKey, entry] of Object.entries<any>(document.config ?? {})) {
    const { namespace, name } = splitKey(rawKey, project, `${file}: config key`);
    const isObject = entry !== null && typeof entry === "object" && !Array.isArray(entry);
    if (namespace !== project) {
      // Other namespaces (aws:region) take `value:`; Pulumi rejects `default:` there.
      if (isObject && "default" in entry) {
        throw new ConfigError(`${file}: config key "${rawKey}" is not in the project's namespace and cannot have a default; use "value"`);
      }
      projectValues.set(`${namespace}:${name}`, toConfigString(isObject && "value" in entry ? entry.value : entry));
      continue;
    }
    if (!isObject) {
      // Short form `key: value` declares the key with that default, its type inferred.
      declarations.set(name, { type: inferType(entry), default: toConfigString(entry) });
      continue;
    }
    const type = entry.type ?? (entry.default !== undefined ? inferType(entry.default) : undefined);
    if (type !== undefined && !DECLARABLE_TYPES.includes(type)) {
      throw new ConfigError(`${file}: config key "${rawKey}" has type "${type}"; Pulumi allows ${DECLARABLE_TYPES.join(", ")}`);
    }
    const declaration: ConfigDeclaration = { type, description: entry.description, secret: entry.secret === true };
    if (entry.default !== undefined) {
      declaration.default = toConfigString(entry.default);
      checkType(name, declaration, declaration.default, `${file}: default of`);
    }
    declarations.set(name, declaration);
  }

  return {
    directory,
    name: project,
    runtime,
    main: resolveMain(directory, document.main),
    stackConfigDirectory: path.resolve(directory, document.stackConfigDir ?? "."),
    declarations,
    projectValues,
  };
}

/** Stack names that have a config file, for error messages. */
export function listStacks(project: ProjectFile): string[] {
  return fs
    .readdirSync(project.stackConfigDirectory)
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/**
 * The configuration a program sees for `stack`: declared defaults < Pulumi.yaml values < stack file < overrides.
 * `overrides` are raw `-c` arguments ("key=value"); a bare key belongs to the project's namespace.
 */
export function resolveStackConfig(
  project: ProjectFile,
  stack: string,
  overrides: readonly string[] = [],
  /** Filled with where each key's value came from ("Pulumi.yaml default", "Pulumi.dev.yaml", "-c"), for the banner. */
  sources?: Map<string, string>,
): Record<string, string> {
  const stackFile = ["yaml", "yml"]
    .map((extension) => path.join(project.stackConfigDirectory, `Pulumi.${stack}.${extension}`))
    .find((candidate) => fs.existsSync(candidate));
  if (!stackFile) {
    const known = listStacks(project);
    throw new ConfigError(
      `No stack "${stack}": Pulumi.${stack}.yaml not found in ${project.stackConfigDirectory} (stacks: ${known.join(", ") || "none"})`,
    );
  }

  const config: Record<string, string> = {};
  for (const [name, declaration] of project.declarations) {
    if (declaration.default !== undefined) {
      config[`${project.name}:${name}`] = declaration.default;
      sources?.set(`${project.name}:${name}`, "Pulumi.yaml default");
    }
  }
  for (const [key, value] of project.projectValues) {
    config[key] = value;
    sources?.set(key, "Pulumi.yaml");
  }

  const stackDocument = parseYamlFile(stackFile) ?? {};
  for (const [rawKey, value] of Object.entries<any>(stackDocument.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      throw new ConfigError(
        `${stackFile}: "${rawKey}" is an encrypted secret, which cannot be decrypted offline; pass it with -c ${rawKey}=VALUE`,
      );
    }
    const key = setChecked(config, project, rawKey, toConfigString(value), `${stackFile}: key`);
    sources?.set(key, path.basename(stackFile));
  }

  for (const override of overrides) {
    const separator = override.indexOf("=");
    if (separator <= 0) throw new ConfigError(`-c expects key=value, got "${override}"`);
    const key = setChecked(config, project, override.slice(0, separator), override.slice(separator + 1), `-c`);
    sources?.set(key, "-c");
  }
  return config;
}

/** Sets one checked value; returns its fully-qualified key. */
function setChecked(config: Record<string, string>, project: ProjectFile, rawKey: string, value: string, where: string): string {
  const { namespace, name } = splitKey(rawKey, project.name, where);
  if (namespace === project.name) {
    const declaration = project.declarations.get(name);
    // Pulumi: once a project declares config, an undeclared project key is an error (catches typos).
    if (!declaration && project.declarations.size > 0) {
      const known = [...project.declarations.keys()].sort().join(", ");
      throw new ConfigError(`${where} "${rawKey}": the project "${project.name}" declares no such config key (declared: ${known})`);
    }
    if (declaration) checkType(name, declaration, value, `${where}`);
  }
  config[`${namespace}:${name}`] = value;
  return `${namespace}:${name}`;
}

function checkType(name: string, declaration: ConfigDeclaration, value: string, where: string): void {
  const valid = (() => {
    switch (declaration.type) {
      case "integer":
        return /^-?\d+$/.test(value.trim());
      case "boolean":
        return value === "true" || value === "false";
      case "array":
        try {
          return Array.isArray(JSON.parse(value));
        } catch {
          return false;
        }
      default:
        return true;
    }
  })();
  if (!valid)
    throw new ConfigError(
      `${where} "${name}": must be of type ${declaration.type} (declared in Pulumi.yaml), got ${JSON.stringify(value)}`,
    );
}

/** "key" → project namespace; "ns:key" as is; anything else is rejected as Pulumi does. */
function splitKey(rawKey: string, project: string, where: string): { namespace: string; name: string } {
  const parts = rawKey.split(":");
  if (parts.length > 2 || parts.some((part) => part.trim() === "")) {
    throw new ConfigError(`${where} "${rawKey}" is not a valid configuration key (expected "name" or "namespace:name")`);
  }
  return parts.length === 1 ? { namespace: project, name: parts[0] } : { namespace: parts[0], name: parts[1] };
}

function inferType(value: unknown): DeclaredConfigType {
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  if (Array.isArray(value)) return "array";
  return "string";
}

/** Pulumi passes every config value as a string; structured values as JSON text. */
function toConfigString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function parseYamlFile(file: string): any {
  try {
    return parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
}

function resolveMain(directory: string, main: unknown): string {
  if (typeof main === "string" && main) return path.resolve(directory, main);
  const packageJson = path.join(directory, "package.json");
  if (fs.existsSync(packageJson)) {
    const packageMain = JSON.parse(fs.readFileSync(packageJson, "utf8")).main;
    if (typeof packageMain === "string" && packageMain) return path.resolve(directory, packageMain);
  }
  return path.join(directory, "index.ts");
}
