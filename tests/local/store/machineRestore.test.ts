/**
 * A state machine's own record across a restart: a StepFunctionsService on a SQLite store is closed and a new
 * one is opened on the same folder and restored. Tags, revision, dates and a DELETING status come back as they were.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { functionArn, ROLE_ARN } from "../stepfunctions/support/harness";
import { openOnStore, stopOnStore, type Running as RunningOnStore } from "./stepFunctionsOnStore";

type Running = RunningOnStore;
const open = (directory: string): Running => openOnStore(directory);
const stop = stopOnStore;

const passDefinition = (result: string) => JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", Result: result, End: true } } });

const CALLBACK = JSON.stringify({
  StartAt: "Wait",
  States: {
    Wait: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: functionArn("receiver"), Payload: { "token.$": "$$.Task.Token" } },
      End: true,
    },
  },
});

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe("a state machine's record across restarts (SQLite store)", function () {
  this.timeout(30_000);
  let directory: string;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-machine-restore-"))));
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("keeps a machine's tags (TagResource and UntagResource), revisionId, updateDate and original creationDate", async () => {
    const first = open(directory);
    const created = await first.service.call("CreateStateMachine", {
      name: "tagged",
      definition: passDefinition("one"),
      roleArn: ROLE_ARN,
      tags: [
        { key: "team", value: "payments" },
        { key: "stage", value: "dev" },
      ],
    });
    const stateMachineArn = created.stateMachineArn;
    await first.service.call("TagResource", { resourceArn: stateMachineArn, tags: [{ key: "owner", value: "ana" }] });
    await first.service.call("UntagResource", { resourceArn: stateMachineArn, tagKeys: ["stage"] });
    await pause(20);
    const updated = await first.service.call("UpdateStateMachine", { stateMachineArn, definition: passDefinition("two") });
    const before = await first.service.call("DescribeStateMachine", { stateMachineArn });
    await stop(first);
    await pause(20);

    const second = open(directory);
    await second.service.restore();
    const after = await second.service.call("DescribeStateMachine", { stateMachineArn });
    assert.equal(after.creationDate, created.creationDate);
    assert.equal(after.revisionId, updated.revisionId);
    assert.deepEqual(after, before);
    const { tags } = await second.service.call("ListTagsForResource", { resourceArn: stateMachineArn });
    assert.deepEqual(tags, [
      { key: "team", value: "payments" },
      { key: "owner", value: "ana" },
    ]);
    // A new execution runs the revision that was current, and DescribeStateMachineForExecution names it.
    const { executionArn } = await second.service.call("StartExecution", { stateMachineArn });
    await second.service.execution(executionArn)!.done;
    const revision = await second.service.call("DescribeStateMachineForExecution", { executionArn });
    assert.equal(revision.revisionId, updated.revisionId);
    assert.equal(revision.updateDate, updated.updateDate);
    assert.equal((await second.service.call("DescribeExecution", { executionArn })).output, '"two"');
    await stop(second);
  });

  it("keeps a DELETING machine DELETING while its execution runs on after the restart, then removes it", async () => {
    const first = open(directory);
    let token = "";
    first.lambda.on("receiver", (event) => void (token = event.token));
    const { stateMachineArn } = await first.service.call("CreateStateMachine", { name: "dying", definition: CALLBACK, roleArn: ROLE_ARN });
    const { executionArn } = await first.service.call("StartExecution", { stateMachineArn });
    while (first.service.tokens.waitingCount < 1 || !token) await new Promise((resolve) => setImmediate(resolve));
    await first.service.call("DeleteStateMachine", { stateMachineArn });
    await stop(first);

    const second = open(directory);
    await second.service.restore();
    assert.equal((await second.service.call("DescribeStateMachine", { stateMachineArn })).status, "DELETING");
    await assert.rejects(second.service.call("StartExecution", { stateMachineArn }), { code: "StateMachineDeleting" });
    await assert.rejects(second.service.call("CreateStateMachine", { name: "dying", definition: CALLBACK, roleArn: ROLE_ARN }), {
      code: "StateMachineDeleting",
    });
    const ended = second.service.execution(executionArn)!.done;
    await second.service.call("SendTaskSuccess", { taskToken: token, output: "{}" });
    await ended;
    await second.store.committed();
    await assert.rejects(second.service.call("DescribeStateMachine", { stateMachineArn }), { code: "StateMachineDoesNotExist" });
    await stop(second);

    // Gone for good: the next start does not bring it back.
    const third = open(directory);
    await third.service.restore();
    await assert.rejects(third.service.call("DescribeStateMachine", { stateMachineArn }), { code: "StateMachineDoesNotExist" });
    await stop(third);
  });

  it("keeps a declared machine's creationDate, and its revision while the program declares the same definition", async () => {
    const declare = (running: Running, result: string) =>
      running.service.createStateMachine({ name: "declared", definition: passDefinition(result), roleArn: ROLE_ARN });
    const first = open(directory);
    const stateMachineArn = declare(first, "one").arn;
    const original = await first.service.call("DescribeStateMachine", { stateMachineArn });
    await first.store.committed();
    await stop(first);
    await pause(20);

    // As at `npm start`: the program declares its machines before the restore.
    const second = open(directory);
    declare(second, "one");
    // The runtime restores only after every resource is provisioned: the declaration's own row is written by then.
    await second.store.committed();
    await second.service.restore();
    assert.deepEqual(await second.service.call("DescribeStateMachine", { stateMachineArn }), original);
    await stop(second);
    await pause(20);

    // The program changed the definition while the runtime was stopped: a new revision of the same machine.
    const third = open(directory);
    declare(third, "two");
    await third.store.committed();
    await third.service.restore();
    const changed = await third.service.call("DescribeStateMachine", { stateMachineArn });
    assert.equal(changed.creationDate, original.creationDate);
    assert.match(changed.revisionId, /^[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(changed.definition).States.P.Result, "two");
    await stop(third);
  });
});
