/**
 * IAM in front of SQS SendMessage and SNS Publish when a service calls them on someone's behalf: a state
 * machine's sqs:sendMessage and sns:publish tasks (as its role), SNS delivering to a queue (as sns.amazonaws.com,
 * which only the queue's policy can allow, for the topic as aws:SourceArn). A refused call throws the service's
 * own error (SQS AccessDenied, SNS AuthorizationError, 403), which Step Functions reports as AWS does.
 * https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
 */
import type { AccessControl } from "../common/access";
import type {
  MessagingCaller,
  PublishRequest,
  QueueSender,
  SendMessageRequest,
  SendMessageResult,
  TopicPublisher,
} from "../common/messaging";
import { authorizationError } from "../sns/errors";
import { accessDenied } from "../sqs/errors";
import { queueArnOfUrl } from "./operations";

export function authorizingQueueSender(sender: QueueSender, access: AccessControl, region: string): QueueSender {
  return {
    sendMessage(request: SendMessageRequest, senderId?: string, on?: MessagingCaller): SendMessageResult {
      // A URL naming no queue is left to SQS, which answers QueueDoesNotExist.
      const resource = on?.caller ? queueArnOfUrl(request.QueueUrl, region) : undefined;
      if (on?.caller && resource) {
        const decision = access.authorize({ principal: on.caller, action: "sqs:SendMessage", resource, executionArn: on.executionArn });
        if (!decision.allowed) throw accessDenied(decision.message);
      }
      return sender.sendMessage(request, senderId);
    },
  };
}

export function authorizingTopicPublisher(publisher: TopicPublisher, access: AccessControl): TopicPublisher {
  return {
    publish(request: PublishRequest, on?: MessagingCaller): Promise<{ MessageId: string }> {
      if (on?.caller && typeof request.TopicArn === "string") {
        const decision = access.authorize({
          principal: on.caller,
          action: "sns:Publish",
          resource: request.TopicArn,
          executionArn: on.executionArn,
        });
        if (!decision.allowed) return Promise.reject(authorizationError(decision.message));
      }
      return publisher.publish(request);
    },
  };
}
