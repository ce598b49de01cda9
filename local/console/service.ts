/**
 * The local console, served on the runtime's origin: the page (`/`, `/console/...`), its bundled script and
 * style sheet, a small JSON API over the Step Functions source, and server-sent events for live pages.
 * Writes (start an execution, SendTask*) must come from a page of this origin (`Origin` checked, JSON body
 * required); the runtime refuses every request whose `Host` is not the loopback origin before it gets here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../common/http";
import { isSameOrigin } from "../common/loopback";
import type { DeclaredResource, LocalService } from "../common/service";
import { bundleConsole, consolePage, type ConsoleAssets } from "./assets";
import { LiveUpdates } from "./liveUpdates";
import { isSourceApiError, type SourceApiError, type StepFunctionsSource } from "./source";
import { defaultInputFor } from "./defaultInput";

/** Executions per page of the console's list. */
export const EXECUTIONS_PAGE_SIZE = 25;

const PAGE_PATHS = /^\/console(\/|\/state-machines\/[^/]+|\/executions\/[^/]+)?$/;
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Content-Type-Options": "nosniff",
  // "same-origin", not "no-referrer": under no-referrer the browser sends `Origin: null` on the console's own writes.
  "Referrer-Policy": "same-origin",
};

/** A call IAM refused during an execution (local/iam keeps them), as the execution page lists it. */
export interface DeniedCallView {
  time: Date;
  principal: string;
  action: string;
  resource: string;
  /** False in warn mode: AWS would deny it, the local runtime let it through. */
  enforced: boolean;
  message: string;
}

export class ConsoleService implements LocalService {
  readonly signingNames = [] as const;
  readonly resourceTypes = [] as const;
  private assets?: Promise<ConsoleAssets>;
  private readonly live: LiveUpdates;

  constructor(
    private readonly source: StepFunctionsSource,
    private readonly port: number,
    /** The calls IAM denied during one execution; absent (IAM off, some tests): none. */
    private readonly deniedCalls?: (executionArn: string) => readonly DeniedCallView[],
  ) {
    this.live = new LiveUpdates(source);
  }

  async provision(_resource: DeclaredResource): Promise<void> {}

  /** Declares no resource types: a reload has nothing to take from it (its pages read the services live). */
  async deprovision(_resource: DeclaredResource): Promise<void> {}

  /** Whether a request on the origin is the console's (the program's own routes keep everything else). */
  claims(method: string, pathname: string, programServes: (method: string, path: string) => boolean): boolean {
    if (pathname === "/") return method === "GET" && !programServes("GET", "/");
    return pathname === "/console" || pathname.startsWith("/console/");
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const method = req.method ?? "GET";
    try {
      if (method === "POST") return await this.write(req, res, url.pathname, body);
      if (method !== "GET" && method !== "HEAD")
        return sendJson(res, 405, { message: `${method} is not allowed here` }, { Allow: "GET, POST" });
      if (url.pathname === "/" || PAGE_PATHS.test(url.pathname)) return await this.page(res);
      if (url.pathname.startsWith("/console/assets/")) return await this.asset(res, url.pathname);
      if (url.pathname === "/console/api/live") return this.live.open(res, liveFilter(url));
      return await this.read(res, url);
    } catch (error) {
      if (isSourceApiError(error)) return sendJson(res, error.statusCode, { __type: error.code, message: error.message });
      throw error;
    }
  }

  async close(): Promise<void> {
    this.live.close();
  }

  private loadAssets(): Promise<ConsoleAssets> {
    this.assets ??= bundleConsole().catch((error) => {
      this.assets = undefined;
      throw error;
    });
    return this.assets;
  }

  private async page(res: ServerResponse): Promise<void> {
    const html = consolePage(await this.loadAssets());
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", ...SECURITY_HEADERS }).end(html);
  }

  private async asset(res: ServerResponse, pathname: string): Promise<void> {
    const file = (await this.loadAssets()).files.get(pathname);
    if (!file) return sendJson(res, 404, { message: `No console asset ${pathname}` });
    res
      .writeHead(200, { "Content-Type": file.contentType, "Cache-Control": "public, max-age=31536000, immutable", ...SECURITY_HEADERS })
      .end(file.body);
  }

