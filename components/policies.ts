/**
 * IAM policy documents of the callback workflow, as typed objects built by small pure helpers (serialized with
 * `pulumi.jsonStringify` by the component). Least privilege: no wildcard in any Action, and a named Resource
 * wherever the service supports one.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

type Arn = pulumi.Input<string>;

/** The Step Functions callback operations a token holder calls. */
export const TASK_RESPONSE_ACTIONS = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];

/** Where an AWS service assumes the role from, for the confused-deputy conditions of a trust policy. */
export interface ServiceSource {
  accountId: pulumi.Input<string>;
  /** ARN (or ArnLike pattern) of the resource that assumes the role; omitted: only the account is checked. */
  sourceArn?: pulumi.Input<string>;
}

/**
 * Trust policy letting one AWS service assume the role, on behalf of this account (and resource) only.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export function serviceTrustPolicy(service: string, source: ServiceSource): aws.iam.PolicyDocument {
  const condition: Record<string, Record<string, pulumi.Input<string>>> = {
    StringEquals: { "aws:SourceAccount": source.accountId },
  };
  if (source.sourceArn !== undefined) condition.ArnLike = { "aws:SourceArn": source.sourceArn };
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", Condition: condition }],
  };
}

/**
 * Trust policy of a Lambda execution role. Lambda does not send aws:SourceArn/SourceAccount when it assumes an
 * execution role, so a condition on them would stop the function from running: the principal alone is the rule.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
export function lambdaTrustPolicy(): aws.iam.PolicyDocument {
  return servicePrincipalTrustPolicy("lambda.amazonaws.com");
}

/** Trust policy letting one AWS service principal assume the role, with no source condition (see callers). */
export function servicePrincipalTrustPolicy(service: string): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

/**
 * `lambda:InvokeFunction` on exactly these functions (and their versions/aliases, `ARN:*`, which Step Functions
 * may call). https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
 */
export function invokePolicy(functionArns: Arn[]): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeWorkflowFunctions",
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: functionArns.flatMap((arn) => [arn, interpolateSuffix(arn, ":*")]),
      },
    ],
  };
}

/**
 * SendTaskSuccess/Failure/Heartbeat scoped to one state machine. The Service Authorization Reference lists no
 * resource type for them, yet AWS checks the call against the state machine ARN, and the AWS CDK's
 * `grantTaskResponse` scopes it the same way.
 */
export function taskResponsePolicy(stateMachineArn: Arn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "AnswerTaskTokens", Effect: "Allow", Action: [...TASK_RESPONSE_ACTIONS], Resource: stateMachineArn }],
  };
}

/** `states:StartExecution` on one state machine: what the API's integration role may do, and nothing else. */
export function startExecutionPolicy(stateMachineArn: Arn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "StartWorkflow", Effect: "Allow", Action: ["states:StartExecution"], Resource: stateMachineArn }],
  };
}

/**
 * A KMS key to grant, as `keyToGrant` (components/channels/encryptionKey.ts) gives it: a key ARN, undefined for
 * none, or an Output that resolves to either once the key is looked up at deploy time.
 */
type KeyArn = pulumi.Input<string | undefined> | undefined;

/**
 * The statements, and one allowing `actions` on the key when there is one. Whether there is one may be known only
 * at deploy time (a queue or topic given as a resource), so the list is then an Output.
 */
function withKeyStatement(
  statements: aws.iam.PolicyStatement[],
  sid: string,
  kmsKeyArn: KeyArn,
  actions: string[],
): pulumi.Input<pulumi.Input<aws.iam.PolicyStatement>[]> {
  const keyStatement = (arn: string): aws.iam.PolicyStatement => ({ Sid: sid, Effect: "Allow", Action: actions, Resource: arn });
  if (kmsKeyArn === undefined) return statements;
  if (typeof kmsKeyArn === "string") return [...statements, keyStatement(kmsKeyArn)];
  return pulumi.output(kmsKeyArn).apply((arn) => (arn === undefined ? statements : [...statements, keyStatement(arn)]));
}

/**
 * `sqs:SendMessage` on one queue (and `kms:GenerateDataKey` + `kms:Decrypt` on its customer managed key): the state
 * machine's right for an SQS callback channel. https://docs.aws.amazon.com/step-functions/latest/dg/sqs-iam.html
 */
export function sendMessagePolicy(queueArn: Arn, kmsKeyArn?: KeyArn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: withKeyStatement(
      [{ Sid: "SendTokenMessages", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn }],
      "EncryptTokenMessages",
      kmsKeyArn,
      ["kms:GenerateDataKey", "kms:Decrypt"],
    ),
  };
}

/**
 * `sns:Publish` on one topic (and `kms:GenerateDataKey` + `kms:Decrypt` on its customer managed key): the state
 * machine's right for an SNS callback channel, or the approval notifier's.
 * https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html
 */
export function publishPolicy(topicArn: Arn, kmsKeyArn?: KeyArn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: withKeyStatement(
      [{ Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn }],
      "EncryptTokenMessages",
      kmsKeyArn,
      ["kms:GenerateDataKey", "kms:Decrypt"],
    ),
  };
}

/**
 * What a function behind an SQS event source mapping needs on its queue (and `kms:Decrypt` on its customer managed
 * key). https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
 */
export function consumeQueuePolicy(queueArn: Arn, kmsKeyArn?: KeyArn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: withKeyStatement(
      [
        {
          Sid: "ConsumeTokenQueue",
          Effect: "Allow",
          Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          Resource: queueArn,
        },
      ],
      "DecryptTokenMessages",
      kmsKeyArn,
      ["kms:Decrypt"],
    ),
  };
}

/**
 * A queue's resource policy letting one SNS topic (and nothing else) send to it: an SNS → SQS subscription.
 * https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
 */
export function topicToQueuePolicy(queueArn: Arn, topicArn: Arn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TopicSendsToQueue",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: ["sqs:SendMessage"],
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
      },
    ],
  };
}

/**
 * A function writing its own logs, to its own log group only (created by the component, so the function needs
 * no logs:CreateLogGroup). https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-permissions.html
 */
export function writeLogsPolicy(logGroupArn: Arn): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [interpolateSuffix(logGroupArn, ":log-stream:*")],
      },
    ],
  };
}

/**
 * What Step Functions needs to deliver execution logs to CloudWatch Logs. These log-delivery actions support no
 * resource-level permissions, so AWS documents `Resource: "*"` for them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 */
export function stateMachineLogDeliveryPolicy(): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DeliverExecutionLogs",
        Effect: "Allow",
        Action: [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ],
        Resource: "*",
      },
    ],
  };
}

/**
 * X-Ray trace writing; X-Ray defines no resource types for these actions, so `Resource: "*"` is the only form.
 * https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html
 */
export function xrayWritePolicy(): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "WriteTraces",
        Effect: "Allow",
        Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
        Resource: "*",
      },
    ],
  };
}

/** Statements given by the component's user, as one document. */
export function statementsPolicy(statements: pulumi.Input<pulumi.Input<aws.iam.PolicyStatement>[]>): aws.iam.PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** `arn + suffix`: a plain string stays plain (tests read it directly); any other Input becomes an Output. */
function interpolateSuffix(arn: Arn, suffix: string): Arn {
  return typeof arn === "string" ? `${arn}${suffix}` : pulumi.interpolate`${arn}${suffix}`;
}
