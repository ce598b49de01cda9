/**
 * KMS rights for encrypted queues and topics a channel is given as Pulumi resources, under Pulumi mocks. A
 * resource names its key as SQS and SNS take it (`kmsMasterKeyId`: key id, key ARN, alias name or alias ARN); an IAM
 * policy names a key only by its ARN, so the roles must be granted on the key's ARN, looked up when needed, and on
 * nothing for an AWS managed key (its key policy already allows the account's principals through the service).
 */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import { CallbackWorkflow } from "../../components/callbackWorkflow";
import type { ChannelArgs } from "../../components/steps";
import { DEFAULT_FAKE_CLOUD, type FakeCloud } from "../../local/cloud/fakeState";
import { declare, type RecordedInvoke, type RecordedResource } from "../mocks";
import { rolePolicies, type Statement } from "./policyAssertions";

const factory = () => async () => ({});
const ACCOUNT = DEFAULT_FAKE_CLOUD.accountId;
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`;
/** The key an AWS managed alias stands for in this account. */
const AWS_SQS_KEY_ID = "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab";
/** The KMS aliases of the fake account: one for the customer managed key, and SQS's AWS managed one. */
const CLOUD: FakeCloud = {
  ...DEFAULT_FAKE_CLOUD,
  kmsAliases: { "alias/workflow-tokens": KEY_ID, "alias/aws/sqs": AWS_SQS_KEY_ID },
};
const KEY_LOOKUP = "aws:kms/getKey:getKey";

interface KeyCase {
  /** How the resource names its key. */
  title: string;
  kmsMasterKeyId?: string;
  /** The key ARN the roles must be granted on; undefined: no KMS statement at all. */
  granted?: string;
  /** What the deployment must look up (`aws.kms.getKey`'s keyId), if anything. */
  lookedUp?: string;
}

const CASES: KeyCase[] = [
  { title: "no key" },
  { title: "a customer managed key by its ARN", kmsMasterKeyId: KEY_ARN, granted: KEY_ARN },
  { title: "a customer managed key by its id", kmsMasterKeyId: KEY_ID, granted: KEY_ARN, lookedUp: KEY_ID },
  {
    title: "a customer managed key by alias name",
    kmsMasterKeyId: "alias/workflow-tokens",
    granted: KEY_ARN,
    lookedUp: "alias/workflow-tokens",
  },
  {
    title: "a customer managed key by alias ARN",
    kmsMasterKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/workflow-tokens`,
    granted: KEY_ARN,
    lookedUp: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/workflow-tokens`,
  },
  { title: "the AWS managed alias", kmsMasterKeyId: "alias/aws/sqs" },
  { title: "the AWS managed alias by ARN", kmsMasterKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/sns` },
  { title: "the AWS managed key by its id", kmsMasterKeyId: AWS_SQS_KEY_ID, lookedUp: AWS_SQS_KEY_ID },
];

const APPROVAL_CASES = ["no key", "a customer managed key by its id", "a customer managed key by alias name", "the AWS managed alias"];

/** Declares a workflow whose only step waits on the channel `channelOf` builds around the given resource. */
async function declareWith<T>(makeResource: () => T, channelOf: (resource: T) => ChannelArgs) {
  return declare(
    () =>
      new CallbackWorkflow("wf", { steps: [{ type: "callback", name: "Wait", channel: channelOf(makeResource()), timeoutSeconds: 600 }] }),
    { cloud: CLOUD },
  );
}

function statementsOf(resources: RecordedResource[], policyName: string): Statement[] {
  const policy = rolePolicies(resources).get(policyName);
  assert.ok(policy, `no RolePolicy ${policyName}; declared: ${[...rolePolicies(resources).keys()].join(", ")}`);
  return policy.document.Statement;
}

/** The channel's own statement, then the key statement when a key is granted. */
function expected(own: Statement, keyCase: KeyCase, sid: string, actions: string[]): Statement[] {
  return keyCase.granted === undefined ? [own] : [own, { Sid: sid, Effect: "Allow", Action: actions, Resource: keyCase.granted }];
}

function keyLookups(invokes: RecordedInvoke[]): string[] {
  return invokes.filter((invoke) => invoke.token === KEY_LOOKUP).map((invoke) => invoke.inputs.keyId);
}

function grantTitle(keyCase: KeyCase): string {
  return keyCase.granted === undefined ? "grants no KMS right" : "grants the key rights on the key's ARN";
}

