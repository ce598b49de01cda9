/**
 * Queue attributes: their defaults, the ranges SetQueueAttributes accepts, and the computed ones
 * GetQueueAttributes adds. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 */
import { invalidAttributeName, invalidAttributeValue } from "./errors";
import type { Queue } from "./queue";

/** The message size limit this project targets (AWS-FACTS: 262,144 bytes). */
export const MAX_MESSAGE_BYTES = 262_144;

const RANGES: Record<string, [min: number, max: number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, MAX_MESSAGE_BYTES],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

export const DEFAULT_ATTRIBUTES: Readonly<Record<string, string>> = {
  DelaySeconds: "0",
  MaximumMessageSize: String(MAX_MESSAGE_BYTES),
  MessageRetentionPeriod: "345600",
  ReceiveMessageWaitTimeSeconds: "0",
  VisibilityTimeout: "30",
  SqsManagedSseEnabled: "true",
};

/** Kept as given (Policy is checked by policy.ts when set through the API and enforced by local/iam; encryption is not emulated). */
const STORED_ONLY = new Set([
  "Policy",
  "RedriveAllowPolicy",
  "KmsMasterKeyId",
  "SqsManagedSseEnabled",
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
]);

const COMPUTED = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
  "QueueArn",
] as const;

/** Checks settable attributes and returns them normalised; throws InvalidAttributeName / InvalidAttributeValue. */
export function checkAttributes(attributes: Record<string, unknown>): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    const value = typeof raw === "number" || typeof raw === "boolean" ? String(raw) : raw;
    if (typeof value !== "string") throw invalidAttributeValue(name, "the value must be a string");
    if (name in RANGES) {
      const [min, max] = RANGES[name];
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < min || number > max) {
        throw invalidAttributeValue(name, `Must be an integer from ${min} to ${max}, received '${value}'.`);
      }
    } else if (name === "RedrivePolicy") {
      if (value !== "") checkRedrivePolicy(value);
    } else if (!STORED_ONLY.has(name)) {
      throw invalidAttributeName(name);
    }
    checked[name] = value;
  }
  return checked;
}

function checkRedrivePolicy(text: string): void {
  let policy: any;
  try {
    policy = JSON.parse(text);
  } catch {
    throw invalidAttributeValue("RedrivePolicy", "Redrive policy is not a valid JSON map.");
  }
  const count = Number(policy?.maxReceiveCount);
  if (typeof policy?.deadLetterTargetArn !== "string" || !/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[\w.-]+$/.test(policy.deadLetterTargetArn)) {
    throw invalidAttributeValue("RedrivePolicy", "Dead-letter target ARN is missing or not an SQS queue ARN.");
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidAttributeValue("RedrivePolicy", "Value for maxReceiveCount must be an integer from 1 to 1000.");
  }
}

/** GetQueueAttributes: `All` or the listed names, computed ones included; unknown names are refused. */
export function readAttributes(queue: Queue, names: readonly string[]): Record<string, string> {
  const all = names.includes("All");
  const result: Record<string, string> = {};
  const counts = queue.counts();
  const computed: Record<(typeof COMPUTED)[number], string> = {
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedTimestamp / 1000)),
    QueueArn: queue.arn,
  };
  for (const name of names) {
    if (name !== "All" && !(name in RANGES) && !STORED_ONLY.has(name) && name !== "RedrivePolicy" && !(name in computed)) {
      throw invalidAttributeName(name);
    }
  }
  for (const [name, value] of queue.attributes) if (all || names.includes(name)) result[name] = value;
  for (const name of COMPUTED) if (all || names.includes(name)) result[name] = computed[name];
  return result;
}
