/**
 * The code that would be uploaded: each function's `__index.js`, taken from the code archive the program declares,
 * run in its own Node process the way the Lambda runtime would (SDK from NODE_PATH, endpoint from
 * AWS_ENDPOINT_URL), against a local HTTP stand-in for the Step Functions API that records every request.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { findAll, loadProgram, type RecordedResource } from "../mocks";
import { type InvocationOutcome, SerializedFunctions } from "../support/serializedFunction";

const TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAZTLz2uJd4nZ1rjRkCHW6JCIXg-token";
const ARCHIVE_LIMIT_BYTES = 10 * 1024;

interface RecordedRequest {
  method: string;
  url: string;
  target: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

type Answer = { status: number; body: Record<string, unknown> };

/** A stand-in for the Step Functions JSON 1.0 API: records requests, answers `{}` unless told otherwise. */
class StepFunctionsStandIn {
  readonly requests: RecordedRequest[] = [];
  answer: Answer = { status: 200, body: {} };
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      this.requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        target: req.headers["x-amz-target"] as string | undefined,
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0" };
      if (this.answer.status !== 200) headers["x-amzn-errortype"] = String(this.answer.body.__type);
      res.writeHead(this.answer.status, headers).end(JSON.stringify(this.answer.body));
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.answer = { status: 200, body: {} };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("deploy: the serialized handler code (__index.js) as Lambda would run it", function () {
  // Loading the stack serializes every function of the four workflows: slow on a shared machine.
  this.timeout(180_000);
  const standIn = new StepFunctionsStandIn();
  const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-callback-deploy-"));
  let endpoint: string;
  let functions: RecordedResource[];
  let serialized: SerializedFunctions;
  const archives = new Map<string, Record<string, any>>();

  before(async () => {
    endpoint = await standIn.listen();
    functions = findAll((await loadProgram({ config: { failureRate: "0.3" } })).resources, "aws:lambda/function:Function");
    for (const lambda of functions) archives.set(lambda.name, await lambda.inputs.code.assets);
    serialized = await SerializedFunctions.write(functions, workDirectory);
  });

  beforeEach(() => standIn.reset());

  after(async () => {
    await standIn.close();
    fs.rmSync(workDirectory, { recursive: true, force: true });
  });

  /** Runs one invocation in a fresh Node process with the function's declared environment (plus overrides). */
  async function invoke(functionName: string, event: unknown, environment: Record<string, string> = {}): Promise<InvocationOutcome> {
    const [outcome] = await serialized.run(functionName, [event], endpoint, environment);
    return outcome;
  }

  function onlyRequest(): RecordedRequest & { json: any } {
    assert.equal(standIn.requests.length, 1, `expected one request, got ${JSON.stringify(standIn.requests)}`);
    const [request] = standIn.requests;
    return { ...request, json: JSON.parse(request.body) };
  }

  describe("code archives", () => {
    it("holds only __index.js for every function of the stack (no node_modules: the runtime's AWS SDK is used)", async () => {
      for (const lambda of functions) {
        const assets = archives.get(lambda.name)!;
        assert.deepEqual(Object.keys(assets), ["__index.js"], lambda.name);
        console.log(`      ${lambda.name}: __index.js ${Buffer.byteLength(await assets["__index.js"].text, "utf8")} bytes`);
      }
    });

    it("keeps each of the demo's uploads at most 10 KB", async () => {
      for (const name of ["callback-split-doc", "callback-wait-for-completion-receiver"]) {
        const size = Buffer.byteLength(await archives.get(name)!["__index.js"].text, "utf8");
        assert.ok(size <= ARCHIVE_LIMIT_BYTES, `${name} is ${size} bytes`);
      }
    });

    it("requires every AWS SDK client by its package root, never a deep dist path, and bundles none", async () => {
      for (const lambda of functions) {
        const text = await archives.get(lambda.name)!["__index.js"].text;
        for (const [, name] of text.matchAll(/require\("([^"]+)"\)/g)) {
          if (name.startsWith("@aws-sdk/")) assert.match(name, /^@aws-sdk\/[a-z0-9-]+$/, `${lambda.name} requires ${name}`);
        }
        assert.doesNotMatch(text, /class SFNClient/);
      }
      const receiver = await archives.get("callback-wait-for-completion-receiver")!["__index.js"].text;
      assert.match(receiver, /require\("@aws-sdk\/client-sfn"\)/);
    });
  });

  describe("ProcessAndCheckCompletion", () => {
    it("success: sends exactly one signed SendTaskSuccess with the output for the next state", async () => {
      const run = await invoke("callback-wait-for-completion-receiver", {
        taskToken: TOKEN,
        input: { outcome: "success", chunks: ["a b", "c"] },
      });
      assert.deepEqual(run, {
        ok: true,
        result: { outcome: "success", decidedBy: "input", signal: { signal: "success", delivered: true } },
      });
      const request = onlyRequest();
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/");
      assert.equal(request.target, "AWSStepFunctions.SendTaskSuccess");
      assert.equal(request.contentType, "application/x-amz-json-1.0");
      assert.match(request.authorization ?? "", /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/us-east-1\/states\/aws4_request, /);
      assert.deepEqual(request.json, {
        taskToken: TOKEN,
        output: '{"status":"COMPLETED","decidedBy":"input","chunkCount":2,"wordCount":3}',
      });
    });

    it("failure: sends exactly one SendTaskFailure with error ProcessingFailed and a cause", async () => {
      const run = await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: { outcome: "failure" } });
      assert.deepEqual(run, {
        ok: true,
        result: { outcome: "failure", decidedBy: "input", signal: { signal: "failure", delivered: true } },
      });
      const request = onlyRequest();
      assert.equal(request.target, "AWSStepFunctions.SendTaskFailure");
      assert.deepEqual(request.json, {
        taskToken: TOKEN,
        error: "ProcessingFailed",
        cause: 'Processing failed because the execution input asked for it (outcome: "failure")',
      });
    });

    it("by chance with FAILURE_RATE 1: fails, naming the draw and the rate in the cause", async () => {
      await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: {} }, { FAILURE_RATE: "1" });
      const request = onlyRequest();
      assert.equal(request.target, "AWSStepFunctions.SendTaskFailure");
      assert.equal(request.json.error, "ProcessingFailed");
      assert.match(request.json.cause, /^Processing failed by chance: draw 0\.\d{4} < failureRate 1$/);
    });

