/**
 * The approval channel's notifier: invoked with the task token (`lambda:invoke.waitForTaskToken`), it publishes
 * to the approval topic a message naming the execution, with approve and reject links, and returns without
 * answering: the approver's click does (answer.ts).
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { PAYLOAD_KEYS } from "../../workflow/contract";
import { approvalLinks } from "./links";

/** Environment of the notifier: where to publish and the approval API's base URL. */
export const APPROVAL_ENVIRONMENT = { topicArn: "APPROVAL_TOPIC_ARN", apiUrl: "APPROVAL_API_URL", subject: "APPROVAL_SUBJECT" } as const;

export interface ApprovalRequestEvent {
  [PAYLOAD_KEYS.taskToken]: string;
  [PAYLOAD_KEYS.executionId]: string;
  [PAYLOAD_KEYS.input]?: unknown;
}

export interface ApprovalMessage {
  subject: string;
  message: string;
}

export interface NotifySettings {
  topicArn: string;
  apiUrl: string;
  /** @default "Approval requested: <execution name>" */
  subject?: string;
}

/** The execution's name: the last part of its ARN (`arn:aws:states:region:account:execution:machine:name`). */
export function executionName(executionArn: string): string {
  return executionArn.split(":").pop() ?? executionArn;
}

/** The message an approver reads. Pure, so tests read exactly what is sent. */
export function approvalMessage(event: ApprovalRequestEvent, settings: NotifySettings): ApprovalMessage {
  if (typeof event?.taskToken !== "string" || event.taskToken.length === 0) {
    throw Object.assign(new Error(`event.${PAYLOAD_KEYS.taskToken} must be the task token; received ${JSON.stringify(event)}`), {
      name: "MissingTaskToken",
    });
  }
  const name = executionName(String(event.executionId));
  const links = approvalLinks(settings.apiUrl, event.taskToken);
  // SNS subjects: at most 100 printable ASCII characters.
  const subject = (settings.subject ?? `Approval requested: ${name}`).replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
  const message = [
    `The execution ${name} is waiting for your decision.`,
    ``,
    `Execution: ${event.executionId}`,
    `Input: ${JSON.stringify(event.input ?? null, null, 2)}`,
    ``,
    `Approve: ${links.approve}`,
    ``,
    `Reject: ${links.reject}`,
    ``,
    `Each link works once; the first decision counts. Anyone holding this message can decide, so forward it only to other approvers.`,
  ].join("\n");
  return { subject, message };
}

export type Publish = (topicArn: string, message: ApprovalMessage) => Promise<{ messageId?: string }>;

export async function notifyApprover(
  event: ApprovalRequestEvent,
  publish: Publish,
  settings: NotifySettings,
): Promise<{ messageId?: string }> {
  return publish(settings.topicArn, approvalMessage(event, settings));
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the approval notifier needs it`);
  return value;
}

/** The Lambda entry point factory (`callbackFactory`): one SNS client per container. */
export function approvalNotifierFactory(): (event: ApprovalRequestEvent) => Promise<{ messageId?: string }> {
  const sns = new SNSClient({});
  const settings: NotifySettings = {
    topicArn: requireEnv(APPROVAL_ENVIRONMENT.topicArn),
    apiUrl: requireEnv(APPROVAL_ENVIRONMENT.apiUrl),
    subject: process.env[APPROVAL_ENVIRONMENT.subject] || undefined,
  };
  const publish: Publish = async (topicArn, { subject, message }) => {
    const result = await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    return { messageId: result.MessageId };
  };
  return (event) => notifyApprover(event, publish, settings);
}
