/**
 * The document pipeline end to end through the real local runtime: `npm start`'s CLI in a child process runs
 * index.ts, and the test acts as a user would, over HTTP and with unmodified AWS SDK clients pointed at the
 * printed origin: upload a document (streamed, so the SDK frames it aws-chunked), POST it, wait for the
 * execution, and compare its result with `wc`.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type RuntimeProcess, startRuntime, waitForEnd } from "../local/e2e/runtimeProcess";
import { wc } from "./fixtures";

/** Lines of exactly 32 bytes: with 256-byte chunks, 8 lines make one chunk, so `chunks` chunks are exact. */
function documentOfChunks(chunks: number): string {
  return Array.from({ length: chunks * 8 }, (_, index) =>
    `line ${String(index).padStart(6, "0")} of the document.\n`.padStart(32, "-"),
  ).join("");
}

describe("pipeline: end to end through the local runtime (npm start)", function () {
  this.timeout(180_000);
  let runtime: RuntimeProcess;
  let s3: S3Client;

  before(async () => {
    runtime = await startRuntime(["-c", "pipelineChunkSizeBytes=256"], { LOCAL_LAMBDA_NODE: "machine" });
    s3 = new S3Client({ endpoint: runtime.origin, region: "us-east-1", credentials: { accessKeyId: "AKIDE2E", secretAccessKey: "e2e" } });
  });

  after(async () => {
    s3?.destroy();
    await runtime?.stop();
  });

  async function post(input: unknown): Promise<string> {
    const response = await fetch(runtime.outputs.pipelineStartUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as { executionArn: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.executionArn;
  }

  async function uploadStreamed(key: string, text: string): Promise<void> {
    // A stream of unknown framing: the SDK's default checksum setting sends it aws-chunked with a CRC32 trailer.
    const bytes = Buffer.from(text);
    await s3.send(
      new PutObjectCommand({
        Bucket: runtime.outputs.pipelineBucket,
        Key: key,
        Body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
        ContentLength: bytes.length,
      }),
    );
  }

  async function expectSucceeded(executionArn: string, text: string, chunkCount: number, timeoutMs: number) {
    const described = await waitForEnd(runtime, executionArn, timeoutMs);
    assert.equal(described.status, "SUCCEEDED", `${described.error}: ${described.cause}`);
    const output = JSON.parse(described.output!);
    assert.equal(output.chunkCount, chunkCount);
    assert.deepEqual(output.totals, wc(text));
    const key = output.resultLocation.replace(`s3://${runtime.outputs.pipelineBucket}/`, "");
    const stored = await s3.send(new GetObjectCommand({ Bucket: runtime.outputs.pipelineBucket, Key: key }));
    assert.deepEqual(JSON.parse(await stored.Body!.transformToString()), output);
    const resumes = runtime
      .output()
      .split("\n")
      .filter((line) => line.includes(`job ${output.jobId}: resumed`));
    assert.equal(resumes.length, 1, `the job resumed exactly once:\n${resumes.join("\n")}`);
    return output;
  }

  it("counts a one-chunk document sent inline in the request body", async () => {
    const text = "Hello, callback pattern.\nTwo lines here.\n";
    await expectSucceeded(await post({ document: text }), text, 1, 30_000);
  });

  it("processes a 100-chunk document uploaded to S3 as a stream (aws-chunked) and resumes once", async () => {
    const text = documentOfChunks(100);
    await uploadStreamed("documents/report of 100 chunks.txt", text);
    await expectSucceeded(await post({ documentKey: "documents/report of 100 chunks.txt" }), text, 100, 60_000);
  });

  it("processes a 1,000-chunk document and resumes once with the complete total", async () => {
    const text = documentOfChunks(1000);
    await uploadStreamed("documents/big.txt", text);
    const started = Date.now();
    await expectSucceeded(await post({ documentKey: "documents/big.txt" }), text, 1000, 150_000);
    console.log(`      1,000 chunks end to end in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("fails on the ProcessingFailed path, naming the chunk, when one chunk is not text", async () => {
    const text = documentOfChunks(3).replace("line 000020", "line \u0000\u0000\u000020");
    const described = await waitForEnd(runtime, await post({ document: text }), 30_000);
    assert.equal(described.status, "FAILED");
    assert.equal(described.error, "ProcessingFailed");
    assert.match(
      described.cause!,
      /^chunk 2 of 3 \(s3:\/\/[a-z0-9-]+\/chunks\/[0-9a-f]{32}\/000002\.txt\) failed: NotTextError: binary data: NUL byte at offset \d+$/,
    );
  });

  it("fails on the ProcessingFailed path when the input names no document", async () => {
    const described = await waitForEnd(runtime, await post({ title: "no document" }), 30_000);
    assert.equal(described.status, "FAILED");
    assert.equal(described.error, "ProcessingFailed");
    // SplitDoc threw: the cause is Lambda's error document, whose errorType the Catch matched.
    const cause = JSON.parse(described.cause!);
    assert.equal(cause.errorType, "ProcessingFailed");
    assert.equal(
      cause.errorMessage,
      'the input must have exactly one of "document" (the text) or "documentKey" (an S3 key under documents/); received keys: title',
    );
  });
});
