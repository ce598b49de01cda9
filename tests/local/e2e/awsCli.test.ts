/**
 * The AWS CLI against the local origin, as the docs tell users to run it. Uses Debian's `/usr/bin/aws`
 * (.ci/run installs the `awscli` package), not whatever `aws` comes first on PATH (here an older v1).
 * Debian 12's CLI (2.9) predates AWS_ENDPOINT_URL support (2.13), so `--endpoint-url` is passed.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { start, startRuntime, waitForEnd, waitingTaskToken, type RuntimeProcess } from "./runtimeProcess";
import { cliDataPathWithNewerOperations } from "./cliModels";

const AWS_CLI = "/usr/bin/aws";
/** The CLI's own models plus TestState and RedriveExecution (cliModels.ts). */
let dataPath: string | undefined;

function aws(
  runtime: RuntimeProcess,
  args: string[],
  credentials = { accessKeyId: "AKIDCLI", secretAccessKey: "cli" },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      ["--endpoint-url", runtime.origin, "--region", "us-east-1", "--output", "json", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: os.tmpdir(),
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_PAGER: "",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          ...(dataPath ? { AWS_DATA_PATH: dataPath } : {}),
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("local runtime end to end: the AWS CLI (/usr/bin/aws)", function () {
  this.timeout(60_000);
  let runtime: RuntimeProcess;

  before(async function () {
    this.timeout(180_000);
    assert.ok(fs.existsSync(AWS_CLI), `${AWS_CLI} is missing: install Debian's awscli package (apt-get install awscli), as .ci/run does`);
    runtime = await startRuntime(["-c", "failureRate=0"]);
    dataPath = cliDataPathWithNewerOperations();
  });
  after(async () => {
    if (runtime) await runtime.stop();
    if (dataPath) fs.rmSync(dataPath, { recursive: true, force: true });
  });

  it("`aws lambda invoke` runs a declared function and writes its response", async () => {
    const functionName = JSON.parse(runtime.outputs.functionNames).split;
    const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cli-")), "out.json");
    const { code, stdout, stderr } = await aws(runtime, [
      "lambda",
      "invoke",
      "--function-name",
      functionName,
      "--cli-binary-format",
      "raw-in-base64-out",
      "--payload",
      JSON.stringify({ document: "one two three" }),
      outFile,
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { StatusCode: 200, ExecutedVersion: "$LATEST" });
    assert.deepEqual(JSON.parse(fs.readFileSync(outFile, "utf8")), { chunks: ["one two three"] });
  });

  it("`aws stepfunctions send-task-success --task-output` resumes a waiting execution", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    const taskToken = await waitingTaskToken(runtime, body.executionArn);
    const { code, stderr } = await aws(runtime, [
      "stepfunctions",
      "send-task-success",
      "--task-token",
      taskToken,
      "--task-output",
      '{"via":"cli"}',
    ]);
    assert.equal(code, 0, stderr);
    const ended = await waitForEnd(runtime, body.executionArn);
    assert.equal(ended.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(ended.output!), { via: "cli" });
  });

  it("shows AWS's error code for an unknown token: InvalidToken", async () => {
    const { code, stderr } = await aws(runtime, ["stepfunctions", "send-task-success", "--task-token", "bogus", "--task-output", "{}"]);
    assert.notEqual(code, 0);
    assert.match(stderr, /An error occurred \(InvalidToken\) when calling the SendTaskSuccess operation/);
  });

  it("lists multipart uploads in progress and their parts: `s3api list-multipart-uploads` and `s3api list-parts` (paging through both)", async () => {
    const bucket = runtime.outputs.pipelineBucket;
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "cli-mpu-"));
    const key = "cli/multipart key.bin";
    const created = await aws(runtime, ["s3api", "create-multipart-upload", "--bucket", bucket, "--key", key]);
    assert.equal(created.code, 0, created.stderr);
    const { UploadId: uploadId } = JSON.parse(created.stdout);
    const theUpload = ["--bucket", bucket, "--key", key, "--upload-id", uploadId];
    const etags: string[] = [];
    for (const partNumber of [1, 2, 3]) {
      const body = path.join(directory, `part-${partNumber}`);
      fs.writeFileSync(body, `part ${partNumber}`.repeat(partNumber));
      const uploaded = await aws(runtime, ["s3api", "upload-part", ...theUpload, "--part-number", String(partNumber), "--body", body]);
      assert.equal(uploaded.code, 0, uploaded.stderr);
      etags.push(JSON.parse(uploaded.stdout).ETag);
    }
    // --page-size makes the CLI follow NextPartNumberMarker / NextKeyMarker itself.
    const parts = await aws(runtime, ["s3api", "list-parts", ...theUpload, "--page-size", "2"]);
    assert.equal(parts.code, 0, parts.stderr);
    assert.deepEqual(
      JSON.parse(parts.stdout).Parts.map((part: { PartNumber: number; ETag: string; Size: number }) => [
        part.PartNumber,
        part.ETag,
        part.Size,
      ]),
      [
        [1, etags[0], "part 1".length],
        [2, etags[1], "part 2".length * 2],
        [3, etags[2], "part 3".length * 3],
      ],
    );
    const uploads = await aws(runtime, ["s3api", "list-multipart-uploads", "--bucket", bucket, "--prefix", "cli/", "--page-size", "1"]);
    assert.equal(uploads.code, 0, uploads.stderr);
    assert.deepEqual(
      JSON.parse(uploads.stdout).Uploads.map((upload: { Key: string; UploadId: string }) => [upload.Key, upload.UploadId]),
      [[key, uploadId]],
    );
    const aborted = await aws(runtime, ["s3api", "abort-multipart-upload", ...theUpload]);
    assert.equal(aborted.code, 0, aborted.stderr);
    const gone = await aws(runtime, ["s3api", "list-parts", ...theUpload]);
    assert.match(gone.stderr, /An error occurred \(NoSuchUpload\) when calling the ListParts operation/);
  });

  it("keeps S3 keys with '..' segments literal: `s3api put-object --key 'docs/../readme.txt'` and `--key ../../etc/passwd` round-trip", async () => {
    const bucket = runtime.outputs.pipelineBucket;
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "cli-s3-"));
    const keys = ["docs/../readme.txt", "../../etc/passwd"];
    for (const [index, key] of keys.entries()) {
      const body = path.join(directory, `body-${index}`);
      fs.writeFileSync(body, `contents of ${key}`);
      const put = await aws(runtime, ["s3api", "put-object", "--bucket", bucket, "--key", key, "--body", body]);
      assert.equal(put.code, 0, put.stderr);
      const out = path.join(directory, `out-${index}`);
      const get = await aws(runtime, ["s3api", "get-object", "--bucket", bucket, "--key", key, out]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(fs.readFileSync(out, "utf8"), `contents of ${key}`);
    }
    const listed = await aws(runtime, ["s3api", "list-objects-v2", "--bucket", bucket]);
    assert.equal(listed.code, 0, listed.stderr);
    const listedKeys = (JSON.parse(listed.stdout).Contents ?? []).map((object: { Key: string }) => object.Key);
    for (const key of keys) assert.ok(listedKeys.includes(key), `${key} in ${JSON.stringify(listedKeys)}`);
    assert.ok(!listedKeys.includes("readme.txt"), "nothing was stored under the resolved path");
    const resolved = await aws(runtime, ["s3api", "head-object", "--bucket", bucket, "--key", "readme.txt"]);
    assert.notEqual(resolved.code, 0);
    assert.match(resolved.stderr, /\(404\)/);
  });

  it("answers a credential that is not valid percent-encoding with 400 and AWS's signature error (JSON services and S3)", async () => {
    const malformed = { accessKeyId: "AKID%ZZ", secretAccessKey: "cli" };
    const states = await aws(runtime, ["stepfunctions", "list-state-machines"], malformed);
    assert.notEqual(states.code, 0);
    assert.match(
      states.stderr,
      /An error occurred \(IncompleteSignatureException\) when calling the ListStateMachines operation: .*Credential/,
    );
    const s3 = await aws(runtime, ["s3api", "list-objects-v2", "--bucket", runtime.outputs.pipelineBucket], malformed);
    assert.notEqual(s3.code, 0);
    assert.match(
      s3.stderr,
      /An error occurred \(AuthorizationHeaderMalformed\) when calling the ListObjectsV2 operation: The authorization header is malformed/,
    );
  });

  it("`aws stepfunctions describe-execution` reports an execution started over HTTP", async () => {
    const { body } = await start(runtime, { outcome: "success" });
    await waitForEnd(runtime, body.executionArn);
    const { code, stdout, stderr } = await aws(runtime, ["stepfunctions", "describe-execution", "--execution-arn", body.executionArn]);
    assert.equal(code, 0, stderr);
    const described = JSON.parse(stdout);
    assert.equal(described.status, "SUCCEEDED");
    assert.equal(described.stateMachineArn, runtime.outputs.stateMachineArn);
  });

  it("`aws stepfunctions test-state --inspection-level DEBUG` runs one state and shows its data flow", async () => {
    const definition = {
      Type: "Pass",
      InputPath: "$.order",
      Parameters: { "id.$": "$.id", kind: "test" },
      ResultPath: "$.shaped",
      Next: "After",
    };
    const { code, stdout, stderr } = await aws(runtime, [
      "stepfunctions",
      "test-state",
      "--definition",
      JSON.stringify(definition),
      "--role-arn",
      "arn:aws:iam::123456789012:role/tester",
      "--input",
      JSON.stringify({ order: { id: 7 } }),
      "--inspection-level",
      "DEBUG",
    ]);
    assert.equal(code, 0, stderr);
    const answer = JSON.parse(stdout);
    assert.equal(answer.status, "SUCCEEDED");
    assert.equal(answer.nextState, "After");
    assert.deepEqual(JSON.parse(answer.output), { order: { id: 7 }, shaped: { id: 7, kind: "test" } });
    assert.deepEqual(JSON.parse(answer.inspectionData.afterInputPath), { id: 7 });
    assert.deepEqual(JSON.parse(answer.inspectionData.afterParameters), { id: 7, kind: "test" });
  });

  it("`aws stepfunctions redrive-execution` continues a failed execution from its failed state; describe-execution counts the redrive", async () => {
    // Fails on the first attempt only: the value parsed depends on $$.Execution.RedriveCount.
    const definition = {
      StartAt: "Parse",
      States: {
        Parse: {
          Type: "Pass",
          Parameters: { "value.$": "States.StringToJson(States.ArrayGetItem(States.Array('not json', '1'), $$.Execution.RedriveCount))" },
          End: true,
        },
      },
    };
    const created = await aws(runtime, [
      "stepfunctions",
      "create-state-machine",
      "--name",
      "cli-redrive",
      "--definition",
      JSON.stringify(definition),
      "--role-arn",
      "arn:aws:iam::123456789012:role/cli-redrive",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const { stateMachineArn } = JSON.parse(created.stdout);
    const started = await aws(runtime, ["stepfunctions", "start-execution", "--state-machine-arn", stateMachineArn]);
    assert.equal(started.code, 0, started.stderr);
    const { executionArn } = JSON.parse(started.stdout);
    const describe = async () => {
      const described = await aws(runtime, ["stepfunctions", "describe-execution", "--execution-arn", executionArn]);
      assert.equal(described.code, 0, described.stderr);
      return JSON.parse(described.stdout);
    };
    const until = async (status: string) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const described = await describe();
        if (described.status === status) return described;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail(`the execution did not reach ${status}`);
    };
    const failed = await until("FAILED");
    assert.equal(failed.redriveStatus, "REDRIVABLE");

    const redriven = await aws(runtime, ["stepfunctions", "redrive-execution", "--execution-arn", executionArn]);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.ok(JSON.parse(redriven.stdout).redriveDate);
    const succeeded = await until("SUCCEEDED");
    assert.equal(succeeded.redriveCount, 1);
    assert.deepEqual(JSON.parse(succeeded.output), { value: 1 });
    assert.equal(succeeded.redriveStatus, "NOT_REDRIVABLE");

    const again = await aws(runtime, ["stepfunctions", "redrive-execution", "--execution-arn", executionArn]);
    assert.notEqual(again.code, 0);
    assert.match(
      again.stderr,
      /\(ExecutionNotRedrivable\) when calling the RedriveExecution operation: Execution is SUCCEEDED and cannot be redriven\./,
    );
  });
});
