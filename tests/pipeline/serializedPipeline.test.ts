/**
 * The code `DocumentPipeline` would upload: each function's `__index.js` from the declared code archive, run
 * in its own Node process as the Lambda runtime would (AWS SDK from NODE_PATH, endpoint from AWS_ENDPOINT_URL,
 * the declared environment), against the local S3 and DynamoDB provisioned from the very resources the
 * component declared, and a Step Functions stand-in applying AWS's token rules.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import type { S3Event } from "aws-lambda";
import { DocumentPipeline } from "../../components/documentPipeline";
import type { DeclaredResource, LocalService } from "../../local/common/service";
import { declare, findAll, findOne, type RecordedResource } from "../mocks";
import { SerializedFunctions } from "../support/serializedFunction";
import { FakeStepFunctions, sampleDocument, splitEvent, wc } from "./fixtures";
import { type LocalAws, startLocalAws } from "./localAws";

/** Step Functions' SendTask* API over HTTP (AWS JSON 1.0), answered by the fake's token rules. */
class StepFunctionsService implements LocalService {
  readonly signingNames = ["states"];
  readonly resourceTypes = [];
  constructor(readonly fake: FakeStepFunctions) {}
  async provision(): Promise<void> {}
  async deprovision(): Promise<void> {}
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const operation = String(req.headers["x-amz-target"]).replace("AWSStepFunctions.", "");
    try {
      await this.fake.answer(operation, JSON.parse(body.toString("utf8")));
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
    } catch (error) {
      const { name, message } = error as Error;
      res
        .writeHead(400, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": name })
        .end(JSON.stringify({ __type: name, message }));
    }
  }
  async close(): Promise<void> {}
}

describe("pipeline: the serialized handler code (__index.js) against local S3 and DynamoDB", function () {
  this.timeout(120_000);
  const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "sfn-callback-pipeline-"));
  const sfn = new FakeStepFunctions();
  let aws: LocalAws;
  let functions: RecordedResource[];
  let serialized: SerializedFunctions;

  before(async () => {
    const { resources } = await declare(() => new DocumentPipeline("docs", { chunkSizeBytes: 200 }));
    functions = findAll(resources, "aws:lambda/function:Function");
    for (const lambda of functions) {
      assert.deepEqual(Object.keys(await lambda.inputs.code.assets), ["__index.js"], `${lambda.name}: the archive is the handler alone`);
    }
    serialized = await SerializedFunctions.write(functions, workDirectory);
    aws = await startLocalAws({ extraServices: [new StepFunctionsService(sfn)] });
    const declared: DeclaredResource[] = resources.map((resource) => ({ urn: `urn:${resource.name}`, ...resource }));
    for (const resource of declared) {
      if (aws.s3.resourceTypes.includes(resource.type as never)) await aws.s3.provision(resource, declared);
      if (aws.dynamodb.resourceTypes.includes(resource.type as never)) await aws.dynamodb.provision(resource);
    }
  });

  after(async () => {
    await aws?.close();
    fs.rmSync(workDirectory, { recursive: true, force: true });
  });

  function run(functionName: string, events: unknown[]): Promise<any[]> {
    return serialized.run(functionName, events, aws.origin);
  }

  it("splits, processes every chunk event twice, hands the token over, resumes once and aggregates wc's counts", async () => {
    const text = sampleDocument(80);
    const taskToken = sfn.newToken();
    const [split] = await run("docs-workflow-split-doc", [splitEvent({ document: text })]);
    assert.equal(split.ok, true, JSON.stringify(split));
    assert.ok(split.result.chunkCount >= 10, `a 200-byte chunk size gives at least 10 chunks; got ${split.result.chunkCount}`);
    await aws.s3.drainNotifications();
    const events = aws.invocations.map((invocation) => JSON.parse(invocation.payload) as S3Event);
    aws.invocations.length = 0;
    assert.equal(events.length, split.result.chunkCount, "S3 notified the processor once per chunk");
    assert.ok(
      aws.invocations.every(
        (invocation) => invocation.functionName === findOne(functions, "aws:lambda/function:Function", "docs-processor").state.arn,
      ),
    );

    // Half the chunks before the token is handed over, the rest (and every duplicate) after.
    const half = Math.floor(events.length / 2);
    const early = await run("docs-processor", events.slice(0, half));
    const [handOver] = await run("docs-workflow-wait-for-completion-receiver", [{ taskToken, jobId: split.result.jobId }]);
    assert.deepEqual(handOver, { ok: true, result: { jobId: split.result.jobId, resume: "not-complete" } });
    const outcomes = [...early, ...(await run("docs-processor", [...events.slice(half), ...events.slice().reverse()]))];
    assert.ok(
      outcomes.every((outcome) => outcome.ok),
      JSON.stringify(outcomes.find((outcome) => !outcome.ok)),
    );
    const accepted = sfn.accepted(taskToken);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0].kind, "success");

    const [aggregate] = await run("docs-workflow-continue-process", [accepted[0].output]);
    assert.equal(aggregate.ok, true, JSON.stringify(aggregate));
    assert.deepEqual(aggregate.result.totals, wc(text));
    assert.equal(aggregate.result.chunkCount, split.result.chunkCount);
  });

  it("reports a chunk that is not text with its error name and message (error classes survive serialization)", async () => {
    const taskToken = sfn.newToken();
    const before = aws.invocations.length;
    const [split] = await run("docs-workflow-split-doc", [splitEvent({ document: `${sampleDocument(3)}\u0000` })]);
    assert.equal(split.result.chunkCount, 1);
    await aws.s3.drainNotifications();
    const events = aws.invocations.slice(before).map((invocation) => JSON.parse(invocation.payload));
    // The chunk fails before the token exists: the failure is recorded, and the receiver sends it.
    const [outcome] = await run("docs-processor", events);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(outcome.result[0].resume, "awaiting-token");
    assert.equal(sfn.accepted(taskToken).length, 0);
    const [handOver] = await run("docs-workflow-wait-for-completion-receiver", [{ taskToken, jobId: split.result.jobId }]);
    assert.deepEqual(handOver, { ok: true, result: { jobId: split.result.jobId, resume: "signalled" } });
    const [failure] = sfn.accepted(taskToken);
    assert.equal(failure.error, "ProcessingFailed");
    assert.match(
      failure.cause!,
      /^chunk 0 of 1 \(s3:\/\/[a-z0-9-]+\/chunks\/[0-9a-f]{32}\/000000\.txt\) failed: NotTextError: binary data: NUL byte at offset (\d+)$/,
    );
    assert.equal(
      Number(/offset (\d+)$/.exec(failure.cause!)![1]),
      Buffer.byteLength(sampleDocument(3)),
      "the NUL byte follows the three text lines",
    );
  });

  it("fails SplitDoc with a ProcessingFailed error (the Catch's error name) when given a key outside the document prefix", async () => {
    const [split] = await run("docs-workflow-split-doc", [splitEvent({ documentKey: "results/secret.json" })]);
    assert.deepEqual(split, {
      ok: false,
      errorType: "ProcessingFailed",
      errorMessage: 'documentKey "results/secret.json" must name an object under "documents/"',
    });
  });
});
