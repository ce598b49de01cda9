/**
 * A queue's Policy attribute, checked when CreateQueue or SetQueueAttributes sets it, as SQS checks it: over
 * 8,192 bytes, 20 statements or 7 actions in a statement is OverLimit (403); a document IAM cannot read as a
 * resource-based policy is InvalidAttributeValue. A policy that passes is kept exactly as given.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html
 */
import type { ResourcePolicyReader } from "../common/access";
import { invalidPolicy, policyOverLimit } from "./errors";

export const MAX_POLICY_BYTES = 8_192;
const MAX_STATEMENTS = 20;
const MAX_ACTIONS_PER_STATEMENT = 7;

/** Throws SQS's error for a Policy it would refuse; `log` hears the reason SQS's own message leaves out. */
export function checkQueuePolicy(text: string, queueName: string, read: ResourcePolicyReader, log: (line: string) => void): void {
  // An empty Policy removes the queue's policy (SetQueueAttributes).
  if (text === "") return;
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw policyOverLimit("Submitted policy is over max allowed size.");
  const reading = read(text, `policy of queue ${queueName}`);
  if ("problem" in reading) {
    log(`${reading.problem}: refused with InvalidAttributeValue`);
    throw invalidPolicy();
  }
  const { statements } = reading;
  if (statements.length > MAX_STATEMENTS)
    throw policyOverLimit(`${statements.length} statements were found in the submitted policy, max allowed is ${MAX_STATEMENTS}`);
  const actions = Math.max(...statements.map((statement) => statement.actions));
  if (actions > MAX_ACTIONS_PER_STATEMENT)
    throw policyOverLimit(
      `${actions} actions were found in a statement from the submitted policy, max allowed is ${MAX_ACTIONS_PER_STATEMENT}`,
    );
}
