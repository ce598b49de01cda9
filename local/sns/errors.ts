/**
 * SNS's errors (query protocol codes; SNS has no JSON protocol). https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html
 */
import { MessagingError } from "../common/messaging";

const snsError = (code: string, message: string, status = 400) => new MessagingError(code, message, code, status);

export const invalidParameter = (detail: string) => snsError("InvalidParameter", `Invalid parameter: ${detail}`);
export const topicNotFound = () => snsError("NotFound", "Topic does not exist", 404);
export const subscriptionNotFound = () => snsError("NotFound", "Subscription does not exist", 404);
export const notEmulated = (what: string) =>
  snsError("InvalidParameter", `Invalid parameter: ${what} is not emulated by the local runtime`);
export const emptyBatchRequest = () => snsError("EmptyBatchRequest", "The batch request doesn't contain any entries.");
export const tooManyEntriesInBatchRequest = () =>
  snsError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible (10).");
export const batchEntryIdsNotDistinct = () =>
  snsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.");
export const batchRequestTooLong = () =>
  snsError("BatchRequestTooLong", "The length of all the messages put together is more than the limit (262144 bytes).");
export const invalidBatchEntryId = () =>
  snsError("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification.");
export const invalidAction = (action: string) => snsError("InvalidAction", `The action ${action} is not valid for this endpoint.`);
/** IAM refused the call (SNS spells the action "SNS:Publish" in its message). */
export const authorizationError = (message: string) => snsError("AuthorizationError", message, 403);
