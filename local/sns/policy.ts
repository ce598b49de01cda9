/**
 * A topic's Policy attribute, checked when CreateTopic or SetTopicAttributes sets it, as SNS checks it: a
 * document IAM cannot read as a resource-based policy is InvalidParameter "Invalid parameter: Policy Error: null"
 * (SNS's own wording, which names no reason: the local runtime logs it), and so is one over SNS's 30 KB. A policy
 * that passes is kept exactly as given.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html
 */
import type { ResourcePolicyReader } from "../common/access";
import { invalidParameter } from "./errors";

/** SNS's policy quota is "30 kb"; read as 30 × 1,024 bytes. */
export const MAX_POLICY_BYTES = 30 * 1024;

/** Throws SNS's error for a Policy it would refuse; `log` hears the reason SNS's message leaves out. */
export function checkTopicPolicy(text: string, topicName: string, read: ResourcePolicyReader, log: (line: string) => void): void {
  // An empty Policy leaves the topic without one (as an absent attribute).
  if (text === "") return;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_POLICY_BYTES) {
    log(`policy of topic ${topicName} is ${bytes} bytes, over SNS's ${MAX_POLICY_BYTES} (30 KB): refused with InvalidParameter`);
    throw invalidParameter("Policy Error: null");
  }
  const reading = read(text, `policy of topic ${topicName}`);
  if ("problem" in reading) {
    log(`${reading.problem}: refused with InvalidParameter`);
    throw invalidParameter("Policy Error: null");
  }
}
