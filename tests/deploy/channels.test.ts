/**
 * Each callback channel of CallbackWorkflow under Pulumi mocks: what it declares (queue, topic, subscriptions,
 * event source mapping, approval API) and exactly which rights each role gets.
 */
import { strict as assert } from "node:assert";
import { CallbackWorkflow, type CallbackWorkflowArgs } from "../../components/callbackWorkflow";
import type { ChannelArgs } from "../../components/steps";
import { declare, findAll, findOne, type RecordedResource } from "../mocks";
import { rolePolicies } from "./policyAssertions";

const factory = () => async () => ({});
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const EXISTING_QUEUE = {
  arn: "arn:aws:sqs:us-east-1:123456789012:existing",
  url: "https://sqs.us-east-1.amazonaws.com/123456789012/existing",
};
const EXISTING_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:existing";
const TASK_RESPONSE = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];

function waitingOn(channel: ChannelArgs): CallbackWorkflowArgs {
  return { steps: [{ type: "callback", name: "Wait", channel, timeoutSeconds: 600 }] };
}

async function declareChannel(channel: ChannelArgs) {
  return (await declare(() => new CallbackWorkflow("wf", waitingOn(channel)))).resources;
}

const machineOf = (resources: RecordedResource[]) => findOne(resources, "aws:sfn/stateMachine:StateMachine");
const definitionOf = (resources: RecordedResource[]) => JSON.parse(machineOf(resources).inputs.definition);
const policyOf = (resources: RecordedResource[], name: string) => {
  const policy = rolePolicies(resources).get(name);
  assert.ok(policy, `no RolePolicy ${name}; declared: ${[...rolePolicies(resources).keys()].join(", ")}`);
  return policy;
};
const roleId = (resources: RecordedResource[], name: string) => findOne(resources, "aws:iam/role:Role", name).id;
/** The names of the state machine role's policies (the invoke, log and channel rights). */
const stateMachinePolicies = (resources: RecordedResource[]) =>
  [...rolePolicies(resources).entries()].filter(([, policy]) => policy.role === roleId(resources, "wf-sfn-role")).map(([name]) => name);

