/**
 * SQS's two wire protocols, translated to and from the JSON shapes of api.ts: AWS JSON 1.0
 * (`X-Amz-Target: AmazonSQS.<Operation>`, what the SDK v3 speaks) and the query protocol (`Action=<Operation>`,
 * form-encoded, XML answers, what the AWS CLI 2.9 speaks). Errors carry both codes: JSON answers name the
 * query code in `x-amzn-query-error`, which query-compatible SDKs read.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { queryList, sendQueryError, sendQueryResult, type QueryValue, type XmlTree } from "../common/awsQuery";
import type { MessagingError } from "../common/messaging";
import { jsonErrorType } from "./errors";

export const SQS_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/";
export const JSON_TARGET_PREFIX = "AmazonSQS.";

type Shape = Record<string, any>;

/** Query form (already unflattened) → the JSON protocol's input shape. */
export function queryInput(form: Record<string, QueryValue>): Shape {
  const input: Shape = {};
  for (const [key, value] of Object.entries(form)) {
    switch (key) {
      case "Action":
      case "Version":
        break;
      case "Attribute":
        input.Attributes = Object.fromEntries(queryList(value).map((entry: any) => [entry.Name, entry.Value]));
        break;
      case "AttributeName":
      case "MessageAttributeName":
      case "MessageSystemAttributeName":
        input[`${key}s`] = queryList(value);
        break;
      case "MessageAttribute":
        input.MessageAttributes = Object.fromEntries(queryList(value).map((entry: any) => [entry.Name, entry.Value ?? {}]));
        break;
      case "Tag":
        input.tags = Object.fromEntries(queryList(value).map((entry: any) => [entry.Key, entry.Value]));
        break;
      case "SendMessageBatchRequestEntry":
      case "DeleteMessageBatchRequestEntry":
      case "ChangeMessageVisibilityBatchRequestEntry":
        input.Entries = queryList(value).map((entry) => queryInput(entry as Record<string, QueryValue>));
        break;
      default:
        input[key] = value;
    }
  }
  return input;
}

/** The JSON output shape → the query protocol's XML result elements (lists and maps flattened, as SQS writes them). */
export function queryResult(operation: string, output: Shape): XmlTree | undefined {
  switch (operation) {
    case "CreateQueue":
    case "GetQueueUrl":
      return { QueueUrl: output.QueueUrl };
    case "ListQueues":
      return { QueueUrl: output.QueueUrls ?? [], NextToken: output.NextToken };
    case "GetQueueAttributes":
      return { Attribute: nameValueList(output.Attributes) };
    case "SendMessage":
      return {
        MessageId: output.MessageId,
        MD5OfMessageBody: output.MD5OfMessageBody,
        MD5OfMessageAttributes: output.MD5OfMessageAttributes,
      };
    case "ReceiveMessage":
      return { Message: (output.Messages ?? []).map(messageElement) };
    case "SendMessageBatch":
    case "DeleteMessageBatch":
    case "ChangeMessageVisibilityBatch":
      return { [`${operation}ResultEntry`]: output.Successful, BatchResultErrorEntry: output.Failed };
    default:
      return undefined;
  }
}

function nameValueList(map: Record<string, string> | undefined): XmlTree[] {
  return Object.entries(map ?? {}).map(([Name, Value]) => ({ Name, Value }));
}

function messageElement(message: Shape): XmlTree {
  return {
    MessageId: message.MessageId,
    ReceiptHandle: message.ReceiptHandle,
    MD5OfBody: message.MD5OfBody,
    Body: message.Body,
    Attribute: nameValueList(message.Attributes),
    MD5OfMessageAttributes: message.MD5OfMessageAttributes,
    MessageAttribute: Object.entries(message.MessageAttributes ?? {}).map(([Name, value]: [string, any]) => ({
      Name,
      Value: { StringValue: value.StringValue, BinaryValue: value.BinaryValue?.toString("base64"), DataType: value.DataType },
    })),
  };
}

/** JSON output: binary attribute values go out base64-encoded. */
export function jsonOutput(output: Shape): string {
  return JSON.stringify(output, (_key, value) =>
    value && typeof value === "object" && value.type === "Buffer" && Array.isArray(value.data)
      ? Buffer.from(value.data).toString("base64")
      : value,
  );
}

export function sendJsonResult(res: ServerResponse, output: Shape): void {
  const text = jsonOutput(output);
  res
    .writeHead(200, {
      "Content-Type": "application/x-amz-json-1.0",
      "Content-Length": String(Buffer.byteLength(text)),
      "x-amzn-RequestId": randomUUID(),
    })
    .end(text);
}

export function sendJsonError(res: ServerResponse, error: MessagingError): void {
  const type = jsonErrorType(error);
  const text = JSON.stringify({ __type: type, message: error.message });
  res
    .writeHead(error.statusCode, {
      "Content-Type": "application/x-amz-json-1.0",
      "Content-Length": String(Buffer.byteLength(text)),
      "x-amzn-RequestId": randomUUID(),
      "x-amzn-query-error": `${error.queryCode};${error.fault}`,
    })
    .end(text);
}

export { sendQueryError, sendQueryResult };
