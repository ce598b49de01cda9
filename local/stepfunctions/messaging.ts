/**
 * How Step Functions calls SQS SendMessage and SNS Publish: the task's Parameters in, the service's response
 * (as the AWS SDK for Java shapes it, with SdkHttpMetadata) out, and a refused request as the error AWS
 * names `<SERVICE>.<exception>` with a cause in the SDK's words.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html
 */
import { randomUUID } from "node:crypto";
import {
  MessagingError,
  type MessageAttributeValue,
  type MessagingCaller,
  type QueueSender,
  type TopicPublisher,
} from "../common/messaging";
import { StatesError, STATES_ERRORS } from "./errors";
import type { MessagingAction } from "./resources";

export interface MessagingServices {
  sqs?: QueueSender;
  sns?: TopicPublisher;
}

/**
 * Sends or publishes as `on.caller` (the state machine's role); resolves with the task result, rejects with the
 * StatesError AWS reports (an IAM refusal: `SQS.AmazonSQSException` / `SNS.AuthorizationErrorException`).
 */
export async function callMessaging(
  action: MessagingAction,
  parameters: unknown,
  services: MessagingServices,
  now: number,
  on?: MessagingCaller,
): Promise<Record<string, unknown>> {
  const fields = (parameters ?? {}) as Record<string, unknown>;
  const requestId = randomUUID();
  try {
    if (action === "sqs:sendMessage") {
      if (!services.sqs) throw new StatesError(STATES_ERRORS.Runtime, "No local SQS is running for sqs:sendMessage");
      const result = services.sqs.sendMessage(
        {
          QueueUrl: requiredString(fields, "QueueUrl", action),
          MessageBody: asText(fields.MessageBody),
          DelaySeconds: fields.DelaySeconds as number | undefined,
          MessageAttributes: messageAttributes(fields.MessageAttributes),
          MessageGroupId: fields.MessageGroupId as string | undefined,
          MessageDeduplicationId: fields.MessageDeduplicationId as string | undefined,
        },
        undefined,
        on,
      );
      return { ...withoutUndefined(result), ...sdkMetadata(requestId, now) };
    }
    if (!services.sns) throw new StatesError(STATES_ERRORS.Runtime, "No local SNS is running for sns:publish");
    if (fields.TopicArn === undefined && (fields.TargetArn !== undefined || fields.PhoneNumber !== undefined)) {
      throw new StatesError(
        STATES_ERRORS.Runtime,
        "sns:publish to a TargetArn or PhoneNumber is not emulated locally: publish to a TopicArn",
      );
    }
    const result = await services.sns.publish(
      {
        TopicArn: requiredString(fields, "TopicArn", action),
        Message: asText(fields.Message),
        Subject: fields.Subject as string | undefined,
        MessageStructure: fields.MessageStructure as string | undefined,
        MessageAttributes: messageAttributes(fields.MessageAttributes),
      },
      on,
    );
    return { ...result, ...sdkMetadata(requestId, now) };
  } catch (thrown) {
    if (!(thrown instanceof MessagingError)) throw thrown;
    const service = action === "sqs:sendMessage" ? "SQS" : "SNS";
    throw new StatesError(
      `${service}.${exceptionName(service, thrown)}`,
      `${thrown.message} (Service: Amazon${service}; Status Code: ${thrown.statusCode}; Error Code: ${thrown.queryCode}; Request ID: ${requestId}; Proxy: null)`,
    );
  }
}

/**
 * The AWS SDK for Java's exception class for the error: SQS models few (QueueDoesNotExistException),
 * so most are its base AmazonSQSException; SNS models each code as `<Code>Exception`.
 */
function exceptionName(service: "SQS" | "SNS", error: MessagingError): string {
  if (service === "SNS") return `${error.queryCode}Exception`;
  const modeled = ["QueueDoesNotExist", "InvalidMessageContents", "UnsupportedOperation"];
  return modeled.includes(error.code) ? `${error.code}Exception` : "AmazonSQSException";
}

/** Step Functions sends a non-string body or message as its JSON text. */
function asText(value: unknown): string {
  return typeof value === "string" ? value : value === undefined ? (undefined as unknown as string) : JSON.stringify(value);
}

function requiredString(fields: Record<string, unknown>, name: string, action: string): string {
  const value = fields[name];
  if (typeof value !== "string" || value === "") {
    throw new StatesError(STATES_ERRORS.Runtime, `The Parameters of a ${action} task must give ${name} as a string`);
  }
  return value;
}

function messageAttributes(value: unknown): Record<string, MessageAttributeValue> | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new StatesError(STATES_ERRORS.Runtime, "MessageAttributes must be an object of name to {DataType, StringValue | BinaryValue}");
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, any>).map(([name, attribute]) => [
      name,
      {
        DataType: attribute?.DataType,
        StringValue: attribute?.StringValue,
        BinaryValue: typeof attribute?.BinaryValue === "string" ? Buffer.from(attribute.BinaryValue, "base64") : undefined,
      },
    ]),
  );
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function sdkMetadata(requestId: string, now: number): Record<string, unknown> {
  const date = new Date(now).toUTCString();
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: { "x-amzn-RequestId": [requestId], Date: [date], "Content-Type": ["text/xml"] },
      HttpHeaders: { "Content-Type": "text/xml", Date: date, "x-amzn-RequestId": requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}
