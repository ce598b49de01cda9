/**
 * The program as the runtime sees it: evaluated in a child process (evaluator.ts), cached between starts
 * (cache.ts), and watched for edits (watcher.ts).
 */
import { cachePath, readCache, writeCache, type CacheInputs } from "./cache";
import { evaluateInChild, ProgramEvaluationError, withOrigin, type EvaluatedProgram } from "./evaluator";
import { watchProgram, type ProgramWatcher } from "./watcher";

export interface ProgramSourceOptions {
  projectDirectory: string;
  stack: string;
  configOverrides?: readonly string[];
  accountId?: string;
  /** "http://127.0.0.1:PORT": API endpoints in the outputs point here. */
  origin: string;
  /** Where `<stack>/program.json` (the cache) lives. */
  workDirectory: string;
  /** Use and fill the evaluation cache. @default true */
  cache?: boolean;
  log(source: string, line: string): void;
}

export class ProgramSource {
  private sources: string[] = [];
  private watcher: ProgramWatcher | undefined;
  private readonly cacheInputs: CacheInputs;
  private readonly cacheFile: string;

  constructor(private readonly options: ProgramSourceOptions) {
    this.cacheInputs = { projectDirectory: options.projectDirectory, stack: options.stack, configOverrides: options.configOverrides ?? [] };
    this.cacheFile = cachePath(options.workDirectory, options.stack);
  }

  /** The program from the cache when its key still holds (`cached: true`), else evaluated (and cached). */
  async load(): Promise<{ program: EvaluatedProgram; cached: boolean }> {
    const hit = this.options.cache === false ? undefined : readCache(this.cacheFile, this.cacheInputs);
    if (hit) {
      this.setSources(hit.sources);
      return { program: withOrigin(hit.program, this.options.origin), cached: true };
    }
    return { program: await this.evaluate(), cached: false };
  }

  /** Evaluates the program afresh; throws ProgramEvaluationError naming the file when it fails. */
  async evaluate(): Promise<EvaluatedProgram> {
    try {
      const { program, sources } = await evaluateInChild({
        projectDirectory: this.options.projectDirectory,
        stack: this.options.stack,
        configOverrides: this.options.configOverrides,
        accountId: this.options.accountId,
        log: (line) => this.options.log("program", line),
      });
      this.setSources(sources);
      if (this.options.cache !== false) writeCache(this.cacheFile, this.cacheInputs, program, sources);
      return withOrigin(program, this.options.origin);
    } catch (error) {
      // A broken edit may have added a file (the one with the syntax error): watch it too, so fixing it reloads.
      if (error instanceof ProgramEvaluationError) {
        const located = error.location ? [error.location.replace(/:\d+$/, "")] : [];
        this.setSources([...new Set([...this.sources, ...error.sources, ...located])]);
      }
      throw error;
    }
  }

  /** Calls `onChange` with the changed files after each burst of edits to the program's sources. */
  watch(onChange: (files: string[]) => void): void {
    this.watcher ??= watchProgram(this.options.projectDirectory, onChange);
    this.watcher.setSources(this.sources);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private setSources(sources: string[]): void {
    this.sources = sources;
    this.watcher?.setSources(sources);
  }
}
