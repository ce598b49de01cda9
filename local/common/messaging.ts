/**
 * The contract between the local messaging services (local/sqs, local/sns) and their in-process callers: the
 * Step Functions engine (sqs:sendMessage, sns:publish tasks) and SNS's delivery to SQS. Shapes follow the
 * services' own APIs (PascalCase members, as the JSON protocol and Step Functions' Parameters name them).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
import type { Principal } from "./access";

/** One message attribute; `BinaryValue` is raw bytes (base64 only on the wire). */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Buffer;
}

export interface SendMessageRequest {
  QueueUrl: string;
  MessageBody: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

export interface SendMessageResult {
  MessageId: string;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
}

/** Who sends or publishes on someone's behalf, for IAM (local/iam/messaging.ts checks it); absent: already authorized. */
export interface MessagingCaller {
  /** A state machine's role session (sqs:sendMessage, sns:publish tasks), SNS itself delivering to a queue. */
  caller?: Principal;
  /** The execution on whose behalf, if any (listed with denied calls). */
  executionArn?: string;
}

export interface QueueSender {
  /** Throws a `MessagingError` with SQS's error code when the request is refused (AccessDenied when IAM refuses it). */
  sendMessage(request: SendMessageRequest, senderId?: string, on?: MessagingCaller): SendMessageResult;
}

export interface PublishRequest {
  TopicArn: string;
  Message: string;
  Subject?: string;
  MessageStructure?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
}

export interface TopicPublisher {
  /**
   * Throws a `MessagingError` with SNS's error code when the request is refused (AuthorizationError when IAM
   * refuses it); delivery happens after it returns.
   */
  publish(request: PublishRequest, on?: MessagingCaller): Promise<{ MessageId: string }>;
}

/** A refused request, with the codes both protocols report. */
export class MessagingError extends Error {
  constructor(
    /** The JSON protocol's error shape name (SQS: "QueueDoesNotExist"; SNS: same as `queryCode`). */
    readonly code: string,
    message: string,
    /** The query protocol's code ("AWS.SimpleQueueService.NonExistentQueue", "NotFound", ...). */
    readonly queryCode: string = code,
    readonly statusCode = 400,
    /** "Sender" (the caller's fault) or "Receiver". */
    readonly fault: "Sender" | "Receiver" = "Sender",
  ) {
    super(message);
    this.name = code;
  }
}
