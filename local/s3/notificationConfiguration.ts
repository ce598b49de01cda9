/**
 * Reading a bucket's Lambda notification configuration (aws.s3.BucketNotification) with the checks S3 makes
 * when it is written: only Lambda destinations are emulated, configurations may not overlap, and each
 * function must let S3 invoke it.
 */
import type { DeclaredResource } from "../common/service";
import { eventMatches, type LambdaNotification, type S3EventName } from "./eventNotifications";

/**
 * The Lambda destinations of one BucketNotification on the bucket `bucketName`, checked as S3 checks them.
 * Queue, topic and EventBridge destinations are refused: they are not emulated locally.
 */
export function readLambdaNotifications(
  resource: DeclaredResource,
  bucketName: string,
  all: readonly DeclaredResource[],
): LambdaNotification[] {
  const { inputs } = resource;
  for (const unsupported of ["queues", "topics"] as const) {
    if (Array.isArray(inputs[unsupported]) && inputs[unsupported].length) {
      throw new Error(
        `BucketNotification ${resource.name}: ${unsupported} destinations are not emulated locally; only lambdaFunctions are.`,
      );
    }
  }
  if (inputs.eventbridge)
    throw new Error(`BucketNotification ${resource.name}: EventBridge delivery is not emulated locally; only lambdaFunctions are.`);
  const configured: LambdaNotification[] = (inputs.lambdaFunctions ?? []).map((entry: Record<string, any>, index: number) => ({
    id: entry.id ?? `${resource.name}-${index}`,
    events: entry.events ?? [],
    filterPrefix: entry.filterPrefix || undefined,
    filterSuffix: entry.filterSuffix || undefined,
    functionArn: String(entry.lambdaFunctionArn),
  }));
  checkNoOverlap(configured);
  for (const notification of configured) checkInvokePermission(notification.functionArn, bucketName, all);
  return configured;
}

/**
 * S3 rejects two configurations that share an event type and whose prefix and suffix filters could both
 * match one key ("Configurations overlap. Configurations on the same bucket cannot share a common event type.").
 */
function checkNoOverlap(notifications: LambdaNotification[]): void {
  for (let i = 0; i < notifications.length; i++) {
    for (let j = i + 1; j < notifications.length; j++) {
      const [a, b] = [notifications[i], notifications[j]];
      const shareEvent = a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
      const prefixesOverlap =
        (a.filterPrefix ?? "").startsWith(b.filterPrefix ?? "") || (b.filterPrefix ?? "").startsWith(a.filterPrefix ?? "");
      const suffixesOverlap =
        (a.filterSuffix ?? "").endsWith(b.filterSuffix ?? "") || (b.filterSuffix ?? "").endsWith(a.filterSuffix ?? "");
      if (shareEvent && prefixesOverlap && suffixesOverlap) {
        throw new Error(
          `Configurations overlap. Configurations on the same bucket cannot share a common event type (${a.id} and ${b.id}).`,
        );
      }
    }
  }
}

function eventsOverlap(a: string, b: string): boolean {
  const samples: S3EventName[] = [
    "ObjectCreated:Put",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectRemoved:Delete",
  ];
  return samples.some((event) => eventMatches(a, event) && eventMatches(b, event));
}

/**
 * S3 validates a Lambda destination when the configuration is written: the function must grant
 * s3.amazonaws.com lambda:InvokeFunction (for this bucket, when the permission names a source ARN), or the
 * deployment fails with "Unable to validate the following destination configurations".
 */
function checkInvokePermission(functionArn: string, bucketName: string, all: readonly DeclaredResource[]): void {
  const fn = all.find((resource) => resource.type === "aws:lambda/function:Function" && resource.state.arn === functionArn);
  const names = new Set([functionArn, fn?.state.name, fn?.id].filter(Boolean));
  const granted = all.some(
    (resource) =>
      resource.type === "aws:lambda/permission:Permission" &&
      resource.state.principal === "s3.amazonaws.com" &&
      resource.state.action === "lambda:InvokeFunction" &&
      names.has(resource.state.function) &&
      (!resource.state.sourceArn || resource.state.sourceArn === `arn:aws:s3:::${bucketName}`),
  );
  if (!granted) {
    throw new Error(
      `Unable to validate the following destination configurations: bucket ${bucketName} notifies ${functionArn}, ` +
        `but no aws.lambda.Permission lets s3.amazonaws.com invoke it (principal "s3.amazonaws.com", action "lambda:InvokeFunction", sourceArn the bucket's ARN).`,
    );
  }
}
