/**
 * Real crashes: the runtime (`npm start`'s command, in its own process) is killed with SIGKILL, then started
 * again on the same state folder, and driven only over HTTP and the AWS SDK.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { wc } from "../../pipeline/fixtures";
import { start, startRuntime, temporaryStateDirectory, waitForEnd, waitingTaskToken, type RuntimeProcess } from "./runtimeProcess";

/** The SDK v3 S3 client as a user points it at the runtime (path-style: the endpoint is an IP address). */
function s3Client(runtime: RuntimeProcess): S3Client {
  return new S3Client({
    endpoint: runtime.origin,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDE2E", secretAccessKey: "e2e" },
  });
}

const CALLBACK_CONFIG = ["-c", "failureRate=0", "-c", "timeoutSeconds=600", "-c", "heartbeatSeconds=0"];

describe("local runtime: state survives kill -9 and restarts", function () {
  this.timeout(900_000);
  const stateDirectories: string[] = [];
  const running: RuntimeProcess[] = [];

  function stateDirectory(): string {
    const directory = temporaryStateDirectory();
    stateDirectories.push(directory);
    return directory;
  }

  async function run(directory: string, extra: string[] = []): Promise<RuntimeProcess> {
    const runtime = await startRuntime([...CALLBACK_CONFIG, "--state-dir", directory, ...extra], { LOCAL_LAMBDA_NODE: "machine" });
    running.push(runtime);
    return runtime;
  }

  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.crash();
  });

  after(() => {
    for (const directory of stateDirectories) fs.rmSync(directory, { recursive: true, force: true });
  });

  it("keeps executions waiting on tokens RUNNING across kill -9; their old tokens still complete them", async () => {
    const directory = stateDirectory();
    const first = await run(directory);
    const executions: string[] = [];
    const tokens: string[] = [];
    for (let index = 0; index < 3; index++) {
      const { status, body } = await start(first, { outcome: "silence", index });
      assert.equal(status, 200);
      executions.push(body.executionArn);
      tokens.push(await waitingTaskToken(first, body.executionArn));
    }
    await first.crash();

    const second = await run(directory);
    assert.match(second.output(), /State: .*; restored 3 running executions, 3 waiting tokens/);
    for (const executionArn of executions) {
      const described = await second.sfn.send(new DescribeExecutionCommand({ executionArn }));
      assert.equal(described.status, "RUNNING");
    }
    for (const [index, taskToken] of tokens.entries()) {
      await second.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ resumed: index }) }));
      const described = await waitForEnd(second, executions[index]);
      assert.equal(described.status, "SUCCEEDED", `${described.error}: ${described.cause}`);
    }
  });

  it("finishes an execution whose SendTaskSuccess was answered 200 right before kill -9, with that callback's output", async () => {
    const directory = stateDirectory();
    const first = await run(directory);
    const { body } = await start(first, { outcome: "silence" });
    const taskToken = await waitingTaskToken(first, body.executionArn);
    await first.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ acknowledged: "before the crash" }) }));
    await first.crash();

    const second = await run(directory);
    const described = await waitForEnd(second, body.executionArn);
    assert.equal(described.status, "SUCCEEDED", `${described.error}: ${described.cause}`);
    assert.match(described.output!, /before the crash/);
    // The token was used: a second callback is refused as on AWS, not accepted twice.
    await assert.rejects(second.sfn.send(new SendTaskSuccessCommand({ taskToken, output: "{}" })), { name: "TaskTimedOut" });
  });

  it("finishes a document pipeline job cut by kill -9, counting every chunk exactly once and resuming once", async () => {
    const directory = stateDirectory();
    const chunkConfig = ["-c", "pipelineChunkSizeBytes=256"];
    const first = await run(directory, chunkConfig);
    const chunks = 60;
    // Lines of exactly 32 bytes: 8 make one 256-byte chunk.
    const text = Array.from({ length: chunks * 8 }, (_, index) =>
      `line ${String(index).padStart(7, "0")} of the document.\n`.padStart(32, "-"),
    ).join("");
    let invocations = 0;
    const midway = new Promise<void>((resolve) =>
      first.onLine((line) => {
        if (/\] START RequestId/.test(line) && ++invocations === 20) resolve();
      }),
    );
    const response = await fetch(first.outputs.pipelineStartUrl, { method: "POST", body: JSON.stringify({ document: text }) });
    const { executionArn } = (await response.json()) as { executionArn: string };
    assert.equal(response.status, 200);
    await midway;
    await first.crash();
    assert.doesNotMatch(first.output(), /ExecutionSucceeded/, "the job was still running when the runtime was killed");

    const second = await run(directory, chunkConfig);
    const described = await waitForEnd(second, executionArn, 120_000);
    assert.equal(described.status, "SUCCEEDED", `${described.error}: ${described.cause}`);
    const output = JSON.parse(described.output!);
    assert.equal(output.chunkCount, chunks);
    assert.deepEqual(output.totals, wc(text));
    const resumes = (first.output() + second.output()).split("\n").filter((line) => line.includes(`job ${output.jobId}: resumed`));
    assert.equal(resumes.length, 1, `the job resumed exactly once:\n${resumes.join("\n")}`);
  });

  it("carries on a multipart upload cut by kill -9: the part acknowledged before is kept, the last part and the completion succeed", async () => {
    const directory = stateDirectory();
    const first = await run(directory);
    const bucket = first.outputs.pipelineBucket;
    const key = "uploads/cut-by-a-crash.bin";
    const partOne = randomBytes(5 * 1024 * 1024);
    const partTwo = randomBytes(100 * 1024);
    const before = s3Client(first);
    const { UploadId } = await before.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const one = await before.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: partOne }));
    before.destroy();
    await first.crash();

    const second = await run(directory);
    const after = s3Client(second);
    try {
      const two = await after.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: partTwo }));
      await after.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: one.ETag },
              { PartNumber: 2, ETag: two.ETag },
            ],
          },
        }),
      );
      const object = await after.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.ok(Buffer.from(await object.Body!.transformToByteArray()).equals(Buffer.concat([partOne, partTwo])));
    } finally {
      after.destroy();
    }
  });

  it("refuses a second runtime on the same state folder with a clear message, and --reset starts clean", async () => {
    const directory = stateDirectory();
    const first = await run(directory);
    const { body } = await start(first, { outcome: "silence" });
    await waitingTaskToken(first, body.executionArn);
    await assert.rejects(run(directory), /The state folder .* is in use by another local runtime \(pid \d+/);
    await first.stop();

    const reset = await run(directory, ["--reset"]);
    assert.match(reset.output(), /State: .*; started empty \(--reset\)/);
    await assert.rejects(reset.sfn.send(new DescribeExecutionCommand({ executionArn: body.executionArn })), {
      name: "ExecutionDoesNotExist",
    });
  });

  it("says in the banner that state is in memory only with --state memory", async () => {
    const runtime = await startRuntime([...CALLBACK_CONFIG, "--state", "memory"]);
    running.push(runtime);
    assert.match(runtime.output(), /State: in memory only \(--state memory\)/);
  });
});