describe("deploy: callback channels under Pulumi mocks", function () {
  this.timeout(60_000);

  describe("sqs, with a created queue, a worker and a dead-letter queue", () => {
    let resources: RecordedResource[];
    let queue: RecordedResource;
    let deadLetter: RecordedResource;
    before(async () => {
      resources = await declareChannel({
        type: "sqs",
        worker: { function: { callbackFactory: factory, timeoutSeconds: 20 }, batchSize: 5, deadLetter: { maxReceiveCount: 3 } },
      });
      queue = findOne(resources, "aws:sqs/queue:Queue", "wf-wait-queue");
      deadLetter = findOne(resources, "aws:sqs/queue:Queue", "wf-wait-dlq");
    });

    it("sends the token to the queue's URL with sqs:sendMessage.waitForTaskToken", () => {
      const wait = definitionOf(resources).States.Wait;
      assert.equal(wait.Resource, "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
      assert.deepEqual(wait.Parameters, { QueueUrl: queue.state.url, MessageBody: { "taskToken.$": "$$.Task.Token", "input.$": "$" } });
    });

    it("lets the state machine send to that queue and nothing else (no KMS: the queue uses SQS-managed keys)", () => {
      assert.deepEqual(policyOf(resources, "wf-sfn-wait-send").document.Statement, [
        { Sid: "SendTokenMessages", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queue.state.arn },
      ]);
      assert.deepEqual(stateMachinePolicies(resources).sort(), ["wf-sfn-log-delivery", "wf-sfn-wait-send"]);
      assert.equal(queue.inputs.sqsManagedSseEnabled, true);
    });

    it("moves a message to the dead-letter queue after maxReceiveCount receives, and hides it six worker timeouts", () => {
      assert.deepEqual(JSON.parse(queue.inputs.redrivePolicy), { deadLetterTargetArn: deadLetter.state.arn, maxReceiveCount: 3 });
      assert.equal(queue.inputs.visibilityTimeoutSeconds, 120);
      assert.equal(deadLetter.inputs.messageRetentionSeconds, 1_209_600);
    });

    it("maps the queue to the worker in batches, reporting partial batch failures", () => {
      const worker = findOne(resources, "aws:lambda/function:Function", "wf-wait-worker");
      const mapping = findOne(resources, "aws:lambda/eventSourceMapping:EventSourceMapping");
      assert.deepEqual(
        { eventSourceArn: mapping.inputs.eventSourceArn, functionName: mapping.inputs.functionName, batchSize: mapping.inputs.batchSize },
        { eventSourceArn: queue.state.arn, functionName: worker.state.arn, batchSize: 5 },
      );
      assert.deepEqual(mapping.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
    });

    it("lets the worker receive, delete and read attributes on its queue only, and answer this machine's tokens", () => {
      const consume = policyOf(resources, "wf-wait-worker-consume");
      assert.equal(consume.role, roleId(resources, "wf-wait-worker-role"));
      assert.deepEqual(consume.document.Statement, [
        {
          Sid: "ConsumeTokenQueue",
          Effect: "Allow",
          Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          Resource: queue.state.arn,
        },
      ]);
      const grant = policyOf(resources, "wf-wait-worker-task-response");
      assert.equal(grant.role, roleId(resources, "wf-wait-worker-role"));
      assert.deepEqual(grant.document.Statement, [
        { Sid: "AnswerTaskTokens", Effect: "Allow", Action: TASK_RESPONSE, Resource: machineOf(resources).state.arn },
      ]);
    });
  });

  it("sqs with an encrypted existing queue: KMS rights on that key only, and no queue declared", async () => {
    const resources = await declareChannel({
      type: "sqs",
      queue: { ...EXISTING_QUEUE, kmsKeyArn: KEY_ARN },
      worker: { function: { callbackFactory: factory } },
    });
    assert.deepEqual(findAll(resources, "aws:sqs/queue:Queue"), []);
    assert.equal(definitionOf(resources).States.Wait.Parameters.QueueUrl, EXISTING_QUEUE.url);
    assert.deepEqual(policyOf(resources, "wf-sfn-wait-send").document.Statement, [
      { Sid: "SendTokenMessages", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: EXISTING_QUEUE.arn },
      { Sid: "EncryptTokenMessages", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: KEY_ARN },
    ]);
    assert.deepEqual(policyOf(resources, "wf-wait-worker-consume").document.Statement[1], {
      Sid: "DecryptTokenMessages",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: KEY_ARN,
    });
  });

  it("sqs with a queue encrypted by a given key: the queue uses it, and the rights name it", async () => {
    const resources = await declareChannel({ type: "sqs", queueSettings: { kmsKeyArn: KEY_ARN } });
    assert.equal(findOne(resources, "aws:sqs/queue:Queue").inputs.kmsMasterKeyId, KEY_ARN);
    assert.equal(policyOf(resources, "wf-sfn-wait-send").document.Statement[1].Resource, KEY_ARN);
    assert.deepEqual(findAll(resources, "aws:lambda/eventSourceMapping:EventSourceMapping"), []);
  });

  describe("sns, with a created topic and lambda, sqs and email subscribers", () => {
    let resources: RecordedResource[];
    let topicArn: string;
    before(async () => {
      resources = await declareChannel({
        type: "sns",
        subject: "Work to do",
        subscriptions: [
          { protocol: "lambda", function: { callbackFactory: factory } },
          { protocol: "sqs", queue: EXISTING_QUEUE, rawMessageDelivery: true },
          { protocol: "email", endpoint: "ops@example.com" },
        ],
      });
      topicArn = findOne(resources, "aws:sns/topic:Topic", "wf-wait-topic").state.arn;
    });

    it("publishes the token to the topic with sns:publish.waitForTaskToken, allowed on that topic only", () => {
      assert.deepEqual(definitionOf(resources).States.Wait.Parameters, {
        TopicArn: topicArn,
        Message: { "taskToken.$": "$$.Task.Token", "input.$": "$" },
        Subject: "Work to do",
      });
      assert.deepEqual(policyOf(resources, "wf-sfn-wait-publish").document.Statement, [
        { Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn },
      ]);
      assert.deepEqual(stateMachinePolicies(resources).sort(), ["wf-sfn-log-delivery", "wf-sfn-wait-publish"]);
    });

    it("subscribes each endpoint by protocol, as Pulumi's aws provider declares subscriptions", () => {
      const subscriptions = findAll(resources, "aws:sns/topicSubscription:TopicSubscription")
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((subscription) => subscription.inputs);
      const subscriber = findOne(resources, "aws:lambda/function:Function", "wf-wait-subscriber-0");
      assert.deepEqual(
        subscriptions.map(({ topic, protocol, endpoint, rawMessageDelivery }) => ({ topic, protocol, endpoint, rawMessageDelivery })),
        [
          { topic: topicArn, protocol: "lambda", endpoint: subscriber.state.arn, rawMessageDelivery: undefined },
          { topic: topicArn, protocol: "sqs", endpoint: EXISTING_QUEUE.arn, rawMessageDelivery: true },
          { topic: topicArn, protocol: "email", endpoint: "ops@example.com", rawMessageDelivery: undefined },
        ],
      );
    });

    it("lets SNS invoke the subscriber for this topic only, and the subscriber answer this machine's tokens", () => {
      const permission = findOne(resources, "aws:lambda/permission:Permission");
      assert.deepEqual(
        [permission.inputs.action, permission.inputs.principal, permission.inputs.sourceArn, permission.inputs.function],
        ["lambda:InvokeFunction", "sns.amazonaws.com", topicArn, findOne(resources, "aws:lambda/function:Function").state.arn],
      );
      assert.equal(policyOf(resources, "wf-wait-subscriber-0-task-response").role, roleId(resources, "wf-wait-subscriber-0-role"));
    });

    it("lets the topic, and only the topic, send to the subscribed queue", () => {
      const queuePolicy = findOne(resources, "aws:sqs/queuePolicy:QueuePolicy");
      assert.equal(queuePolicy.inputs.queueUrl, EXISTING_QUEUE.url);
      assert.deepEqual(JSON.parse(queuePolicy.inputs.policy).Statement, [
        {
          Sid: "TopicSendsToQueue",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: EXISTING_QUEUE.arn,
          Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
        },
      ]);
    });
  });

  it("sns with an existing encrypted topic: publishes there with KMS rights on its key, declaring no topic", async () => {
    const resources = await declareChannel({ type: "sns", topic: { arn: EXISTING_TOPIC_ARN, kmsKeyArn: KEY_ARN } });
    assert.deepEqual(findAll(resources, "aws:sns/topic:Topic"), []);
    assert.deepEqual(policyOf(resources, "wf-sfn-wait-publish").document.Statement, [
      { Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: EXISTING_TOPIC_ARN },
      { Sid: "EncryptTokenMessages", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: KEY_ARN },
    ]);
  });

  describe("approval", () => {
    let resources: RecordedResource[];
    let topicArn: string;
    before(async () => {
      resources = await declareChannel({ type: "approval", email: "approver@example.com", subject: "Please decide" });
      topicArn = findOne(resources, "aws:sns/topic:Topic", "wf-wait-topic").state.arn;
    });

    it("subscribes the approver's email to the topic", () => {
      assert.deepEqual(findOne(resources, "aws:sns/topicSubscription:TopicSubscription").inputs, {
        topic: topicArn,
        protocol: "email",
        endpoint: "approver@example.com",
      });
    });

    it("hands the token to the notifier, which may publish to that topic only, with the links' base URL", () => {
      const notifier = findOne(resources, "aws:lambda/function:Function", "wf-wait-notifier");
      assert.equal(definitionOf(resources).States.Wait.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
      assert.equal(definitionOf(resources).States.Wait.Parameters.FunctionName, notifier.state.arn);
      const api = findOne(resources, "aws:apigatewayv2/api:Api", "wf-wait-approval-api");
      assert.deepEqual(notifier.inputs.environment.variables, {
        APPROVAL_TOPIC_ARN: topicArn,
        APPROVAL_API_URL: `${api.state.apiEndpoint}/wf-wait`,
        APPROVAL_SUBJECT: "Please decide",
      });
      assert.deepEqual(policyOf(resources, "wf-wait-notifier-extra-policy").document.Statement, [
        { Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn },
      ]);
      assert.equal(rolePolicies(resources).get("wf-wait-notifier-task-response"), undefined);
    });

    it("serves GET approve and reject routes through the answering function, which alone may answer this machine's tokens", () => {
      const answer = findOne(resources, "aws:lambda/function:Function", "wf-wait-answer");
      const integration = findOne(resources, "aws:apigatewayv2/integration:Integration", "wf-wait-approval-integration");
      assert.deepEqual(
        [integration.inputs.integrationType, integration.inputs.integrationUri, integration.inputs.payloadFormatVersion],
        ["AWS_PROXY", answer.state.arn, "2.0"],
      );
      assert.deepEqual(
        findAll(resources, "aws:apigatewayv2/route:Route")
          .filter((route) => route.name.startsWith("wf-wait-approval-"))
          .map((route) => route.inputs.routeKey)
          .sort(),
        ["GET /wf-wait/approve", "GET /wf-wait/reject"],
      );
      const permission = findOne(resources, "aws:lambda/permission:Permission");
      assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
      assert.equal(
        permission.inputs.sourceArn,
        `${findOne(resources, "aws:apigatewayv2/api:Api", "wf-wait-approval-api").state.executionArn}/*/*`,
      );
      assert.deepEqual(policyOf(resources, "wf-wait-answer-task-response").document.Statement[0].Action, TASK_RESPONSE);
      assert.deepEqual(findOne(resources, "aws:apigatewayv2/stage:Stage", "wf-wait-approval-stage").inputs.defaultRouteSettings, {
        throttlingBurstLimit: 10,
        throttlingRateLimit: 5,
      });
    });

    it("lets the state machine invoke the notifier and nothing else", () => {
      const notifierArn = findOne(resources, "aws:lambda/function:Function", "wf-wait-notifier").state.arn;
      assert.deepEqual(policyOf(resources, "wf-sfn-invoke").document.Statement[0].Resource, [notifierArn, `${notifierArn}:*`]);
      assert.deepEqual(stateMachinePolicies(resources).sort(), ["wf-sfn-invoke", "wf-sfn-log-delivery"]);
    });
  });
});
