/**
 * The approval links' endpoint (API Gateway HTTP API → Lambda proxy): `GET /approve?token=...` calls
 * SendTaskSuccess, `GET /reject?token=...` SendTaskFailure with error `Rejected`, and each answers a short
 * HTML page. A second click, or a click after the wait timed out, gets 409 "already decided" (Step Functions
 * answers TaskTimedOut); a link whose token is mangled or unknown gets 400.
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import { REJECTED_ERROR } from "../../workflow/contract";
import { createSignaller, type TaskSignaller } from "../signal";
import { APPROVAL_PATHS, type ApprovalAction, decodeToken, TOKEN_PARAMETER } from "./links";

/** The parts of an HTTP API proxy event (payload format 2.0 or 1.0) this handler reads. */
export interface ApprovalHttpEvent {
  rawPath?: string;
  path?: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What an approval returns to the waiting step (the step's result). */
export interface ApprovalOutput {
  approved: true;
  decidedAt: string;
}

export async function answerApproval(
  event: ApprovalHttpEvent,
  signaller: TaskSignaller,
  now: () => Date = () => new Date(),
): Promise<HttpResponse> {
  const path = event?.rawPath ?? event?.path ?? "";
  const action = (Object.entries(APPROVAL_PATHS) as [ApprovalAction, string][]).find(([, suffix]) => path.endsWith(suffix))?.[0];
  if (!action) return page(404, "Not found", `There is no approval action at ${path}.`);
  const taskToken = decodeToken(event.queryStringParameters?.[TOKEN_PARAMETER] ?? undefined);
  if (!taskToken) return page(400, "Invalid link", "This approval link is incomplete or damaged. Open the link from the message again.");
  try {
    const result =
      action === "approve"
        ? await signaller.success(taskToken, { approved: true, decidedAt: now().toISOString() } satisfies ApprovalOutput)
        : await signaller.failure(taskToken, {
            error: REJECTED_ERROR,
            cause: `Rejected through the approval link at ${now().toISOString()}`,
          });
    if (!result.delivered) {
      return page(
        409,
        "Already decided",
        "This request was already approved or rejected, or it expired before a decision. Nothing was changed.",
      );
    }
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    // InvalidToken: not a token Step Functions issued; TaskDoesNotExist: its execution is gone.
    if (name === "InvalidToken" || name === "TaskDoesNotExist") {
      return page(400, "Unknown request", "This link does not belong to a request that is waiting for a decision.");
    }
    throw error;
  }
  return action === "approve"
    ? page(200, "Approved", "Thank you: the request is approved and the workflow continues.")
    : page(200, "Rejected", "Thank you: the request is rejected and the workflow was told so.");
}

function page(statusCode: number, title: string, text: string): HttpResponse {
  const escape = (value: string) => value.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
  return {
    statusCode,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`,
  };
}

/** The Lambda entry point factory (`callbackFactory`): one SFN client per container. */
export function approvalAnswerFactory(): (event: ApprovalHttpEvent) => Promise<HttpResponse> {
  const signaller = createSignaller(new SFNClient({}));
  return (event) => answerApproval(event, signaller);
}
