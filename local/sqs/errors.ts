/**
 * SQS's errors, each with its JSON protocol shape name and its query protocol code (they differ for several:
 * JSON `QueueDoesNotExist` is query `AWS.SimpleQueueService.NonExistentQueue`).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
 */
import { MessagingError } from "../common/messaging";

export const queueDoesNotExist = () =>
  new MessagingError("QueueDoesNotExist", "The specified queue does not exist.", "AWS.SimpleQueueService.NonExistentQueue");

export const invalidParameterValue = (reason: string) =>
  new MessagingError("InvalidParameterValue", `Value for parameter is invalid. Reason: ${reason}`, "InvalidParameterValue");

export const messageTooLong = (limit: number) =>
  new MessagingError(
    "InvalidParameterValue",
    `One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`,
    "InvalidParameterValue",
  );

export const missingParameter = (name: string) =>
  new MessagingError("MissingParameter", `The request must contain the parameter ${name}.`, "MissingParameter");

export const invalidAttributeName = (name: string) =>
  new MessagingError("InvalidAttributeName", `Unknown Attribute ${name}.`, "InvalidAttributeName");

export const invalidAttributeValue = (name: string, reason: string) =>
  new MessagingError("InvalidAttributeValue", `Invalid value for the parameter ${name}. Reason: ${reason}`, "InvalidAttributeValue");

export const queueNameExists = (attribute: string) =>
  new MessagingError(
    "QueueNameExists",
    `A queue already exists with the same name and a different value for attribute ${attribute}`,
    "QueueAlreadyExists",
  );

export const receiptHandleIsInvalid = (handle: string) =>
  new MessagingError(
    "ReceiptHandleIsInvalid",
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
    "ReceiptHandleIsInvalid",
  );

export const messageNotInflight = () =>
  new MessagingError(
    "MessageNotInflight",
    "Message does not exist or is not available for visibility timeout change.",
    "AWS.SimpleQueueService.MessageNotInflight",
  );

export const purgeQueueInProgress = (queueUrl: string) =>
  new MessagingError(
    "PurgeQueueInProgress",
    `Only one PurgeQueue operation on ${queueUrl} is allowed every 60 seconds.`,
    "AWS.SimpleQueueService.PurgeQueueInProgress",
    403,
  );

export const invalidMessageContents = () =>
  new MessagingError(
    "InvalidMessageContents",
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    "InvalidMessageContents",
  );

export const emptyBatchRequest = () =>
  new MessagingError("EmptyBatchRequest", "There should be at least one entry in the request.", "AWS.SimpleQueueService.EmptyBatchRequest");

export const tooManyEntriesInBatchRequest = (count: number) =>
  new MessagingError(
    "TooManyEntriesInBatchRequest",
    `Maximum number of entries per request are 10. You have sent ${count}.`,
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
  );

export const batchEntryIdsNotDistinct = (id: string) =>
  new MessagingError("BatchEntryIdsNotDistinct", `Id ${id} repeated.`, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct");

export const invalidBatchEntryId = () =>
  new MessagingError(
    "InvalidBatchEntryId",
    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
  );

export const batchRequestTooLong = (limit: number) =>
  new MessagingError(
    "BatchRequestTooLong",
    `Batch requests cannot be longer than ${limit} bytes.`,
    "AWS.SimpleQueueService.BatchRequestTooLong",
  );

export const fifoNotEmulated = (name: string) =>
  new MessagingError(
    "UnsupportedOperation",
    `The local runtime does not emulate FIFO queues ("${name}"): use a standard queue locally (FIFO ordering and deduplication are not reproduced)`,
    "AWS.SimpleQueueService.UnsupportedOperation",
  );

/**
 * IAM refused the call. SQS names the action in lower case in its message ("not authorized to perform:
 * sqs:sendmessage"); the JSON protocol answers coral's AccessDeniedException with the query code in
 * `x-amzn-query-error`, the query protocol `AccessDenied`, both with 403.
 */
export const accessDenied = (message: string) => new MessagingError("AccessDenied", message, "AccessDenied", 403);

/** The JSON protocol's `__type`: SQS's own shapes live in `com.amazonaws.sqs`, the generic validation ones in coral's. */
export function jsonErrorType(error: MessagingError): string {
  const coral = ["InvalidParameterValue", "MissingParameter", "AccessDenied"];
  return coral.includes(error.code) ? `com.amazon.coral.service#${error.code}Exception` : `com.amazonaws.sqs#${error.code}`;
}

/** A queue Policy that is no valid policy document: SQS gives no reason (the local runtime logs it). */
export const invalidPolicy = () =>
  new MessagingError("InvalidAttributeValue", "Invalid value for the parameter Policy.", "InvalidAttributeValue");

/** A queue Policy over one of SQS's policy quotas (size, statements, actions per statement), answered with 403. */
export const policyOverLimit = (message: string) => new MessagingError("OverLimit", message, "OverLimit", 403);
