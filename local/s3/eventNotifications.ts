/**
 * S3 event notifications to Lambda, as declared by `aws:s3/bucketNotification:BucketNotification`
 * (`lambdaFunctions: [{ events, filterPrefix, filterSuffix, lambdaFunctionArn, id }]`).
 * Record shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 * Filtering: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html
 */
import { hostIdOf } from "./requestIds";

export interface LambdaNotification {
  /** S3's configurationId (Pulumi lets users set `id`; S3 generates one otherwise). */
  id: string;
  /** e.g. ["s3:ObjectCreated:*"], ["s3:ObjectCreated:Put", "s3:ObjectRemoved:Delete"] */
  events: string[];
  filterPrefix?: string;
  filterSuffix?: string;
  functionArn: string;
}

/** Event names S3 can emit for the operations the local S3 serves. */
export type S3EventName = "ObjectCreated:Put" | "ObjectCreated:Copy" | "ObjectCreated:CompleteMultipartUpload" | "ObjectRemoved:Delete";

/** `s3:ObjectCreated:*` matches every ObjectCreated event; otherwise names must match exactly. */
export function eventMatches(configured: string, eventName: S3EventName): boolean {
  const [service, category, kind] = configured.split(":");
  if (service !== "s3") return false;
  const [eventCategory, eventKind] = eventName.split(":");
  return category === eventCategory && (kind === "*" || kind === eventKind);
}

/** Prefix and suffix filters compare against the raw (decoded) key, case-sensitively. */
export function notificationMatches(notification: LambdaNotification, eventName: S3EventName, key: string): boolean {
  return (
    notification.events.some((configured) => eventMatches(configured, eventName)) &&
    key.startsWith(notification.filterPrefix ?? "") &&
    key.endsWith(notification.filterSuffix ?? "")
  );
}

/**
 * S3 puts keys into event records form-urlencoded ("red flower.jpg" → "red+flower.jpg", "é" → "%C3%A9"),
 * keeping "/" as is. URLSearchParams implements exactly application/x-www-form-urlencoded.
 */
export function encodeEventKey(key: string): string {
  return key
    .split("/")
    .map((segment) => new URLSearchParams({ k: segment }).toString().slice(2))
    .join("/");
}

export interface EventObject {
  key: string;
  size: number;
  /** Unquoted MD5 hex (or multipart ETag). */
  eTag: string;
}

export interface RecordContext {
  region: string;
  bucketName: string;
  eventName: S3EventName;
  configurationId: string;
  sequencer: string;
  requestId: string;
  sourceIpAddress: string;
  eventTime?: Date;
}

export function s3EventRecord(object: EventObject, context: RecordContext) {
  const s3Object: Record<string, unknown> = {
    key: encodeEventKey(object.key),
    size: object.size,
    eTag: object.eTag,
    sequencer: context.sequencer,
  };
  if (context.eventName.startsWith("ObjectRemoved")) {
    // Delete events carry neither size nor eTag.
    delete s3Object.size;
    delete s3Object.eTag;
  }
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: context.region,
    eventTime: (context.eventTime ?? new Date()).toISOString(),
    eventName: context.eventName,
    userIdentity: { principalId: "AWS:AIDALOCAL" },
    requestParameters: { sourceIPAddress: context.sourceIpAddress },
    responseElements: { "x-amz-request-id": context.requestId, "x-amz-id-2": hostIdOf(context.requestId) },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: context.configurationId,
      bucket: { name: context.bucketName, ownerIdentity: { principalId: "A3LOCALOWNER" }, arn: `arn:aws:s3:::${context.bucketName}` },
      object: s3Object,
    },
  };
}

/** Sequencers are hex strings that grow for events on the same key; a global counter satisfies that. */
export class Sequencer {
  private counter = BigInt(Date.now()) * 1000n;
  next(): string {
    this.counter += 1n;
    return this.counter.toString(16).toUpperCase().padStart(18, "0");
  }
}
