/**
 * Queue and topic policies are checked when they are set, as SQS and SNS check them (registered by
 * messaging.test.ts on its runtime): SQS answers InvalidAttributeValue "Invalid value for the parameter Policy."
 * for a document that is no policy and OverLimit (403) over its quotas; SNS answers InvalidParameter
 * "Invalid parameter: Policy Error: null". Nothing refused is kept; a valid policy is kept exactly as given.
 */
import * as assert from "node:assert/strict";
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { CreateTopicCommand, GetTopicAttributesCommand, ListTopicsCommand, SetTopicAttributesCommand } from "@aws-sdk/client-sns";
import { aws, rejection, type MessagingRuntime } from "./support";

const ACCOUNT = "123456789012";

/** A queue policy letting the events topic send to `queue`, pretty-printed so a round trip shows it kept byte for byte. */
function queuePolicy(queue: string, overrides: Record<string, unknown> = {}, statements = 1): string {
  const statement = {
    Sid: "FromEvents",
    Effect: "Allow",
    Principal: { Service: "sns.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:${queue}`,
    Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:sns:us-east-1:${ACCOUNT}:events` } },
    ...overrides,
  };
  const list = Array.from({ length: statements }, (_, index) => ({ ...statement, Sid: `${statement.Sid}${index}` }));
  return JSON.stringify({ Version: "2012-10-17", Statement: list }, null, 2);
}

function topicPolicy(topic: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      Version: "2008-10-17",
      Id: "__default_policy_ID",
      Statement: [
        {
          Sid: "OwnerPublishes",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: ["SNS:Publish", "SNS:Subscribe"],
          Resource: `arn:aws:sns:us-east-1:${ACCOUNT}:${topic}`,
          ...overrides,
        },
      ],
    },
    null,
    1,
  );
}

/** Documents that are no valid resource policy, each with what is wrong. */
const malformedQueuePolicies = (queue: string): Array<[string, string]> => [
  ["text that is not JSON", "{ this is not json"],
  ["JSON that is not a policy document (no Statement)", JSON.stringify({ Version: "2012-10-17" })],
  ["a statement whose Effect is neither Allow nor Deny", queuePolicy(queue, { Effect: "Allowed" })],
  ["a Principal of the wrong shape (a list)", queuePolicy(queue, { Principal: ["sns.amazonaws.com"] })],
  ["an Action of the wrong shape (a number)", queuePolicy(queue, { Action: 7 })],
  ["a Resource of the wrong shape (an object)", queuePolicy(queue, { Resource: { arn: queue } })],
  ["a statement naming no Principal", queuePolicy(queue, { Principal: undefined })],
];

export function describePolicyValidation(runtimeOf: () => MessagingRuntime): void {
  describe("queue policies are checked when set (SDK v3, JSON protocol)", () => {
    const sqs = () => runtimeOf().sqs;

    for (const [what, policy] of malformedQueuePolicies("policy-bad-create")) {
      it(`CreateQueue refuses ${what} with InvalidAttributeValue and creates no queue`, async () => {
        const error = await rejection(
          sqs().send(new CreateQueueCommand({ QueueName: "policy-bad-create", Attributes: { Policy: policy } })),
        );
        assert.equal(error.name, "InvalidAttributeValue");
        assert.equal(error.message, "Invalid value for the parameter Policy.");
        assert.equal(error.$metadata.httpStatusCode, 400);
        const missing = await rejection(sqs().send(new GetQueueUrlCommand({ QueueName: "policy-bad-create" })));
        assert.equal(missing.name, "QueueDoesNotExist");
      });
    }

    it("CreateQueue checks the name before the policy: a bad name with a bad policy is refused for its name", async () => {
      const [, policy] = malformedQueuePolicies("bad name!")[0];
      const error = await rejection(sqs().send(new CreateQueueCommand({ QueueName: "bad name!", Attributes: { Policy: policy } })));
      assert.equal(error.name, "InvalidParameterValue");
      assert.match(error.message, /Can only include alphanumeric characters, hyphens, or underscores/);
    });

    it("SetQueueAttributes refuses each malformed policy with InvalidAttributeValue and keeps the policy the queue had", async () => {
      const kept = queuePolicy("policy-bad-set");
      const { QueueUrl } = await sqs().send(new CreateQueueCommand({ QueueName: "policy-bad-set", Attributes: { Policy: kept } }));
      for (const [what, policy] of malformedQueuePolicies("policy-bad-set")) {
        const error = await rejection(sqs().send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: policy } })));
        assert.equal(error.name, "InvalidAttributeValue", what);
        assert.equal(error.message, "Invalid value for the parameter Policy.", what);
      }
      const { Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] }));
      assert.equal(Attributes!.Policy, kept);
    });

    it("refuses a policy over 8,192 bytes, over 20 statements or over 7 actions in a statement with OverLimit (403)", async () => {
      const { QueueUrl } = await sqs().send(new CreateQueueCommand({ QueueName: "policy-limits" }));
      const cases: Array<[string, string]> = [
        [queuePolicy("policy-limits", { Sid: "x".repeat(8_200) }), "Submitted policy is over max allowed size."],
        [queuePolicy("policy-limits", {}, 21), "21 statements were found in the submitted policy, max allowed is 20"],
        [
          queuePolicy("policy-limits", { Action: Array.from({ length: 8 }, (_, index) => `sqs:Action${index}`) }),
          "8 actions were found in a statement from the submitted policy, max allowed is 7",
        ],
      ];
      for (const [policy, message] of cases) {
        const error = await rejection(sqs().send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: policy } })));
        assert.equal(error.name, "OverLimit", message);
        assert.equal(error.message, message);
        assert.equal(error.$metadata.httpStatusCode, 403);
      }
      const { Attributes = {} } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] }));
      assert.equal(Attributes.Policy, undefined);
    });

    it("keeps a valid policy exactly as given: GetQueueAttributes returns the same text (CreateQueue and SetQueueAttributes)", async () => {
      const created = queuePolicy("policy-round-trip");
      const { QueueUrl } = await sqs().send(new CreateQueueCommand({ QueueName: "policy-round-trip", Attributes: { Policy: created } }));
      let { Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] }));
      assert.equal(Attributes!.Policy, created);
      // At the limits, and with the 2008 version and NotPrincipal: still a policy SQS keeps.
      const set = JSON.stringify({
        Version: "2008-10-17",
        Statement: Array.from({ length: 20 }, (_, index) => ({
          Effect: "Deny",
          NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:root`] },
          Action: Array.from({ length: 7 }, (_, action) => `sqs:Action${action}`),
          Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:policy-round-trip`,
          Sid: `Deny${index}`,
        })),
      });
      await sqs().send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: set } }));
      ({ Attributes } = await sqs().send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Policy"] })));
      assert.equal(Attributes!.Policy, set);
    });
  });

  describe("topic policies are checked when set (SDK v3, query protocol)", () => {
    const sns = () => runtimeOf().sns;
    const topicArn = (name: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
    const malformed: Array<[string, string]> = [
      ["text that is not JSON", "not json at all"],
      ["JSON that is not a policy document (no Statement)", JSON.stringify({ Id: "x" })],
      ["a statement whose Effect is neither Allow nor Deny", topicPolicy("policy-topic", { Effect: "allow" })],
      ["a Principal of the wrong shape", topicPolicy("policy-topic", { Principal: { Users: "me" } })],
      ["an Action of the wrong shape", topicPolicy("policy-topic", { Action: [] })],
      ["a policy over 30 KB", topicPolicy("policy-topic", { Sid: "x".repeat(31_000) })],
    ];

    for (const [what, policy] of malformed) {
      it(`CreateTopic refuses ${what} with InvalidParameter and creates no topic`, async () => {
        const error = await rejection(sns().send(new CreateTopicCommand({ Name: "policy-bad-topic", Attributes: { Policy: policy } })));
        assert.equal(error.name, "InvalidParameterException");
        assert.equal(error.message, "Invalid parameter: Policy Error: null");
        assert.equal(error.$metadata.httpStatusCode, 400);
        const { Topics = [] } = await sns().send(new ListTopicsCommand({}));
        assert.ok(!Topics.some((topic) => topic.TopicArn === topicArn("policy-bad-topic")));
      });
    }

    it("CreateTopic checks the name before the policy: a bad name with a bad policy is refused for its name", async () => {
      const error = await rejection(sns().send(new CreateTopicCommand({ Name: "bad name!", Attributes: { Policy: "not json at all" } })));
      assert.equal(error.name, "InvalidParameterException");
      assert.match(error.message, /Topic Name/);
    });

    it("SetTopicAttributes refuses each malformed policy with InvalidParameter and keeps the policy the topic had", async () => {
      const kept = topicPolicy("policy-topic");
      const { TopicArn } = await sns().send(new CreateTopicCommand({ Name: "policy-topic", Attributes: { Policy: kept } }));
      for (const [what, policy] of malformed) {
        const error = await rejection(
          sns().send(new SetTopicAttributesCommand({ TopicArn, AttributeName: "Policy", AttributeValue: policy })),
        );
        assert.equal(error.name, "InvalidParameterException", what);
        assert.equal(error.message, "Invalid parameter: Policy Error: null", what);
      }
      const { Attributes } = await sns().send(new GetTopicAttributesCommand({ TopicArn }));
      assert.equal(Attributes!.Policy, kept);
    });

    it("keeps a valid policy exactly as given: GetTopicAttributes returns the same text", async () => {
      const { TopicArn } = await sns().send(new CreateTopicCommand({ Name: "policy-topic-round-trip" }));
      const policy = topicPolicy("policy-topic-round-trip", {
        Principal: "*",
        Condition: { StringEquals: { "AWS:SourceOwner": ACCOUNT } },
      });
      await sns().send(new SetTopicAttributesCommand({ TopicArn, AttributeName: "Policy", AttributeValue: policy }));
      const { Attributes } = await sns().send(new GetTopicAttributesCommand({ TopicArn }));
      assert.equal(Attributes!.Policy, policy);
    });
  });

  describe("queue and topic policies are checked when set (AWS CLI, query protocol)", function () {
    // Each CLI call starts a Python interpreter: seconds apiece on a busy machine.
    this.timeout(240_000);
    it("aws sqs create-queue and set-queue-attributes answer InvalidAttributeValue and OverLimit as SQS does", async () => {
      const bad = JSON.stringify({ Policy: queuePolicy("cli-policy-queue", { Effect: "Permit" }) });
      const refused = await aws(runtimeOf(), ["sqs", "create-queue", "--queue-name", "cli-policy-queue", "--attributes", bad]);
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        /An error occurred \(InvalidAttributeValue\) when calling the CreateQueue operation: Invalid value for the parameter Policy\./,
      );
      const created = await aws(runtimeOf(), ["sqs", "create-queue", "--queue-name", "cli-policy-queue"]);
      assert.equal(created.code, 0, created.stderr);
      const { QueueUrl } = JSON.parse(created.stdout);
      const tooLarge = JSON.stringify({ Policy: queuePolicy("cli-policy-queue", { Sid: "y".repeat(8_200) }) });
      const overLimit = await aws(runtimeOf(), ["sqs", "set-queue-attributes", "--queue-url", QueueUrl, "--attributes", tooLarge]);
      assert.notEqual(overLimit.code, 0);
      assert.match(
        overLimit.stderr,
        /An error occurred \(OverLimit\) when calling the SetQueueAttributes operation: Submitted policy is over max allowed size\./,
      );
      const valid = queuePolicy("cli-policy-queue");
      const set = await aws(runtimeOf(), [
        "sqs",
        "set-queue-attributes",
        "--queue-url",
        QueueUrl,
        "--attributes",
        JSON.stringify({ Policy: valid }),
      ]);
      assert.equal(set.code, 0, set.stderr);
      const read = await aws(runtimeOf(), ["sqs", "get-queue-attributes", "--queue-url", QueueUrl, "--attribute-names", "Policy"]);
      assert.equal(JSON.parse(read.stdout).Attributes.Policy, valid);
    });

    it("aws sns create-topic and set-topic-attributes answer InvalidParameter as SNS does", async () => {
      const bad = await aws(runtimeOf(), [
        "sns",
        "create-topic",
        "--name",
        "cli-policy-topic",
        "--attributes",
        JSON.stringify({ Policy: "{" }),
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr,
        /An error occurred \(InvalidParameter\) when calling the CreateTopic operation: Invalid parameter: Policy Error: null/,
      );
      const created = await aws(runtimeOf(), ["sns", "create-topic", "--name", "cli-policy-topic"]);
      assert.equal(created.code, 0, created.stderr);
      const { TopicArn } = JSON.parse(created.stdout);
      const noStatement = JSON.stringify({ Version: "2012-10-17", Statement: [] });
      const setPolicy = (policy: string) =>
        aws(runtimeOf(), [
          "sns",
          "set-topic-attributes",
          "--topic-arn",
          TopicArn,
          "--attribute-name",
          "Policy",
          "--attribute-value",
          policy,
        ]);
      const refused = await setPolicy(noStatement);
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        /An error occurred \(InvalidParameter\) when calling the SetTopicAttributes operation: Invalid parameter: Policy Error: null/,
      );
      const valid = topicPolicy("cli-policy-topic");
      const set = await setPolicy(valid);
      assert.equal(set.code, 0, set.stderr);
      const read = await aws(runtimeOf(), ["sns", "get-topic-attributes", "--topic-arn", TopicArn]);
      assert.equal(JSON.parse(read.stdout).Attributes.Policy, valid);
    });
  });
}
