/** The control-plane operations people script against: update, delete, validate, tags; over HTTP with the SDK v3. */
import assert from "node:assert/strict";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListTagsForResourceCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import { createHarness, ROLE_ARN, waitUntil, type Harness } from "./support/harness";
import { serve } from "./support/httpServer";

const WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken";
const waitingDefinition = (next: string) => ({
  StartAt: "Wait",
  States: {
    Wait: {
      Type: "Task",
      Resource: WAIT,
      Parameters: { FunctionName: "worker", Payload: { "taskToken.$": "$$.Task.Token" } },
      TimeoutSeconds: 600,
      Next: next,
    },
    [next]: { Type: "Pass", Result: next, End: true },
  },
});

async function expectSdkError(promise: Promise<unknown>, code: string, message?: string | RegExp) {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.name, code, `${error.name}: ${error.message}`);
    if (typeof message === "string") assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

describe("Step Functions control plane over HTTP (AWS SDK v3)", () => {
  let h: Harness;
  let http: Awaited<ReturnType<typeof serve>>;
  let sfn: SFNClient;
  let tokens: string[];

  before(async () => {
    h = createHarness();
    tokens = [];
    h.lambda.on("worker", (event) => {
      tokens.push(event.taskToken);
      return {};
    });
    http = await serve(h.service);
    sfn = new SFNClient({
      region: "us-east-1",
      endpoint: http.origin,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
  });

  after(async () => {
    sfn.destroy();
    await http.close();
    await h.service.close();
  });

  async function startWaiting(stateMachineArn: string): Promise<{ executionArn: string; token: string }> {
    const before = tokens.length;
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    await waitUntil(() => tokens.length > before);
    return { executionArn: executionArn!, token: tokens[tokens.length - 1] };
  }

  describe("UpdateStateMachine", () => {
    it("runs new executions on the new definition while a running one finishes on the definition it started with", async () => {
      const arn = h.machine(waitingDefinition("Old"), "update-keeps-revision");
      const older = await startWaiting(arn);
      const { revisionId, updateDate } = await sfn.send(
        new UpdateStateMachineCommand({ stateMachineArn: arn, definition: JSON.stringify(waitingDefinition("New")) }),
      );
      assert.match(revisionId!, /^[0-9a-f-]{36}$/);
      assert.ok(updateDate instanceof Date);
      const newer = await startWaiting(arn);

      const describedOlder = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: older.executionArn }));
      assert.equal(JSON.parse(describedOlder.definition!).States.Wait.Next, "Old");
      assert.equal(describedOlder.revisionId, undefined);
      const describedNewer = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: newer.executionArn }));
      assert.equal(describedNewer.revisionId, revisionId);

      for (const { token } of [older, newer]) await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));
      assert.equal(JSON.parse((await h.finish(older.executionArn)).output), "Old");
      assert.equal(JSON.parse((await h.finish(newer.executionArn)).output), "New");
      const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      assert.equal(machine.revisionId, revisionId);
      assert.equal(JSON.parse(machine.definition!).States.Wait.Next, "New");
    });

    it("answers MissingRequiredParameter when the call updates nothing", async () => {
      const arn = h.machine(waitingDefinition("A"));
      await expectSdkError(
        sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn })),
        "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified",
      );
    });

    it("validates the new definition and role like CreateStateMachine, leaving the machine unchanged on error", async () => {
      const arn = h.machine(waitingDefinition("A"));
      await expectSdkError(
        sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: '{"StartAt": "Nowhere", "States": {}}' })),
        "InvalidDefinition",
        /^Invalid State Machine Definition: '/,
      );
      await expectSdkError(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, roleArn: "not-an-arn" })), "InvalidArn");
      const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      assert.equal(JSON.parse(machine.definition!).States.Wait.Next, "A");
      assert.equal(machine.roleArn, ROLE_ARN);
    });

    it("refuses publish by name: versions are not emulated", async () => {
      const arn = h.machine(waitingDefinition("A"));
      await expectSdkError(
        sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, roleArn: ROLE_ARN, publish: true })),
        "ValidationException",
        /versions and aliases are not emulated/,
      );
    });
  });

  describe("DeleteStateMachine", () => {
    it("marks the machine DELETING while an execution runs, refuses new executions, and removes it when the execution ends", async () => {
      const arn = h.machine(waitingDefinition("Done"), "delete-me");
      const running = await startWaiting(arn);
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
      assert.equal((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))).status, "DELETING");
      await expectSdkError(sfn.send(new StartExecutionCommand({ stateMachineArn: arn })), "StateMachineDeleting");

      const ended = h.service.execution(running.executionArn)!.done;
      await sfn.send(new SendTaskSuccessCommand({ taskToken: running.token, output: "{}" }));
      await ended;
      await waitUntil(async () => {
        try {
          await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
          return false;
        } catch (error: any) {
          return error.name === "StateMachineDoesNotExist";
        }
      });
      await expectSdkError(sfn.send(new ListExecutionsCommand({ stateMachineArn: arn })), "StateMachineDoesNotExist");
    });

    it("answers StateMachineDeleting to CreateStateMachine with a DELETING machine's name, identical or not", async () => {
      const definition = JSON.stringify(waitingDefinition("Done"));
      const arn = h.machine(JSON.parse(definition), "recreate-while-deleting");
      const running = await startWaiting(arn);
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
      const message = `State Machine is being deleted: '${arn}'`;
      await expectSdkError(
        sfn.send(new CreateStateMachineCommand({ name: "recreate-while-deleting", definition, roleArn: ROLE_ARN })),
        "StateMachineDeleting",
        message,
      );
      const other = JSON.stringify(waitingDefinition("Other"));
      await expectSdkError(
        sfn.send(new CreateStateMachineCommand({ name: "recreate-while-deleting", definition: other, roleArn: ROLE_ARN })),
        "StateMachineDeleting",
        message,
      );
      const ended = h.service.execution(running.executionArn)!.done;
      await sfn.send(new SendTaskSuccessCommand({ taskToken: running.token, output: "{}" }));
      await ended;
      await waitUntil(async () => {
        try {
          await sfn.send(new CreateStateMachineCommand({ name: "recreate-while-deleting", definition: other, roleArn: ROLE_ARN }));
          return true;
        } catch (error: any) {
          assert.equal(error.name, "StateMachineDeleting");
          return false;
        }
      });
      const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      assert.equal(machine.status, "ACTIVE");
      assert.equal(JSON.parse(machine.definition!).States.Wait.Next, "Other");
    });

    it("deletes an idle machine at once, and deleting it again succeeds", async () => {
      const arn = h.machine(waitingDefinition("Done"));
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
      await expectSdkError(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })), "StateMachineDoesNotExist");
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    });
  });

  describe("ValidateStateMachineDefinition", () => {
    it("answers OK with no diagnostics for a valid definition", async () => {
      const answer = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(waitingDefinition("A")) }));
      assert.equal(answer.result, "OK");
      assert.deepEqual(answer.diagnostics, []);
      assert.equal(answer.truncated, false);
    });

    it("answers FAIL with an ERROR diagnostic per problem (code, message, location), without creating anything", async () => {
      const answer = await sfn.send(
        new ValidateStateMachineDefinitionCommand({
          definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", Next: "Missing" } } }),
        }),
      );
      assert.equal(answer.result, "FAIL");
      assert.ok(answer.diagnostics!.length >= 1);
      for (const diagnostic of answer.diagnostics!) {
        assert.equal(diagnostic.severity, "ERROR");
        assert.match(diagnostic.code!, /^[A-Z][A-Z_]+$/);
        assert.ok(diagnostic.message!.length > 0);
      }
      assert.ok(answer.diagnostics!.some((diagnostic) => /Missing/.test(diagnostic.message!)));
    });

    it("reports INVALID_JSON_DESCRIPTION for text that is not JSON", async () => {
      const answer = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: "{not json" }));
      assert.equal(answer.result, "FAIL");
      assert.equal(answer.diagnostics![0].code, "INVALID_JSON_DESCRIPTION");
    });

    it("lists NO_DOLLAR warnings only when asked for severity WARNING, and a warning alone does not fail", async () => {
      const definition = JSON.stringify({
        StartAt: "P",
        States: { P: { Type: "Pass", Parameters: { looksLikePath: "$.value" }, End: true } },
      });
      const errorsOnly = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition }));
      assert.deepEqual(errorsOnly.diagnostics, []);
      const withWarnings = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition, severity: "WARNING" }));
      assert.equal(withWarnings.result, "OK");
      assert.deepEqual(
        withWarnings.diagnostics!.map(({ severity, code, location }) => ({ severity, code, location })),
        [{ severity: "WARNING", code: "NO_DOLLAR", location: "/States/P/Parameters/looksLikePath" }],
      );
    });

    it("bounds the list with maxResults and says it was truncated", async () => {
      const states: Record<string, unknown> = {};
      for (let index = 0; index < 5; index++) states[`S${index}`] = { Type: "Pass", Next: `Missing${index}` };
      const answer = await sfn.send(
        new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify({ StartAt: "S0", States: states }), maxResults: 2 }),
      );
      assert.equal(answer.diagnostics!.length, 2);
      assert.equal(answer.truncated, true);
    });
  });

  describe("tags", () => {
    it("tags, lists and untags a state machine; CreateStateMachine takes tags too", async () => {
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: "tagged",
          definition: JSON.stringify(waitingDefinition("A")),
          roleArn: ROLE_ARN,
          tags: [{ key: "team", value: "payments" }],
        }),
      );
      await sfn.send(
        new TagResourceCommand({
          resourceArn: stateMachineArn,
          tags: [
            { key: "stage", value: "dev" },
            { key: "team", value: "core" },
          ],
        }),
      );
      const listed = await sfn.send(new ListTagsForResourceCommand({ resourceArn: stateMachineArn }));
      assert.deepEqual(listed.tags, [
        { key: "team", value: "core" },
        { key: "stage", value: "dev" },
      ]);
      await sfn.send(new UntagResourceCommand({ resourceArn: stateMachineArn, tagKeys: ["team", "absent"] }));
      assert.deepEqual((await sfn.send(new ListTagsForResourceCommand({ resourceArn: stateMachineArn }))).tags, [
        { key: "stage", value: "dev" },
      ]);
    });

    it("refuses a 51st tag with TooManyTags and keeps the 50 it had", async () => {
      const arn = h.machine(waitingDefinition("A"));
      const fifty = Array.from({ length: 50 }, (_, index) => ({ key: `k${index}`, value: "v" }));
      await sfn.send(new TagResourceCommand({ resourceArn: arn, tags: fifty }));
      await expectSdkError(sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "one-more", value: "v" }] })), "TooManyTags");
      assert.equal((await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags!.length, 50);
    });

    it("validates tag keys and values (length, characters) with a ValidationException naming the member", async () => {
      const arn = h.machine(waitingDefinition("A"));
      await expectSdkError(
        sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "", value: "v" }] })),
        "ValidationException",
        /'tags.1.member.key' failed to satisfy constraint: Member must have length between 1 and 128/,
      );
      await expectSdkError(
        sfn.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "ok", value: "semi;colon" }] })),
        "ValidationException",
        /'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern/,
      );
    });

    it("answers ResourceNotFound for an unknown state machine and InvalidArn for a malformed ARN", async () => {
      await expectSdkError(
        sfn.send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:states:us-east-1:123456789012:stateMachine:nope" })),
        "ResourceNotFound",
      );
      await expectSdkError(sfn.send(new ListTagsForResourceCommand({ resourceArn: "nope" })), "InvalidArn");
    });
  });

  describe("execution fields", () => {
    it("lists redriveCount on ListExecutions items and the redrive status on DescribeExecution", async () => {
      const arn = h.machine({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      await h.finish(executionArn!);
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
      assert.equal(listed.executions![0].redriveCount, 0);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      assert.equal(described.redriveCount, 0);
      assert.equal(described.redriveStatus, "NOT_REDRIVABLE");
      assert.match(described.redriveStatusReason!, /SUCCEEDED/);
      const [started] = (await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events!;
      assert.deepEqual(Object.keys(started.executionStartedEventDetails!).sort(), ["input", "inputDetails", "roleArn"]);
    });
  });
});
