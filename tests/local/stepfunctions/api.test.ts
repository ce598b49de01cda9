import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { createHarness, ROLE_ARN, waitUntil, type Harness } from "./support/harness";
import { serve } from "./support/httpServer";

const WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken";
const GOLDEN = join(__dirname, "golden", "callback-history.json");

const CALLBACK_DEFINITION = {
  Comment: "The callback pattern, as the demo program deploys it",
  StartAt: "WaitForCompletion",
  States: {
    WaitForCompletion: {
      Type: "Task",
      Resource: WAIT,
      Parameters: { FunctionName: "worker", Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } },
      HeartbeatSeconds: 60,
      TimeoutSeconds: 600,
      Next: "ContinueProcess",
    },
    ContinueProcess: { Type: "Pass", End: true },
  },
};

async function expectSdkError(promise: Promise<unknown>, code: string, message?: string | RegExp) {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.name, code, `${error.name}: ${error.message}`);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    if (typeof message === "string") assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

describe("Step Functions API over HTTP (AWS SDK v3)", () => {
  let h: Harness;
  let http: Awaited<ReturnType<typeof serve>>;
  let sfn: SFNClient;
  let machineArn: string;
  let tokens: string[];

  before(async () => {
    h = createHarness();
    tokens = [];
    h.lambda.on("worker", (event) => {
      tokens.push(event.taskToken);
      return { accepted: true };
    });
    http = await serve(h.service);
    sfn = new SFNClient({
      region: "us-east-1",
      endpoint: http.origin,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    machineArn = h.machine(CALLBACK_DEFINITION, "callback");
  });

  after(async () => {
    sfn.destroy();
    await http.close();
    await h.service.close();
  });

  async function startAndGetToken(input: unknown = {}, name?: string): Promise<{ executionArn: string; token: string }> {
    const before = tokens.length;
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input), name }));
    await waitUntil(() => tokens.length > before);
    return { executionArn: executionArn!, token: tokens[tokens.length - 1] };
  }

  it("records a callback task's history as AWS does (golden file, tokens/ids/times normalised)", async () => {
    const { executionArn, token } = await startAndGetToken({ document: "doc-1" }, "golden-run");
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: "done", chunks: 3 }) }));
    await h.service.execution(executionArn)!.done;
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    for (const event of events!) assert.ok(event.timestamp instanceof Date && !Number.isNaN(event.timestamp.getTime()));
    const normalised = JSON.parse(
      JSON.stringify(events!.map(({ timestamp: _timestamp, ...rest }) => rest))
        .replaceAll(token, "<taskToken>")
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<requestId>")
        .replace(/[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/g, "<date>"),
    );
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, JSON.stringify(normalised, null, 2) + "\n");
    assert.deepEqual(normalised, JSON.parse(readFileSync(GOLDEN, "utf8")));
  });

  it("describes a finished execution with its output and dates as Date objects", async () => {
    const { executionArn, token } = await startAndGetToken({ n: 1 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"ok":true}' }));
    await h.service.execution(executionArn)!.done;
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.output, '{"ok":true}');
    assert.equal(described.input, '{"n":1}');
    assert.equal(described.stateMachineArn, machineArn);
    assert.ok(described.startDate instanceof Date && described.stopDate instanceof Date);
    assert.ok(described.stopDate!.getTime() >= described.startDate!.getTime());
  });

  it("a repeated SendTaskSuccess answers TaskTimedOut", async () => {
    const { token } = await startAndGetToken();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));
    await expectSdkError(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" })),
      "TaskTimedOut",
      "Provided task does not exist anymore",
    );
    await expectSdkError(sfn.send(new SendTaskFailureCommand({ taskToken: token, error: "Late" })), "TaskTimedOut");
    await expectSdkError(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })), "TaskTimedOut");
  });

  it("unknown and malformed tokens answer InvalidToken", async () => {
    for (const taskToken of ["unknown-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "🙂 not base64 at all"]) {
      await expectSdkError(
        sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{}" })),
        "InvalidToken",
        "Invalid Token: 'Invalid token'",
      );
    }
  });

  it("token length outside 1..2048 is a ValidationException with AWS's message", async () => {
    await expectSdkError(
      sfn.send(new SendTaskSuccessCommand({ taskToken: "x".repeat(2049), output: "{}" })),
      "ValidationException",
      "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to 2048",
    );
    await expectSdkError(
      sfn.send(new SendTaskHeartbeatCommand({ taskToken: "" })),
      "ValidationException",
      "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it("SendTaskFailure limits error to 256 and cause to 32,768 characters", async () => {
    const { token } = await startAndGetToken();
    await expectSdkError(
      sfn.send(new SendTaskFailureCommand({ taskToken: token, error: "e".repeat(257), cause: "c".repeat(32_769) })),
      "ValidationException",
      "2 validation errors detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256; " +
        "Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768",
    );
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: "e".repeat(256), cause: "c".repeat(32_768) }));
  });

  it("output that is not JSON, or over 262,144 bytes, answers InvalidOutput and leaves the task waiting", async () => {
    const { executionArn, token } = await startAndGetToken();
    await expectSdkError(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "not json" })),
      "InvalidOutput",
      /^Invalid Output: /,
    );
    const oversized = JSON.stringify("é".repeat(131_072));
    await expectSdkError(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: oversized })),
      "InvalidOutput",
      /exceeds the maximum of 262144 bytes/,
    );
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status, "RUNNING");
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify("x".repeat(262_000)) }));
    await h.service.execution(executionArn)!.done;
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status, "SUCCEEDED");
  });

  it("StartExecution with the same name and input while running returns the same execution; otherwise ExecutionAlreadyExists", async () => {
    const first = await startAndGetToken({ a: 1 }, "same-name");
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "same-name", input: '{"a":1}' }));
    assert.equal(again.executionArn, first.executionArn);
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "same-name", input: '{"a":2}' })),
      "ExecutionAlreadyExists",
      `Execution Already Exists: '${first.executionArn}'`,
    );
    await sfn.send(new SendTaskSuccessCommand({ taskToken: first.token, output: "{}" }));
    await h.service.execution(first.executionArn)!.done;
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "same-name", input: '{"a":1}' })),
      "ExecutionAlreadyExists",
    );
  });

  it("rejects bad execution names and inputs with AWS's codes", async () => {
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "n".repeat(81) })),
      "ValidationException",
      /Member must have length less than or equal to 80/,
    );
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "has space" })),
      "InvalidName",
      "Invalid Name: 'has space'",
    );
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: "{oops" })),
      "InvalidExecutionInput",
      /^Invalid State Machine Execution Input: /,
    );
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify("x".repeat(262_144)) })),
      "InvalidExecutionInput",
      /exceeds the maximum of 262144 bytes/,
    );
  });

  it("answers InvalidArn, StateMachineDoesNotExist and ExecutionDoesNotExist", async () => {
    await expectSdkError(
      sfn.send(new DescribeExecutionCommand({ executionArn: "not-an-arn" })),
      "InvalidArn",
      "Invalid Arn: 'Invalid ARN prefix: not-an-arn'",
    );
    await expectSdkError(
      sfn.send(new DescribeExecutionCommand({ executionArn: machineArn })),
      "InvalidArn",
      "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
    );
    const missingMachine = machineArn.replace(":callback", ":missing");
    await expectSdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: missingMachine })),
      "StateMachineDoesNotExist",
      `State Machine Does Not Exist: '${missingMachine}'`,
    );
    const missingExecution = machineArn.replace(":stateMachine:", ":execution:") + ":nope";
    await expectSdkError(
      sfn.send(new DescribeExecutionCommand({ executionArn: missingExecution })),
      "ExecutionDoesNotExist",
      `Execution Does Not Exist: '${missingExecution}'`,
    );
    await expectSdkError(sfn.send(new StopExecutionCommand({ executionArn: missingExecution })), "ExecutionDoesNotExist");
  });

  it("pages ListExecutions newest first with statusFilter, maxResults and nextToken", async () => {
    const pagingMachine = h.machine({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 30, End: true } } }, "paging");
    const started: string[] = [];
    for (let index = 0; index < 5; index++) {
      started.push((await sfn.send(new StartExecutionCommand({ stateMachineArn: pagingMachine, name: `run-${index}` }))).executionArn!);
    }
    await sfn.send(new StopExecutionCommand({ executionArn: started[1] }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingMachine, maxResults: 2, nextToken }));
      seen.push(...page.executions!.map((execution) => execution.name!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.deepEqual(seen, ["run-4", "run-3", "run-2", "run-1", "run-0"]);
    assert.equal(pages, 3);
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingMachine, statusFilter: "RUNNING" }));
    assert.deepEqual(
      running.executions!.map((execution) => execution.name),
      ["run-4", "run-3", "run-2", "run-0"],
    );
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingMachine, statusFilter: "ABORTED" }));
    assert.deepEqual(
      aborted.executions!.map((execution) => [execution.name, execution.status]),
      [["run-1", "ABORTED"]],
    );
    await expectSdkError(sfn.send(new ListExecutionsCommand({ stateMachineArn: pagingMachine, nextToken: "garbage" })), "InvalidToken");
    for (const executionArn of started) await sfn.send(new StopExecutionCommand({ executionArn }));
  });

  it("pages GetExecutionHistory forwards and in reverse, with or without execution data", async () => {
    const { executionArn, token } = await startAndGetToken({ secret: 1 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }));
    await h.service.execution(executionArn)!.done;
    const collect = async (reverseOrder: boolean) => {
      const ids: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder, nextToken }));
        ids.push(...page.events!.map((event) => event.id!));
        nextToken = page.nextToken;
      } while (nextToken);
      return ids;
    };
    const forwards = await collect(false);
    assert.deepEqual(forwards, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(await collect(true), [...forwards].reverse());
    const withoutData = await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }));
    const started = withoutData.events![0].executionStartedEventDetails!;
    assert.equal(started.input, undefined);
    assert.equal(started.roleArn, ROLE_ARN);
  });

  it("lists and describes state machines, and the machine of an execution", async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    assert.ok(stateMachines!.some((machine) => machine.stateMachineArn === machineArn && machine.type === "STANDARD"));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
    assert.equal(described.definition, JSON.stringify(CALLBACK_DEFINITION));
    assert.equal(described.roleArn, ROLE_ARN);
    assert.equal(described.status, "ACTIVE");
    const { executionArn } = await startAndGetToken();
    const forExecution = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
    assert.equal(forExecution.stateMachineArn, machineArn);
    assert.equal(forExecution.definition, described.definition);
  });

  it("CreateStateMachine validates the definition up front, naming every problem", async () => {
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: "adhoc",
        roleArn: ROLE_ARN,
        definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
      }),
    );
    assert.equal(created.stateMachineArn, "arn:aws:states:us-east-1:123456789012:stateMachine:adhoc");
    const run = await sfn.send(new StartExecutionCommand({ stateMachineArn: created.stateMachineArn, input: '{"x":1}' }));
    await h.service.execution(run.executionArn!)!.done;
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }))).output, '{"x":1}');
    await expectSdkError(
      sfn.send(new CreateStateMachineCommand({ name: "broken", roleArn: ROLE_ARN, definition: "{" })),
      "InvalidDefinition",
      /^Invalid State Machine Definition: /,
    );
    await expectSdkError(
      sfn.send(
        new CreateStateMachineCommand({
          name: "ecs",
          roleArn: ROLE_ARN,
          definition: JSON.stringify({
            StartAt: "T",
            States: { T: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", End: true } },
          }),
        }),
      ),
      "InvalidDefinition",
      /ecs:runTask\.sync/,
    );
    await expectSdkError(
      sfn.send(
        new CreateStateMachineCommand({
          name: "express",
          roleArn: ROLE_ARN,
          type: "EXPRESS",
          definition: JSON.stringify(CALLBACK_DEFINITION),
        }),
      ),
      "InvalidDefinition",
      /EXPRESS/,
    );
    await expectSdkError(
      sfn.send(new CreateStateMachineCommand({ name: "role", roleArn: "not-a-role", definition: JSON.stringify(CALLBACK_DEFINITION) })),
      "InvalidArn",
    );
  });

  it("speaks the raw JSON 1.0 wire: error body __type, message and x-amzn-errortype header", async () => {
    const post = (target: string | undefined, body: string) =>
      fetch(`${http.origin}/`, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.0", ...(target ? { "X-Amz-Target": target } : {}) },
        body,
      });
    const unknown = await post("AWSStepFunctions.DeleteEverything", "{}");
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get("x-amzn-errortype"), "UnknownOperationException");
    assert.equal(unknown.headers.get("content-type"), "application/x-amz-json-1.0");
    assert.equal(((await unknown.json()) as any).__type, "UnknownOperationException");
    const notJson = await post("AWSStepFunctions.SendTaskSuccess", "{not json");
    assert.equal(notJson.status, 400);
    assert.deepEqual(await notJson.json(), { __type: "SerializationException", message: "The request body is not valid JSON" });
    const wrongType = await post("AWSStepFunctions.SendTaskHeartbeat", '{"taskToken": 5}');
    assert.equal(((await wrongType.json()) as any).__type, "SerializationException");
    const missing = await post("AWSStepFunctions.SendTaskSuccess", "{}");
    assert.deepEqual(await missing.json(), {
      __type: "ValidationException",
      message:
        "2 validation errors detected: Value null at 'taskToken' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'output' failed to satisfy constraint: Member must not be null",
    });
    const ok = await post("AWSStepFunctions.ListStateMachines", "{}");
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(((await ok.json()) as any).stateMachines));
  });

  it("a flood of bad requests does not disturb a waiting execution", async () => {
    const { executionArn, token } = await startAndGetToken();
    const bad = [
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{" })),
      sfn.send(new SendTaskSuccessCommand({ taskToken: token + "x", output: "{}" })),
      sfn.send(new StopExecutionCommand({ executionArn: "arn:aws:states:us-east-1:123456789012:execution:callback" })),
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: "[" })),
      fetch(`${http.origin}/`, { method: "POST", headers: { "X-Amz-Target": "AWSStepFunctions.StartExecution" }, body: "\u0000" }),
    ];
    const outcomes = await Promise.allSettled(bad);
    assert.equal(outcomes.filter((outcome) => outcome.status === "rejected").length, 4);
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status, "RUNNING");
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"fine"' }));
    await h.service.execution(executionArn)!.done;
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).output, '"fine"');
  });
});