  private async read(res: ServerResponse, url: URL): Promise<void> {
    const query = url.searchParams;
    // Read before the data: what follows is at least this fresh, so a page that compares it with its live stream's
    // count (liveUpdates.ts) never misses a change.
    const changeCount = this.source.changeCount();
    switch (url.pathname) {
      case "/console/api/state-machines":
        return sendJson(res, 200, { stateMachines: await this.stateMachines(), changeCount });
      case "/console/api/state-machine": {
        const stateMachineArn = required(query, "arn");
        const machine = await this.source.call("DescribeStateMachine", { stateMachineArn });
        const latest = await this.source.call("ListExecutions", { stateMachineArn, maxResults: 1 });
        const latestInput = latest.executions[0]
          ? (await this.source.call("DescribeExecution", { executionArn: latest.executions[0].executionArn })).input
          : undefined;
        return sendJson(res, 200, {
          stateMachine: machine,
          counts: this.source.executionCounts(stateMachineArn),
          defaultInput: defaultInputFor(machine.definition, latestInput),
          changeCount,
        });
      }
      case "/console/api/executions": {
        const stateMachineArn = required(query, "stateMachineArn");
        const page = await this.source.call("ListExecutions", {
          stateMachineArn,
          maxResults: EXECUTIONS_PAGE_SIZE,
          nextToken: query.get("nextToken") ?? undefined,
          statusFilter: query.get("status") ?? undefined,
        });
        return sendJson(res, 200, { ...page, counts: this.source.executionCounts(stateMachineArn), changeCount });
      }
      case "/console/api/execution": {
        const executionArn = required(query, "arn");
        const execution = await this.source.call("DescribeExecution", { executionArn });
        const machine = await this.source.call("DescribeStateMachineForExecution", { executionArn });
        return sendJson(res, 200, {
          execution,
          stateMachine: { stateMachineArn: machine.stateMachineArn, name: machine.name, definition: machine.definition },
          events: await this.history(executionArn),
          waitingTasks: this.source.waitingTasks(executionArn),
          deniedCalls: (this.deniedCalls?.(executionArn) ?? []).map((call) => ({
            time: call.time.getTime(),
            principal: call.principal,
            action: call.action,
            resource: call.resource,
            enforced: call.enforced,
            message: call.message,
          })),
          now: Date.now(),
          changeCount,
        });
      }
      default:
        return sendJson(res, 404, { message: `No console resource ${url.pathname}` });
    }
  }

  private async write(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer): Promise<void> {
    if (!isSameOrigin(req, this.port)) {
      return sendJson(res, 403, {
        __type: "Forbidden",
        message: "Console changes must come from a console page of this origin (Origin header)",
      });
    }
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) {
      return sendJson(res, 415, {
        __type: "UnsupportedMediaType",
        message: "Console changes take a JSON body (Content-Type: application/json)",
      });
    }
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString("utf8"));
    } catch {
      return sendJson(res, 400, { __type: "SerializationException", message: "The request body is not valid JSON" });
    }
    const operation = WRITE_OPERATIONS[pathname];
    if (!operation) return sendJson(res, 404, { message: `No console action ${pathname}` });
    return sendJson(res, 200, await this.source.call(operation, request));
  }

  private async stateMachines() {
    const machines: any[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.source.call("ListStateMachines", { nextToken, maxResults: 1000 });
      machines.push(...page.stateMachines);
      nextToken = page.nextToken;
    } while (nextToken);
    return machines.map((machine) => ({ ...machine, counts: this.source.executionCounts(machine.stateMachineArn) }));
  }

  private async history(executionArn: string) {
    const events: unknown[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.source.call("GetExecutionHistory", { executionArn, nextToken, maxResults: 1000 });
      events.push(...page.events);
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }
}

/** Console actions and the API operation each one is: the same checks and errors as the wire. */
const WRITE_OPERATIONS: Record<string, string> = {
  "/console/api/executions": "StartExecution",
  "/console/api/task/success": "SendTaskSuccess",
  "/console/api/task/failure": "SendTaskFailure",
  "/console/api/task/heartbeat": "SendTaskHeartbeat",
};

function liveFilter(url: URL) {
  const stateMachineArn = url.searchParams.get("stateMachineArn");
  const executionArn = url.searchParams.get("executionArn");
  if (executionArn) return { kind: "execution" as const, arn: executionArn };
  if (stateMachineArn) return { kind: "stateMachine" as const, arn: stateMachineArn };
  return { kind: "all" as const };
}

/** A console request missing what it needs, answered like the API's own validation errors. */
class ConsoleRequestError extends Error implements SourceApiError {
  readonly code = "ValidationException";
  readonly statusCode = 400;
}

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) throw new ConsoleRequestError(`Query parameter '${name}' is required`);
  return value;
}
