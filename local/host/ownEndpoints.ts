/**
 * The runtime's own endpoints, all under `/_local/` so they never shadow an AWS API or a program route a
 * user would declare, and the answer every other request gets while the runtime is not ready.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../common/http";

export type RuntimePhase = "starting" | "restoring" | "ready" | "stopping";

/** `GET /_local/health`'s body. */
export interface RuntimeStatus {
  status: RuntimePhase;
  stack: string;
  /** The runtime's process id (to watch or signal it). */
  pid: number;
  /** Once ready: */
  origin?: string;
  outputs?: Record<string, unknown>;
  services?: Array<{ signingNames: string[]; resourceTypes: string[]; resources: number }>;
  runningExecutions?: number;
}

export const OWN_PREFIX = "/_local/";

/** Seconds a client is told to wait before it asks again (the program usually loads within a few). */
const RETRY_AFTER_SECONDS = 1;

/**
 * The runtime's own endpoints (health). Other `/_local/` pages belong to services (the SNS outbox under
 * `/_local/sns/`) and are routed like any request once the runtime is ready.
 */
export function isOwnEndpoint(req: IncomingMessage): boolean {
  return (req.url ?? "").split("?")[0] === `${OWN_PREFIX}health`;
}

export function answerOwnEndpoint(req: IncomingMessage, res: ServerResponse, status: RuntimeStatus): void {
  req.resume();
  const path = (req.url ?? "").split("?")[0];
  if (path === `${OWN_PREFIX}health`) {
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { message: `${req.method} is not allowed on ${path}` });
    const ready = status.status === "ready";
    return sendJson(res, ready ? 200 : 503, status, ready ? {} : { "Retry-After": String(RETRY_AFTER_SECONDS) });
  }
  sendJson(res, 404, { message: `No runtime endpoint ${path} (there is ${OWN_PREFIX}health)` });
}

/** The 503 every request gets while the runtime is starting or stopping: status, headers and body. */
export interface NotReadyAnswer {
  headers: Record<string, string>;
  /** For any path but the health endpoint. */
  errorBody: string;
  /** For `GET /_local/health`. */
  healthBody: string;
}

/**
 * While starting or stopping, every request gets 503 with Retry-After and the JSON protocols' error shape
 * (`ServiceUnavailable`, AWS's common error for a temporary failure), which the AWS SDKs retry by themselves.
 */
export function notReadyAnswer(status: RuntimeStatus): NotReadyAnswer {
  const message =
    status.status === "stopping"
      ? "The local runtime is stopping"
      : `The local runtime is still loading the program; retry in ${RETRY_AFTER_SECONDS} s (GET ${OWN_PREFIX}health answers 200 once ready)`;
  return {
    headers: {
      "Content-Type": "application/json",
      "Retry-After": String(RETRY_AFTER_SECONDS),
      "x-amzn-ErrorType": "ServiceUnavailable",
      ...(status.status === "stopping" ? { Connection: "close" } : {}),
    },
    errorBody: JSON.stringify({ __type: "ServiceUnavailable", message }),
    healthBody: JSON.stringify(status),
  };
}

export function answerNotReady(req: IncomingMessage, res: ServerResponse, status: RuntimeStatus): void {
  req.resume();
  const answer = notReadyAnswer(status);
  const path = (req.url ?? "").split("?")[0];
  res.writeHead(503, answer.headers).end(path === `${OWN_PREFIX}health` ? answer.healthBody : answer.errorBody);
}
