/**
 * On the durable store, a finished execution's history leaves memory once the store has committed all of it, and
 * is read back from the store when asked for: a long session's memory does not grow with its histories (issue 11).
 * These tests check that nothing changes for the API: GetExecutionHistory (paged, reversed), a redrive, a restart.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MemoryStore } from "../../../local/store/memoryStore";
import { StepFunctionsService } from "../../../local/stepfunctions/service";
import { FakeLambda } from "../stepfunctions/support/fakeLambda";
import { ACCOUNT, functionArn, REGION, ROLE_ARN } from "../stepfunctions/support/harness";
import { openOnStore, stopOnStore, type Running } from "./stepFunctionsOnStore";

const INVOKE = "arn:aws:states:::lambda:invoke";

/** Two Lambda tasks (the second fails while a test says so), then a Pass. */
function definition() {
  return JSON.stringify({
    StartAt: "First",
    States: {
      First: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: functionArn("work"), Payload: { step: 1 } }, Next: "Second" },
      Second: { Type: "Task", Resource: INVOKE, Parameters: { FunctionName: functionArn("work"), Payload: { step: 2 } }, Next: "Done" },
      Done: { Type: "Pass", End: true },
    },
  });
}

async function history(running: { service: StepFunctionsService }, executionArn: string, extra: Record<string, unknown> = {}) {
  const events: Array<Record<string, unknown>> = [];
  let nextToken: string | undefined;
  do {
    const page = await running.service.call("GetExecutionHistory", { executionArn, nextToken, ...extra });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Until the store has committed what the execution wrote, and the release that waits on it has run. */
async function committed(running: Running): Promise<void> {
  await running.store.committed();
  await new Promise((resolve) => setImmediate(resolve));
}

describe("A finished execution's history is released from memory once the durable store holds it", function () {
  this.timeout(30_000);
  let directory: string;
  let running: Running;
  let failSecond: boolean;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-released-"));
    running = openOnStore(directory);
    failSecond = false;
    running.lambda.on("work", (event: { step: number }) => {
      if (event.step === 2 && failSecond) throw new Error("second step broke");
      return { done: event.step };
    });
  });
  afterEach(async () => {
    await stopOnStore(running);
    fs.rmSync(directory, { recursive: true, force: true });
  });

  async function run(name: string): Promise<string> {
    const stateMachineArn = running.service.createStateMachine({ name: "released", definition: definition(), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await running.service.call("StartExecution", { stateMachineArn, name, input: '{"order":7}' });
    await running.service.execution(executionArn)!.done;
    return executionArn;
  }

  it("GetExecutionHistory answers the same events, paged and reversed, before and after the release, and reading does not load them back", async () => {
    const executionArn = await run("first");
    const execution = running.service.execution(executionArn)!;
    const before = await history(running, executionArn);
    const reversedBefore = await history(running, executionArn, { reverseOrder: true, maxResults: 3 });
    assert.equal(before.length, 14);
    await committed(running);
    assert.equal(execution.history.loaded, false, "the history left memory once committed");
    assert.deepEqual(await history(running, executionArn, { maxResults: 4 }), before);
    assert.deepEqual(await history(running, executionArn, { reverseOrder: true, maxResults: 3 }), reversedBefore);
    assert.deepEqual(
      await history(running, executionArn, { includeExecutionData: false }),
      await history(running, executionArn, { includeExecutionData: false }),
    );
    assert.equal(execution.history.loaded, false, "reading it leaves it in the store");
    const described = await running.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output).Payload, { done: 2 });
  });

  it("a failed execution released from memory is redriven from its failed state, and its history continues where it stopped", async () => {
    failSecond = true;
    const executionArn = await run("failing");
    const execution = running.service.execution(executionArn)!;
    await committed(running);
    assert.equal(execution.history.loaded, false);
    const failedHistory = await history(running, executionArn);
    assert.equal(failedHistory.at(-1)!.type, "ExecutionFailed");
    assert.equal((await running.service.call("DescribeExecution", { executionArn })).redriveStatus, "REDRIVABLE");

    failSecond = false;
    await running.service.call("RedriveExecution", { executionArn });
    await execution.done;
    const after = await history(running, executionArn);
    assert.deepEqual(after.slice(0, failedHistory.length), failedHistory, "the failed attempt's events are unchanged");
    assert.deepEqual(
      after.slice(failedHistory.length).map((event) => [event.id, event.type]),
      [
        [failedHistory.length + 1, "ExecutionRedriven"],
        [failedHistory.length + 2, "TaskStateEntered"],
        [failedHistory.length + 3, "TaskScheduled"],
        [failedHistory.length + 4, "TaskStarted"],
        [failedHistory.length + 5, "TaskSucceeded"],
        [failedHistory.length + 6, "TaskStateExited"],
        [failedHistory.length + 7, "PassStateEntered"],
        [failedHistory.length + 8, "PassStateExited"],
        [failedHistory.length + 9, "ExecutionSucceeded"],
      ],
    );
    await committed(running);
    assert.equal(execution.history.loaded, false, "released again once the redrive closed it");
    assert.deepEqual(await history(running, executionArn), after);
  });

  it("after a restart a finished execution's history is read from the store on each request, never kept", async () => {
    const executionArn = await run("kept");
    failSecond = true;
    const failedArn = await run("failed");
    const before = await history(running, executionArn);
    await stopOnStore(running);
    running = openOnStore(directory);
    running.service.createStateMachine({ name: "released", definition: definition(), roleArn: ROLE_ARN });
    await running.service.restore();
    const execution = running.service.execution(executionArn)!;
    assert.deepEqual(await history(running, executionArn), before);
    assert.deepEqual(await history(running, executionArn), before);
    assert.equal(execution.history.loaded, false);
    // DescribeExecution of a failed one says whether it may be redriven, which counts its events.
    const failed = running.service.execution(failedArn)!;
    assert.equal((await running.service.call("DescribeExecution", { executionArn: failedArn })).redriveStatus, "REDRIVABLE");
    assert.equal(failed.lastEventType, "ExecutionFailed");
    assert.equal(failed.history.loaded, false, "describing it leaves its history in the store");
  });

  it("reads a released history once for all the pages of one listing", async () => {
    const executionArn = await run("paged");
    await committed(running);
    const execution = running.service.execution(executionArn)!;
    const read = execution.history.read.bind(execution.history);
    let reads = 0;
    execution.history.read = () => (reads++, read());
    const pages = await history(running, executionArn, { maxResults: 3 });
    assert.equal(pages.length, 14);
    assert.equal(reads, 1);
  });

  it("keeps the history in memory when a commit failed while the execution ran: the store may lack some of its events", async () => {
    const stateMachineArn = running.service.createStateMachine({ name: "released", definition: definition(), roleArn: ROLE_ARN }).arn;
    // The next commit (the execution's start) fails.
    const batch = (running.store as unknown as { batch: { commit: (operations: unknown[]) => void } }).batch;
    const commit = batch.commit;
    batch.commit = () => {
      batch.commit = commit;
      throw new Error("disk I/O error");
    };
    await assert.rejects(running.service.call("StartExecution", { stateMachineArn, name: "unkept", input: "{}" }));
    const execution = running.service.execution(
      (await running.service.call("ListExecutions", { stateMachineArn })).executions[0].executionArn,
    )!;
    await execution.done;
    await committed(running);
    assert.equal(running.store.failedCommits, 1);
    assert.equal(execution.history.loaded, true);
    assert.equal((await history(running, execution.arn)).length, 14);
  });

  it("keeps a Map whose iterations all finish in one turn in rows that fit a page (an event longer than that alone), and reads them back whole", async () => {
    const stateMachineArn = running.service.createStateMachine({
      name: "wide",
      definition: JSON.stringify({
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemProcessor: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
            End: true,
          },
        },
      }),
      roleArn: ROLE_ARN,
    }).arn;
    const input = JSON.stringify({ items: Array.from({ length: 100 }, (_, index) => index) });
    const { executionArn } = await running.service.call("StartExecution", { stateMachineArn, name: "wide", input });
    await running.service.execution(executionArn)!.done;
    const before = await history(running, executionArn);
    assert.ok(before.length > 400);
    await committed(running);
    const rows = running.store.collection<unknown[] | object>("states.events").entries();
    assert.ok(rows.length > 1 && rows.length < before.length, `${rows.length} rows for ${before.length} events`);
    assert.ok(rows.every(([, row]) => !Array.isArray(row) || row.length === 1 || JSON.stringify(row).length <= 900));
    assert.deepEqual(await history(running, executionArn), before);
  });
});

describe("With nothing durable (--state memory) a finished execution's history stays in memory", () => {
  it("is kept after the execution ends: it is the only copy", async () => {
    const lambda = new FakeLambda().on("work", (event: { step: number }) => ({ done: event.step }));
    const service = new StepFunctionsService({
      origin: "http://127.0.0.1:0",
      region: REGION,
      accountId: ACCOUNT,
      lambda,
      log: () => undefined,
      store: new MemoryStore(),
    });
    const stateMachineArn = service.createStateMachine({ name: "memory", definition: definition(), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await service.call("StartExecution", { stateMachineArn, input: "{}" });
    const execution = service.execution(executionArn)!;
    await execution.done;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(execution.history.loaded, true);
    assert.equal((await history({ service }, executionArn)).at(-1)!.type, "ExecutionSucceeded");
    await service.close();
  });
});