    it("by chance with FAILURE_RATE 0: succeeds, recording the draw in the output", async () => {
      await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: {} }, { FAILURE_RATE: "0" });
      const request = onlyRequest();
      assert.equal(request.target, "AWSStepFunctions.SendTaskSuccess");
      const output = JSON.parse(request.json.output);
      assert.equal(output.decidedBy, "chance");
      assert.equal(output.chance.failureRate, 0);
      assert.ok(output.chance.draw >= 0 && output.chance.draw < 1);
    });

    it("crash: the handler rejects and nothing is sent", async () => {
      const run = await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: { outcome: "crash" } });
      assert.deepEqual(run, {
        ok: false,
        errorType: "RequestedCrash",
        errorMessage: 'The execution input asked this function to crash (outcome: "crash")',
      });
      assert.deepEqual(standIn.requests, []);
    });

    it("silence: the handler returns and nothing is sent", async () => {
      const run = await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: { outcome: "silence" } });
      assert.deepEqual(run, { ok: true, result: { outcome: "silence", decidedBy: "input", signal: null } });
      assert.deepEqual(standIn.requests, []);
    });

    it("a TaskTimedOut answer (task already closed) is reported as done, and the signal is not retried", async () => {
      standIn.answer = {
        status: 400,
        body: { __type: "com.amazonaws.swf.service.v2.model#TaskTimedOut", message: "Provided task does not exist anymore" },
      };
      const run = await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: { outcome: "success" } });
      assert.deepEqual(run, {
        ok: true,
        result: {
          outcome: "success",
          decidedBy: "input",
          signal: { signal: "success", delivered: false, reason: "TaskTimedOut", message: "Provided task does not exist anymore" },
        },
      });
      assert.equal(standIn.requests.length, 1);
    });

    it("an unknown outcome: the handler rejects with InvalidOutcome and nothing is sent", async () => {
      const run = await invoke("callback-wait-for-completion-receiver", { taskToken: TOKEN, input: { outcome: "later" } });
      assert.equal(run.ok, false);
      assert.equal((run as { errorType: string }).errorType, "InvalidOutcome");
      assert.deepEqual(standIn.requests, []);
    });
  });

  describe("SplitDoc", () => {
    it("returns the chunks and the rest of the input, calling no AWS API", async () => {
      const run = await invoke("callback-split-doc", { document: "one two three", chunkWords: 2, outcome: "success" });
      assert.deepEqual(run, { ok: true, result: { outcome: "success", chunks: ["one two", "three"] } });
      assert.deepEqual(standIn.requests, []);
    });
  });

  describe("the SQS workflow's worker", () => {
    it("answers each message's token (success for {}, ProcessingFailed on request) and reports no batch failure", async () => {
      const records = [
        { messageId: "m1", body: JSON.stringify({ taskToken: TOKEN, input: {} }) },
        { messageId: "m2", body: JSON.stringify({ taskToken: `${TOKEN}2`, input: { outcome: "failure" } }) },
      ];
      const run = await invoke("sqs-dispatch-work-worker", { Records: records });
      assert.deepEqual(run, { ok: true, result: { batchItemFailures: [] } });
      const byTarget = Object.fromEntries(standIn.requests.map((request) => [request.target, JSON.parse(request.body)]));
      assert.deepEqual(byTarget["AWSStepFunctions.SendTaskSuccess"], { taskToken: TOKEN, output: '{"status":"DONE","messageId":"m1"}' });
      assert.deepEqual(byTarget["AWSStepFunctions.SendTaskFailure"], {
        taskToken: `${TOKEN}2`,
        error: "ProcessingFailed",
        cause: 'The execution input asked for failure (outcome: "failure")',
      });
    });
  });

  describe("the approval links' function", () => {
    it("approve: one signed SendTaskSuccess for the link's token, and an HTML page", async () => {
      const token = Buffer.from(TOKEN).toString("base64url");
      const run = await invoke("approval-request-approval-answer", {
        rawPath: "/approval-request-approval/approve",
        queryStringParameters: { token },
      });
      assert.equal(run.ok && run.result.statusCode, 200);
      const request = onlyRequest();
      assert.equal(request.target, "AWSStepFunctions.SendTaskSuccess");
      assert.equal(request.json.taskToken, TOKEN);
      assert.equal(JSON.parse(request.json.output).approved, true);
    });

    it("a second click: Step Functions answers TaskTimedOut, the page says 409 already decided", async () => {
      standIn.answer = { status: 400, body: { __type: "TaskTimedOut", message: "Provided task does not exist anymore" } };
      const token = Buffer.from(TOKEN).toString("base64url");
      const run = await invoke("approval-request-approval-answer", {
        rawPath: "/approval-request-approval/reject",
        queryStringParameters: { token },
      });
      assert.equal(run.ok && run.result.statusCode, 409);
      assert.equal(onlyRequest().json.error, "Rejected");
    });
  });
});
