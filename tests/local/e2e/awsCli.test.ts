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

const AWS_CLI = "/usr/bin/aws";

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
  });
  after(async () => {
    if (runtime) await runtime.stop();
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
});
