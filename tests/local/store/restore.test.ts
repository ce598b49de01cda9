/**
 * Step Functions state across a restart, in-process: a StepFunctionsService on a SQLite store is closed
 * (as a clean stop does) and a new one is opened on the same folder and restored.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LocalContext } from "../../../local/common/service";
import { StepFunctionsService } from "../../../local/stepfunctions/service";
import { SqliteStore } from "../../../local/store/sqliteStore";
import { FakeLambda } from "../stepfunctions/support/fakeLambda";
import { ACCOUNT, functionArn, REGION, ROLE_ARN } from "../stepfunctions/support/harness";

interface Running {
  store: SqliteStore;
  service: StepFunctionsService;
  lambda: FakeLambda;
  logs: string[];
}

function open(directory: string, lambda = new FakeLambda()): Running {
  const store = SqliteStore.open(directory);
  const logs: string[] = [];
  const context: LocalContext = {
    origin: "http://127.0.0.1:0",
    region: REGION,
    accountId: ACCOUNT,
    lambda,
    log: (_source, line) => logs.push(line),
    store,
  };
  return { store, service: new StepFunctionsService(context), lambda, logs };
}

async function stop(running: Running): Promise<void> {
  await running.service.close();
  running.store.close();
}

const CALLBACK = {
  StartAt: "Wait",
  States: {
    Wait: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: functionArn("receiver"), Payload: { "token.$": "$$.Task.Token", "index.$": "$.index" } },
      End: true,
    },
  },
};

const waitDefinition = (seconds: number) => ({ StartAt: "Pause", States: { Pause: { Type: "Wait", Seconds: seconds, End: true } } });

describe("Step Functions state across restarts (SQLite store)", function () {
  this.timeout(180_000);
  let directory: string;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-restore-"))));
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("restores 10,000 executions waiting on tokens as RUNNING, without invoking anything again, and their old tokens complete them", async () => {
    const count = 10_000;
    const first = open(directory);
    const tokens: string[] = [];
    first.lambda.on("receiver", (event) => void (tokens[event.index] = event.token));
    const machineArn = first.service.createStateMachine({ name: "callbacks", definition: JSON.stringify(CALLBACK), roleArn: ROLE_ARN }).arn;
    const executionArns: string[] = [];
    // 500 at a time, as concurrent clients would: they share commits.
    for (let batch = 0; batch < count; batch += 500) {
      const started = await Promise.all(
        Array.from({ length: 500 }, (_, offset) =>
          first.service.call("StartExecution", { stateMachineArn: machineArn, input: JSON.stringify({ index: batch + offset }) }),
        ),
      );
      executionArns.push(...started.map((response: { executionArn: string }) => response.executionArn));
    }
    while (first.service.tokens.waitingCount < count || tokens.filter(Boolean).length < count)
      await new Promise((resolve) => setImmediate(resolve));
    await first.store.committed();
    await stop(first);

    const second = open(directory);
    second.lambda.on("receiver", () => assert.fail("no function may be invoked again: every call had returned"));
    // As at `npm start`: the program declares its state machines before the restore.
    second.service.createStateMachine({ name: "callbacks", definition: JSON.stringify(CALLBACK), roleArn: ROLE_ARN });
    const started = performance.now();
    const restored = await second.service.restore();
    const seconds = (performance.now() - started) / 1000;
    console.log(`      restored ${count} waiting executions in ${seconds.toFixed(2)} s`);
    assert.deepEqual(restored, [`${count} running executions`, `${count} waiting tokens`]);
    assert.equal(second.service.runningExecutions().length, count);
    for (const index of [0, 4321, count - 1]) {
      await second.service.call("SendTaskSuccess", { taskToken: tokens[index], output: JSON.stringify({ index }) });
      await second.service.execution(executionArns[index])!.done;
      const described = await second.service.call("DescribeExecution", { executionArn: executionArns[index] });
      assert.equal(described.status, "SUCCEEDED");
      assert.equal(described.output, JSON.stringify({ index }));
    }
    assert.equal(second.lambda.calls.length, 0);
    await stop(second);
  });

  it("fires overdue Wait timers at once in deadline order, and keeps a not-yet-due one's absolute deadline", async () => {
    const first = open(directory);
    const late = first.service.createStateMachine({ name: "late", definition: JSON.stringify(waitDefinition(2)), roleArn: ROLE_ARN }).arn;
    const soon = first.service.createStateMachine({ name: "soon", definition: JSON.stringify(waitDefinition(1)), roleArn: ROLE_ARN }).arn;
    const later = first.service.createStateMachine({ name: "later", definition: JSON.stringify(waitDefinition(6)), roleArn: ROLE_ARN }).arn;
    // Started first, due last among the overdue two: replay order alone would fire it first.
    const lateArn = (await first.service.call("StartExecution", { stateMachineArn: late, name: "late" })).executionArn;
    const soonArn = (await first.service.call("StartExecution", { stateMachineArn: soon, name: "soon" })).executionArn;
    const laterArn = (await first.service.call("StartExecution", { stateMachineArn: later, name: "later" })).executionArn;
    await stop(first);
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const second = open(directory);
    await second.service.restore();
    await Promise.all([second.service.execution(lateArn)!.done, second.service.execution(soonArn)!.done]);
    const ends = second.logs.filter((line) => line.endsWith("ExecutionSucceeded")).map((line) => line.split(" ")[0]);
    assert.deepEqual(ends, ["soon", "late"]);
    await second.service.execution(laterArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn: laterArn });
    const waited = described.stopDate - described.startDate;
    assert.ok(waited >= 6 && waited < 7, `the 6 s Wait ended ${waited} s after the start, counting the time the runtime was down`);
    await stop(second);
  });

  it("restores workflow variables and JSONata's $uuid/$random values: a replayed execution ends with what it had assigned before the stop", async () => {
    const definition = {
      QueryLanguage: "JSONata",
      StartAt: "Choose",
      States: {
        Choose: {
          Type: "Pass",
          Assign: { requestId: "{% $uuid() %}", draw: "{% $random() %}", doubled: "{% $states.input.n * 2 %}" },
          Next: "Wait",
        },
        Wait: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Arguments: {
            FunctionName: functionArn("receiver"),
            Payload: { token: "{% $states.context.Task.Token %}", requestId: "{% $requestId %}" },
          },
          Output: { requestId: "{% $requestId %}", draw: "{% $draw %}", doubled: "{% $doubled %}", answer: "{% $states.result %}" },
          End: true,
        },
      },
    };
    const first = open(directory);
    first.lambda.on("receiver", () => undefined);
    const machineArn = first.service.createStateMachine({
      name: "variables",
      definition: JSON.stringify(definition),
      roleArn: ROLE_ARN,
    }).arn;
    const { executionArn } = await first.service.call("StartExecution", { stateMachineArn: machineArn, input: JSON.stringify({ n: 21 }) });
    while (first.lambda.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const sent = first.lambda.calls[0].event as { token: string; requestId: string };
    const { events: before } = await first.service.call("GetExecutionHistory", { executionArn });
    const assigned = before.find((event: { type: string }) => event.type === "PassStateExited").stateExitedEventDetails.assignedVariables;
    await stop(first);

    const second = open(directory);
    await second.service.restore();
    await second.service.call("SendTaskSuccess", { taskToken: sent.token, output: '"ok"' });
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output), {
      requestId: sent.requestId,
      draw: JSON.parse(assigned.draw),
      doubled: 42,
      answer: "ok",
    });
    assert.equal(JSON.parse(assigned.requestId), sent.requestId);
    assert.equal(second.lambda.calls.length, 0);
    await stop(second);
  });

  it("invokes again, with the same token, a callback task whose Lambda call was in flight when the runtime stopped", async () => {
    const first = open(directory);
    let firstCalls = 0;
    first.lambda.on("receiver", () => {
      firstCalls++;
      return new Promise(() => undefined);
    });
    const machineArn = first.service.createStateMachine({ name: "inflight", definition: JSON.stringify(CALLBACK), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await first.service.call("StartExecution", {
      stateMachineArn: machineArn,
      input: JSON.stringify({ index: 7 }),
    });
    while (firstCalls === 0) await new Promise((resolve) => setImmediate(resolve));
    const firstToken = (first.lambda.calls[0].event as { token: string }).token;
    await stop(first);

    const second = open(directory);
    let secondToken: string | undefined;
    second.lambda.on("receiver", (event) => void (secondToken = event.token));
    const restored = await second.service.restore();
    assert.deepEqual(restored, ["1 running execution", "1 waiting token", "1 Lambda call cut off by the stop invoked again"]);
    while (!secondToken) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(secondToken, firstToken);
    await second.service.call("SendTaskSuccess", { taskToken: firstToken, output: '"done"' });
    await second.service.execution(executionArn)!.done;
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    assert.deepEqual(
      events.map((event: { type: string }) => event.type),
      [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
      ],
    );
    await stop(second);
  });

  it("applies a callback acknowledged while its function was still running, without invoking the function again", async () => {
    const first = open(directory);
    let token: string | undefined;
    first.lambda.on("receiver", (event) => {
      token = event.token;
      return new Promise(() => undefined);
    });
    const machineArn = first.service.createStateMachine({ name: "early", definition: JSON.stringify(CALLBACK), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await first.service.call("StartExecution", {
      stateMachineArn: machineArn,
      input: JSON.stringify({ index: 1 }),
    });
    while (!token) await new Promise((resolve) => setImmediate(resolve));
    await first.service.call("SendTaskSuccess", { taskToken: token, output: '{"early":true}' });
    await stop(first);

    const second = open(directory);
    second.lambda.on("receiver", () => assert.fail("the task's outcome was known: its function must not run again"));
    await second.service.restore();
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '{"early":true}');
    await stop(second);
  });

  it("a redriven execution waiting in its redriven task continues after a restart, from the redrive, with its redrive count", async () => {
    const definition = {
      StartAt: "Remember",
      States: {
        Remember: { Type: "Pass", Assign: { "order.$": "$.order" }, Next: "Wait" },
        Wait: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Parameters: {
            FunctionName: functionArn("receiver"),
            Payload: { "token.$": "$$.Task.Token", "redrives.$": "$$.Execution.RedriveCount" },
          },
          ResultPath: "$.answer",
          Next: "Done",
        },
        Done: { Type: "Pass", Parameters: { "order.$": "$order", "answer.$": "$.answer" }, End: true },
      },
    };
    const first = open(directory);
    const sent: Array<{ token: string; redrives: number }> = [];
    first.lambda.on("receiver", (event) => {
      sent.push(event);
      if (sent.length === 1) throw new Error("the first attempt fails");
    });
    const machineArn = first.service.createStateMachine({
      name: "redriven",
      definition: JSON.stringify(definition),
      roleArn: ROLE_ARN,
    }).arn;
    const { executionArn } = await first.service.call("StartExecution", {
      stateMachineArn: machineArn,
      input: JSON.stringify({ order: 42 }),
    });
    await first.service.execution(executionArn)!.done;
    await first.service.call("RedriveExecution", { executionArn });
    while (sent.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sent[1].redrives, 1);
    await stop(first);

    const second = open(directory);
    second.lambda.on("receiver", () => assert.fail("the redriven task's call had returned: it is not made again"));
    await second.service.restore();
    const running = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(running.status, "RUNNING");
    assert.equal(running.redriveCount, 1);
    await second.service.call("SendTaskSuccess", { taskToken: sent[1].token, output: '"yes"' });
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(described.output), { order: 42, answer: "yes" });
    const { events } = await second.service.call("GetExecutionHistory", { executionArn, maxResults: 1000 });
    const types = events.map((event: { type: string }) => event.type);
    assert.equal(types.filter((type: string) => type === "ExecutionRedriven").length, 1);
    assert.equal(types.filter((type: string) => type === "PassStateEntered").length, 2, "Remember once, Done once");
    await stop(second);

    const third = open(directory);
    await third.service.restore();
    const kept = await third.service.call("DescribeExecution", { executionArn });
    assert.equal(kept.redriveCount, 1);
    assert.equal(kept.redriveDate, described.redriveDate);
    assert.equal(kept.redriveStatus, "NOT_REDRIVABLE");
    await stop(third);
  });
  it("keeps the history events an execution records in one turn in shared rows, and reads back rows kept one event each", async () => {
    const first = open(directory);
    const chain = {
      StartAt: "A",
      States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Result: { n: 1 }, Next: "C" }, C: { Type: "Succeed" } },
    };
    const machineArn = first.service.createStateMachine({ name: "chain", definition: JSON.stringify(chain), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await first.service.call("StartExecution", { stateMachineArn: machineArn, input: "{}" });
    await first.service.execution(executionArn)!.done;
    const history = (await first.service.call("GetExecutionHistory", { executionArn })).events;
    assert.equal(history.length, 8);
    await first.store.committed();
    const rows = first.store.collection<Array<{ event: { id: number } }>>("states.events").entries();
    assert.ok(rows.length < 4, `the eight small events, recorded in one turn, share rows (${rows.length})`);
    assert.deepEqual(
      rows.flatMap(([, row]) => row.map((stored) => stored.event.id)),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    await stop(first);

    // A state folder written before events were grouped: one event per row, keyed by the event's own id.
    const store = SqliteStore.open(directory);
    const events = store.collection<unknown>("states.events");
    for (const [key, grouped] of events.entries() as Array<[string, Array<{ event: { id: number } }>]>) {
      events.delete(key);
      const journalPrefix = key.slice(0, key.indexOf("\u0001") + 1);
      for (const stored of grouped) events.put(`${journalPrefix}${String(stored.event.id).padStart(8, "0")}`, stored);
    }
    await store.committed();
    store.close();

    const second = open(directory);
    second.service.createStateMachine({ name: "chain", definition: JSON.stringify(chain), roleArn: ROLE_ARN });
    await second.service.restore();
    assert.equal(second.store.collection("states.events").entries().length, 8);
    assert.deepEqual((await second.service.call("GetExecutionHistory", { executionArn })).events, history);
    await stop(second);
  });
  it("keeps a lambda:invoke response once, in its TaskSucceeded event, and a replay takes it from there without invoking again", async () => {
    const definition = {
      StartAt: "Split",
      States: {
        Split: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: functionArn("splitter"), "Payload.$": "$" },
          ResultSelector: { "parts.$": "$.Payload.parts" },
          Next: "Wait",
        },
        Wait: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Parameters: { FunctionName: functionArn("receiver"), Payload: { "token.$": "$$.Task.Token", "parts.$": "$.parts" } },
          End: true,
        },
      },
    };
    const first = open(directory);
    let token: string | undefined;
    first.lambda.on("splitter", () => ({ parts: ["a", "b"] }));
    first.lambda.on("receiver", (event) => void (token = event.token));
    const machineArn = first.service.createStateMachine({ name: "split", definition: JSON.stringify(definition), roleArn: ROLE_ARN }).arn;
    const { executionArn } = await first.service.call("StartExecution", { stateMachineArn: machineArn, input: "{}" });
    while (!token || first.service.tokens.waitingCount === 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    await first.store.committed();
    const effects = first.store.collection<unknown>("states.effects").entries();
    assert.ok(
      effects.every(([, entry]) => !JSON.stringify(entry).includes("ExecutedVersion")),
      `no effect row holds the Invoke response: ${JSON.stringify(effects)}`,
    );
    await stop(first);

    const second = open(directory);
    second.lambda.on("splitter", () => assert.fail("the splitter had returned: it must not be invoked again"));
    second.service.createStateMachine({ name: "split", definition: JSON.stringify(definition), roleArn: ROLE_ARN });
    await second.service.restore();
    await second.service.call("SendTaskSuccess", { taskToken: token, output: '{"done":true}' });
    await second.service.execution(executionArn)!.done;
    const described = await second.service.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '{"done":true}');
    const { events } = await second.service.call("GetExecutionHistory", { executionArn });
    const received = events.find((event: { type: string; id: number }) => event.type === "TaskScheduled" && event.id > 5);
    assert.deepEqual(JSON.parse(received.taskScheduledEventDetails.parameters).Payload.parts, ["a", "b"]);
    assert.equal(second.lambda.calls.length, 0);
    await stop(second);
  });
});
