/**
 * Which KMS key a role must be granted to send to, or read from, an encrypted queue or topic. A queue's or topic's
 * `kmsMasterKeyId` may be a key id, a key ARN, an alias name or an alias ARN, but an IAM policy's Resource for a
 * KMS key must be the key's ARN (an alias in a Resource matches nothing), so anything but a key ARN is looked up.
 * https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * `alias/aws/<service>`, by name or alias ARN: an AWS managed key. Its key policy (which no one can change) already
 * lets every principal of the account use it through that service, so an IAM grant would add nothing; the AWS CDK
 * grants nothing on it either.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
 */
const AWS_MANAGED_ALIAS = /(^|:)alias\/aws\//;
const KEY_ARN = /^arn:[^:]+:kms:[^:]*:\d{12}:key\/[^/]+$/;

/** A key reference as a queue or topic holds it; absent or empty: not encrypted with KMS. */
export type KeyReference = pulumi.Input<string | undefined> | undefined;

/**
 * The ARN of the customer managed key behind `keyReference`, or undefined when no grant is needed (no key, or an
 * AWS managed key). A key ARN given as a plain string stays that string; an id or alias is resolved at deploy time
 * with `aws.kms.getKey` (KMS DescribeKey, so the deployer needs `kms:DescribeKey` on it), whose `keyManager` also
 * tells an AWS managed key given by id.
 */
export function keyToGrant(keyReference: KeyReference, parent: pulumi.Resource): pulumi.Input<string | undefined> | undefined {
  if (keyReference === undefined) return undefined;
  if (typeof keyReference === "string") return resolveKey(keyReference, parent);
  return pulumi.output(keyReference).apply((reference) => pulumi.output(resolveKey(reference, parent)));
}

function resolveKey(keyReference: string | undefined, parent: pulumi.Resource): pulumi.Output<string | undefined> | string | undefined {
  if (!keyReference || AWS_MANAGED_ALIAS.test(keyReference)) return undefined;
  if (KEY_ARN.test(keyReference)) return keyReference;
  return aws.kms.getKeyOutput({ keyId: keyReference }, { parent }).apply((key) => (key.keyManager === "AWS" ? undefined : key.arn));
}
