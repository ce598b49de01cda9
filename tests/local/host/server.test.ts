/**
 * The origin server as a user meets it: the CLI on a small fixture program, in a child process.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { startRuntime, type RuntimeProcess } from "../e2e/runtimeProcess";

const FIXTURE = path.join(__dirname, "fixtures", "program");

describe("local runtime origin server", function () {
  this.timeout(60_000);
  let runtime: RuntimeProcess;

  before(async function () {
    this.timeout(120_000);
    runtime = await startRuntime(["--cwd", FIXTURE, "--stack", "dev"]);
  });
  after(async () => {
    if (runtime) await runtime.stop();
  });

  it("names each resource type with no local equivalent in one warning at start, and not the IAM roles it keeps", () => {
    const warnings = runtime
      .output()
      .split("\n")
      .filter((line) => line.startsWith("warning:"));
    assert.deepEqual(warnings, ["warning: Not emulated locally, declared only (nothing runs for them): aws:kinesis/stream:Stream (jobs)"]);
  });

  it("refuses a body over 10 MB with 413 before any service reads it", async () => {
    const response = await fetch(`${runtime.origin}/2015-03-31/functions/x/invocations`, {
      method: "POST",
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 32),
    }).catch((error) => error);
    // Node's fetch may see the connection close before it finishes sending; either way nothing was accepted.
    if (!(response instanceof Error)) assert.equal(response.status, 413);
    assert.equal((await fetch(`${runtime.origin}/nothing`)).status, 404, "still serving");
  });

  it("answers a request signed for a service it does not emulate with 501 NotImplemented, naming the service", async () => {
    const response = await fetch(runtime.origin, {
      method: "POST",
      headers: {
        Authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261124/eu-central-1/kinesis/aws4_request, SignedHeaders=host, Signature=00",
      },
      body: "{}",
    });
    assert.equal(response.status, 501);
    assert.equal(response.headers.get("x-amzn-errortype"), "NotImplemented");
    const body = (await response.json()) as any;
    assert.equal(body.__type, "NotImplemented");
    assert.match(
      body.message,
      /does not emulate the AWS service "kinesis" \(emulated: dynamodb, execute-api, lambda, s3, sns, sqs, states\)/,
    );
  });

  it("survives malformed requests and keeps invoking functions", async () => {
    const functionName = runtime.outputs.functionName;
    const bad = await fetch(`${runtime.origin}/2015-03-31/functions/${functionName}/invocations`, { method: "POST", body: "{oops" });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("x-amzn-errortype"), "InvalidRequestContentException");
    const noTarget = await fetch(runtime.origin, { method: "POST", headers: { "X-Amz-Target": "AWSStepFunctions." }, body: "\u0000" });
    assert.equal(noTarget.status, 400);
    const good = await fetch(`${runtime.origin}/2015-03-31/functions/${functionName}/invocations`, {
      method: "POST",
      body: '{"name":"again"}',
    });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { message: "hi from dev, again" });
  });
});