describe("deploy: KMS rights for encrypted queues and topics given as resources", function () {
  this.timeout(60_000);

  describe("sqs channel with an aws.sqs.Queue and a worker", () => {
    for (const keyCase of CASES) {
      it(`${keyCase.title}: ${grantTitle(keyCase)} to the sender (GenerateDataKey, Decrypt) and the worker (Decrypt)`, async () => {
        const { resources, invokes } = await declareWith(
          () => new aws.sqs.Queue("given-queue", keyCase.kmsMasterKeyId ? { kmsMasterKeyId: keyCase.kmsMasterKeyId } : {}),
          (queue): ChannelArgs => ({ type: "sqs", queue, worker: { function: { callbackFactory: factory } } }),
        );
        const queueArn = resources.find((resource) => resource.name === "given-queue")?.state.arn;
        assert.deepEqual(
          statementsOf(resources, "wf-sfn-wait-send"),
          expected(
            { Sid: "SendTokenMessages", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn },
            keyCase,
            "EncryptTokenMessages",
            ["kms:GenerateDataKey", "kms:Decrypt"],
          ),
        );
        assert.deepEqual(
          statementsOf(resources, "wf-wait-worker-consume"),
          expected(
            {
              Sid: "ConsumeTokenQueue",
              Effect: "Allow",
              Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
              Resource: queueArn,
            },
            keyCase,
            "DecryptTokenMessages",
            ["kms:Decrypt"],
          ),
        );
        // One lookup serves the sender and the worker; a key ARN or an AWS managed alias needs none.
        assert.deepEqual(keyLookups(invokes), keyCase.lookedUp === undefined ? [] : [keyCase.lookedUp]);
      });
    }
  });

  describe("sns channel with an aws.sns.Topic", () => {
    for (const keyCase of CASES) {
      it(`${keyCase.title}: ${grantTitle(keyCase)} to the state machine that publishes the token`, async () => {
        const { resources } = await declareWith(
          () => new aws.sns.Topic("given-topic", keyCase.kmsMasterKeyId ? { kmsMasterKeyId: keyCase.kmsMasterKeyId } : {}),
          (topic): ChannelArgs => ({ type: "sns", topic }),
        );
        const topicArn = resources.find((resource) => resource.name === "given-topic")?.state.arn;
        assert.deepEqual(
          statementsOf(resources, "wf-sfn-wait-publish"),
          expected(
            { Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn },
            keyCase,
            "EncryptTokenMessages",
            ["kms:GenerateDataKey", "kms:Decrypt"],
          ),
        );
      });
    }
  });

  describe("approval channel with an aws.sns.Topic", () => {
    // It shares the sns channel's key resolution; one case of each kind keeps the spec quick.
    for (const keyCase of CASES.filter((each) => APPROVAL_CASES.includes(each.title))) {
      it(`${keyCase.title}: ${grantTitle(keyCase)} to the notifier that publishes the links`, async () => {
        const { resources } = await declareWith(
          () => new aws.sns.Topic("given-topic", keyCase.kmsMasterKeyId ? { kmsMasterKeyId: keyCase.kmsMasterKeyId } : {}),
          (topic): ChannelArgs => ({ type: "approval", topic }),
        );
        const topicArn = resources.find((resource) => resource.name === "given-topic")?.state.arn;
        assert.deepEqual(
          statementsOf(resources, "wf-wait-notifier-extra-policy"),
          expected(
            { Sid: "PublishTokenMessages", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn },
            keyCase,
            "EncryptTokenMessages",
            ["kms:GenerateDataKey", "kms:Decrypt"],
          ),
        );
      });
    }
  });

  describe("keys given by reference rather than by resource", () => {
    it("an existing queue's kmsKeyArn given as an alias is granted on the key's ARN, never on the alias", async () => {
      const { resources } = await declare(
        () =>
          new CallbackWorkflow("wf", {
            steps: [
              {
                type: "callback",
                name: "Wait",
                channel: {
                  type: "sqs",
                  queue: {
                    arn: "arn:aws:sqs:us-east-1:123456789012:existing",
                    url: "https://sqs.example/existing",
                    kmsKeyArn: "alias/workflow-tokens",
                  },
                },
              },
            ],
          }),
        { cloud: CLOUD },
      );
      assert.deepEqual(statementsOf(resources, "wf-sfn-wait-send")[1], {
        Sid: "EncryptTokenMessages",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: KEY_ARN,
      });
    });

    it("a created queue encrypted with the AWS managed alias keeps the alias on the queue and grants no KMS right", async () => {
      const { resources } = await declare(
        () =>
          new CallbackWorkflow("wf", {
            steps: [{ type: "callback", name: "Wait", channel: { type: "sqs", queueSettings: { kmsKeyArn: "alias/aws/sqs" } } }],
          }),
        { cloud: CLOUD },
      );
      assert.equal(resources.find((resource) => resource.name === "wf-wait-queue")?.inputs.kmsMasterKeyId, "alias/aws/sqs");
      assert.deepEqual(statementsOf(resources, "wf-sfn-wait-send").length, 1);
    });
  });
});
