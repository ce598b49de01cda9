/**
 * Watch mode and the evaluation cache, on a temporary copy of the project (its program files, with
 * node_modules linked): edits reload the running runtime in place; a broken edit leaves the old program
 * serving; an unchanged program starts from the cache without Pulumi.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalRuntime, type LocalRuntime } from "../../../local/host/runtime";

const REPOSITORY = path.resolve(__dirname, "../../..");
const PROGRAM_FILES = ["index.ts", "components", "handlers", "workflow", "Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"];

/** A greeting function and a state machine that waits for a token, then stamps its definition's version and greets. */
const GREETING_HANDLER = (greeting: string) => `export const GREETING = "${greeting}";
export function greetingFactory() {
  return async () => ({ greeting: GREETING });
}
`;

const WATCH_RESOURCES = (version: string) => `
// ---- watch test resources ----
import * as aws from "@pulumi/aws";
import { greetingFactory } from "./handlers/watchGreeting";
const trustedBy = (service: string) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
const greeterRole = new aws.iam.Role("watch-greeter-role", { assumeRolePolicy: trustedBy("lambda.amazonaws.com") });
const watchRole = new aws.iam.Role("watch-role", { assumeRolePolicy: trustedBy("states.amazonaws.com") });
const greeter = new aws.lambda.CallbackFunction("watch-greeter", {
  role: greeterRole,
  runtime: "nodejs20.x",
  timeout: 10,
  callbackFactory: greetingFactory,
  codePathOptions: { extraExcludePackages: ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx"] },
});
const watchMachine = new aws.sfn.StateMachine("watch-machine", {
  roleArn: watchRole.arn,
  definition: greeter.arn.apply((functionArn) =>
    JSON.stringify({
      StartAt: "Approve",
      States: {
        Approve: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Parameters: { FunctionName: functionArn, Payload: { "token.$": "$$.Task.Token" } },
          ResultPath: "$.approval",
          Next: "Stamp",
        },
        Stamp: { Type: "Pass", Result: "${version}", ResultPath: "$.version", Next: "Greet" },
        Greet: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: functionArn, Payload: {} },
          ResultSelector: { "greeting.$": "$.Payload.greeting" },
          ResultPath: "$.greet",
          End: true,
        },
      },
    }),
  ),
});
new aws.iam.RolePolicy("watch-invoke", {
  role: watchRole.name,
  policy: greeter.arn.apply((functionArn) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: functionArn }] }),
  ),
});
export const watchMachineArn = watchMachine.arn;
`;

function copyProject(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "watch-project-"));
  for (const file of PROGRAM_FILES) fs.cpSync(path.join(REPOSITORY, file), path.join(directory, file), { recursive: true });
  fs.symlinkSync(path.join(REPOSITORY, "node_modules"), path.join(directory, "node_modules"), "dir");
  fs.writeFileSync(path.join(directory, "handlers", "watchGreeting.ts"), GREETING_HANDLER("hello"));
  fs.appendFileSync(path.join(directory, "index.ts"), WATCH_RESOURCES("v1"));
  return directory;
}

function edit(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, "utf8");
  assert.ok(text.includes(from), `${file} contains ${from}`);
  fs.writeFileSync(file, text.replace(from, to));
}

describe("watch mode: an edit reloads the program in place", function () {
  this.timeout(600_000);
  let project: string;
  let runtime: LocalRuntime;
  const lines: string[] = [];
  let lineWaiters: Array<() => void> = [];

  const log = (source: string, line: string) => {
    lines.push(`[${source}] ${line}`);
    for (const wake of lineWaiters) wake();
  };

  /** Resolves with the first log line from index `from` on that matches. */
  async function logLine(pattern: RegExp, from: number): Promise<string> {
    for (;;) {
      const found = lines.slice(from).find((line) => pattern.test(line));
      if (found) return found;
      await new Promise<void>((resolve) => lineWaiters.push(resolve));
      lineWaiters = [];
    }
  }

  async function start(input: object = {}): Promise<string> {
    const machineArn = String(runtime.program.outputs.watchMachineArn);
    return (await runtime.stepFunctions.call("StartExecution", { stateMachineArn: machineArn, input: JSON.stringify(input) })).executionArn;
  }

  /** The token of the execution's waiting task, from its TaskScheduled event (where AWS shows it). */
  async function tokenOf(executionArn: string): Promise<string> {
    for (;;) {
      const { events } = await runtime.stepFunctions.call("GetExecutionHistory", { executionArn });
      const scheduled = events.find((event: any) => event.type === "TaskScheduled");
      if (scheduled) return JSON.parse(scheduled.taskScheduledEventDetails.parameters).Payload.token;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function approveAndFinish(executionArn: string): Promise<any> {
    await runtime.stepFunctions.call("SendTaskSuccess", { taskToken: await tokenOf(executionArn), output: "{}" });
    await runtime.stepFunctions.execution(executionArn)!.done;
    const described = await runtime.stepFunctions.call("DescribeExecution", { executionArn });
    assert.equal(described.status, "SUCCEEDED", JSON.stringify(described));
    return JSON.parse(described.output);
  }

  before(async () => {
    project = copyProject();
    runtime = await startLocalRuntime({ projectDirectory: project, port: 0, log, watch: true, nodePolicy: "machine" });
  });

  after(async () => {
    await runtime?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it("runs new executions on the edited code and definition, while an execution started before keeps its definition", async () => {
    assert.equal(runtime.programFrom, "evaluated");
    const before = await start();
    await tokenOf(before);

    const mark = lines.length;
    edit(path.join(project, "handlers", "watchGreeting.ts"), `"hello"`, `"bonjour"`);
    edit(path.join(project, "index.ts"), `Result: "v1"`, `Result: "v2"`);
    const reloaded = await logLine(/^\[reload\] (reloaded in|the program failed|reload applied)/, mark);
    assert.match(reloaded, /^\[reload\] reloaded in \d+ ms: /);
    assert.match(reloaded, /function watch-greeter-[0-9a-f]{7} code changed/);
    assert.match(reloaded, /state machine watch-machine-[0-9a-f]{7} definition changed/);

    const after = await start();
    // The old execution resumes on its own definition (v1); its next Lambda call reaches $LATEST, as on AWS.
    assert.deepEqual(await approveAndFinish(before), { approval: {}, version: "v1", greet: { greeting: "bonjour" } });
    assert.deepEqual(await approveAndFinish(after), { approval: {}, version: "v2", greet: { greeting: "bonjour" } });
  });

  it("keeps the previous program serving when an edit breaks it, and names the broken file", async () => {
    const mark = lines.length;
    fs.writeFileSync(path.join(project, "handlers", "watchGreeting.ts"), `export const GREETING = "unterminated;\n`);
    const failed = await logLine(/^\[reload\] (reloaded in|the program failed|reload applied)/, mark);
    assert.match(failed, /^\[reload\] the program failed to evaluate; the previous one keeps serving\. .*handlers\/watchGreeting\.ts/);
    assert.deepEqual(await approveAndFinish(await start()), { approval: {}, version: "v2", greet: { greeting: "bonjour" } });
  });

  it("adds a resource the edited program declares, once the program evaluates again", async () => {
    const mark = lines.length;
    fs.writeFileSync(path.join(project, "handlers", "watchGreeting.ts"), GREETING_HANDLER("hallo"));
    fs.appendFileSync(
      path.join(project, "index.ts"),
      `\nexport const extraMachineArn = new aws.sfn.StateMachine("watch-extra", { roleArn: watchRole.arn, definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } }) }).arn;\n`,
    );
    const reloaded = await logLine(/^\[reload\] (reloaded in|the program failed|reload applied)/, mark);
    assert.match(reloaded, /state machine watch-extra-[0-9a-f]{7} added/);
    const { stateMachines } = await runtime.stepFunctions.call("ListStateMachines", {});
    assert.ok(
      stateMachines.some((machine: any) => machine.stateMachineArn === runtime.program.outputs.extraMachineArn),
      "the new state machine is served",
    );
    assert.deepEqual(await approveAndFinish(await start()), { approval: {}, version: "v2", greet: { greeting: "hallo" } });
  });

  it("applies an edited role policy to the next call: a revoked permission is denied, a restored one allowed", async () => {
    const reloadedWith = async (from: string, to: string): Promise<void> => {
      const mark = lines.length;
      edit(path.join(project, "index.ts"), from, to);
      assert.match(await logLine(/^\[reload\] (reloaded in|the program failed|reload applied)/, mark), /^\[reload\] reloaded in \d+ ms: /);
    };
    await reloadedWith(`Action: "lambda:InvokeFunction"`, `Action: "lambda:GetFunction"`);
    const denied = await start();
    await runtime.stepFunctions.execution(denied)!.done;
    assert.equal((await runtime.stepFunctions.call("DescribeExecution", { executionArn: denied })).status, "FAILED");
    assert.deepEqual(
      runtime.iam.deniedCalls(denied).map((call) => [call.action, call.principal.split("/")[1]]),
      [["lambda:InvokeFunction", runtime.program.resources.find((resource) => resource.name === "watch-role")!.state.name]],
    );

    await reloadedWith(`Action: "lambda:GetFunction"`, `Action: "lambda:InvokeFunction"`);
    assert.deepEqual(await approveAndFinish(await start()), { approval: {}, version: "v2", greet: { greeting: "hallo" } });
  });

  it("starts from the cache when nothing changed, and evaluates again after an edit", async () => {
    await runtime.close();
    const quiet = () => undefined;
    const second = await startLocalRuntime({ projectDirectory: project, port: 0, log: quiet, nodePolicy: "machine" });
    try {
      assert.equal(second.programFrom, "cache");
      assert.equal(
        JSON.stringify(second.program.resources.map((resource) => resource.urn)),
        JSON.stringify(runtime.program.resources.map((r) => r.urn)),
      );
      assert.match(String(second.program.outputs.startUrl), new RegExp(`^${second.origin}/`), "outputs name this start's origin");
    } finally {
      await second.close();
    }
    edit(path.join(project, "handlers", "watchGreeting.ts"), `"hallo"`, `"hej"`);
    const third = await startLocalRuntime({ projectDirectory: project, port: 0, log: quiet, nodePolicy: "machine" });
    try {
      assert.equal(third.programFrom, "evaluated");
    } finally {
      await third.close();
    }
  });
});
