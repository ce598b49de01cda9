/**
 * The pipeline handlers under the faults production brings: duplicate and reordered S3 events, two "last"
 * chunks at once, a processor crashing between any two of its calls and then retried, a chunk that fails for
 * good, a token that timed out, and the wait's token reaching the job before, after or while the chunks
 * finish. Real handler code, local S3 and DynamoDB over HTTP with the AWS SDK.
 */
import assert from "node:assert/strict";
import type { S3Event } from "aws-lambda";
import { aggregateResults } from "../../handlers/pipeline/aggregateResults";
import { getJob } from "../../handlers/pipeline/jobStore";
import { processChunkEvent } from "../../handlers/pipeline/processChunk";
import { splitDocument } from "../../handlers/pipeline/splitDocument";
import { splitIntoChunks } from "../../handlers/pipeline/textChunks";
import type { PipelineClients } from "../../handlers/pipeline/resume";
import {
  CallSequencer,
  crashingClients,
  type PipelineFixture,
  sampleDocument,
  shuffled,
  SimulatedCrash,
  splitEvent,
  startPipelineFixture,
  wc,
} from "./fixtures";

describe("document pipeline under faults", function () {
  this.timeout(60_000);
  let fixture: PipelineFixture;
  const quiet = { log: () => undefined };

  before(async () => {
    fixture = await startPipelineFixture();
  });
  after(async () => {
    await fixture?.close();
  });

  const deliver = (event: S3Event, clients: PipelineClients = fixture.clients) =>
    processChunkEvent(event, clients, fixture.settings, quiet);

  async function expectCompleteResume(job: { jobId: string; taskToken: string; chunkCount: number }, text: string) {
    const accepted = fixture.sfn.accepted(job.taskToken);
    assert.equal(accepted.length, 1, `exactly one accepted answer to the token; got ${accepted.length}`);
    assert.equal(accepted[0].kind, "success");
    assert.deepEqual(accepted[0].output, {
      jobId: job.jobId,
      bucket: fixture.settings.bucketName,
      documentKey: `documents/${job.jobId}.txt`,
      chunkCount: job.chunkCount,
    });
    assert.equal(accepted[0].doneChunksAtSignal, job.chunkCount, "every chunk was recorded done before the job resumed");
    const result = await aggregateResults(accepted[0].output, fixture.clients, fixture.settings);
    assert.deepEqual(result.totals, wc(text));
    const stored = await getJob(fixture.clients.dynamodb, fixture.settings.tableName, job.jobId);
    assert.equal(stored?.resumeState, "signalled");
  }

  it("splits a document into chunks under the job's prefix, and S3 notifies the processor once per chunk", async () => {
    const text = sampleDocument(40);
    const job = await fixture.startJob(text);
    assert.ok(job.chunkCount > 10, `a 64-byte chunk size gives many chunks; got ${job.chunkCount}`);
    const keys = job.events.map((event) => event.Records[0].s3.object.key).sort();
    assert.deepEqual(
      keys,
      Array.from({ length: job.chunkCount }, (_, index) => `chunks/${job.jobId}/${String(index).padStart(6, "0")}.txt`),
    );
    assert.ok(job.events.every((event) => event.Records[0].eventName === "ObjectCreated:Put"));
    for (const event of job.events) await deliver(event);
    await expectCompleteResume(job, text);
  });

  it("resumes exactly once with the complete result when every event is delivered twice in shuffled order", async () => {
    const text = sampleDocument(60);
    const job = await fixture.startJob(text);
    for (const event of shuffled([...job.events, ...job.events], 7)) await deliver(event);
    await expectCompleteResume(job, text);
    assert.equal(
      fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length,
      1,
      "a duplicate of a counted chunk sends nothing",
    );
  });

  it("resumes exactly once when all chunk events, duplicated, are processed concurrently", async () => {
    const text = sampleDocument(50);
    const job = await fixture.startJob(text);
    await Promise.all(shuffled([...job.events, ...job.events], 11).map((event) => deliver(event)));
    await expectCompleteResume(job, text);
  });

  it("of two last chunks finishing at the same moment, exactly one resumes the job", async () => {
    for (let round = 0; round < 10; round++) {
      const text = sampleDocument(8);
      const job = await fixture.startJob(text);
      const [lastA, lastB, ...rest] = shuffled(job.events, round);
      for (const event of rest) await deliver(event);
      const reports = (await Promise.all([deliver(lastA), deliver(lastB)])).flat();
      assert.deepEqual(reports.map((report) => report.resume).sort(), ["not-complete", "signalled"]);
      assert.equal(
        fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length,
        1,
        "the other last chunk does not even try",
      );
      await expectCompleteResume(job, text);
    }
  });

  describe("a processor that crashes between two of its calls and is retried", () => {
    // The last chunk's calls, in order: GetObject, PutItem (record), UpdateItem (count), UpdateItem (mark counted),
    // UpdateItem (claim), SendTaskSuccess, UpdateItem (mark signalled).
    for (let crashAfter = 1; crashAfter <= 7; crashAfter++) {
      it(`still resumes exactly once when the last chunk dies after call ${crashAfter}`, async () => {
        const text = sampleDocument(6);
        const job = await fixture.startJob(text);
        const last = job.events[job.events.length - 1];
        for (const event of job.events.slice(0, -1)) await deliver(event);
        const crashing = crashingClients(fixture.clients, crashAfter);
        await assert.rejects(deliver(last, crashing.clients), SimulatedCrash);
        assert.deepEqual(
          crashing.calls,
          ["GetObject", "PutItem", "UpdateItem", "UpdateItem", "UpdateItem", "SendTaskSuccess", "UpdateItem"].slice(0, crashAfter),
        );
        await deliver(last); // Lambda retries the failed asynchronous invocation with the same event.
        await deliver(last); // and S3 may deliver it once more.
        await expectCompleteResume(job, text);
      });
    }

    for (let crashAfter = 1; crashAfter <= 4; crashAfter++) {
      it(`never resumes early when a middle chunk dies after call ${crashAfter} and a duplicate is counted as doubtful`, async () => {
        const text = sampleDocument(6);
        const job = await fixture.startJob(text);
        const [first, ...others] = job.events;
        await assert.rejects(deliver(first, crashingClients(fixture.clients, crashAfter).clients), SimulatedCrash);
        await deliver(first); // the retry (may count again: the counter can now run ahead of the records)
        for (const event of others.slice(0, -1)) await deliver(event);
        assert.equal(
          fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length,
          0,
          "not resumed while a chunk is missing",
        );
        await deliver(others[others.length - 1]);
        await expectCompleteResume(job, text);
      });
    }
  });

  it("a SplitDoc retried in the same execution after dying midway records one job and still resumes once", async () => {
    const text = sampleDocument(20);
    const event = splitEvent({ document: text });
    const before = fixture.aws.invocations.length;
    // Calls: PutObject (the inline document), PutItem (the job), then one PutObject per chunk: die after 3 chunks.
    const crashing = crashingClients(fixture.clients, 5);
    await assert.rejects(
      splitDocument(event, crashing.clients, fixture.settings, () => undefined),
      SimulatedCrash,
    );
    const first = await splitDocument(event, fixture.clients, fixture.settings, () => undefined);
    const retried = await splitDocument(event, fixture.clients, fixture.settings, () => undefined);
    assert.deepEqual(retried, first, "the same execution is the same job");
    await fixture.aws.s3.drainNotifications();
    const events = fixture.aws.invocations.slice(before).map((invocation) => JSON.parse(invocation.payload) as S3Event);
    assert.ok(events.length > 2 * retried.chunkCount, "the chunks written before the crash are notified three times");
    const job = { jobId: retried.jobId, taskToken: fixture.sfn.newToken(), chunkCount: retried.chunkCount };
    await fixture.handToken(job);
    for (const event of shuffled(events, 5)) await deliver(event);
    await expectCompleteResume(job, text);
  });

  it("another execution of the same document is another job", async () => {
    const text = sampleDocument(4);
    const [a, b] = await Promise.all([fixture.startJob(text), fixture.startJob(text)]);
    assert.notEqual(a.jobId, b.jobId);
  });

  describe("the wait's token reaching the job before, after or while the chunks finish", () => {
    it("all chunks done before the token is stored: the token receiver resumes the job, once", async () => {
      const text = sampleDocument(12);
      const job = await fixture.startJob(text, { handToken: false });
      const reports = [];
      for (const event of shuffled([...job.events, ...job.events], 17)) reports.push(...(await deliver(event)));
      const resumes = reports.map((report) => report.resume);
      const decided = resumes.indexOf("awaiting-token");
      assert.ok(decided >= 0, "the completing chunk claims, without a token");
      assert.ok(
        resumes.slice(0, decided).every((resume) => resume === "not-complete") &&
          resumes.slice(decided).every((resume) => resume === "awaiting-token"),
        `not complete until one chunk claims; every later duplicate finds the claim waiting for the token: ${resumes.join(", ")}`,
      );
      assert.equal(
        fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length,
        0,
        "nothing can be sent before the token exists",
      );
      const stored = await getJob(fixture.clients.dynamodb, fixture.settings.tableName, job.jobId);
      assert.deepEqual([stored?.resumeState, stored?.outcome, stored?.taskToken], ["claimed", "success", undefined]);

      assert.equal((await fixture.handToken(job)).resume, "signalled");
      await expectCompleteResume(job, text);
      // A late duplicate chunk event and a repeated hand-over send nothing more.
      await deliver(job.events[0]);
      assert.equal((await fixture.handToken(job)).resume, "already-signalled");
      assert.equal(fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length, 1);
    });

    it("a chunk failed for good before the token is stored: the failure is recorded and the token receiver sends it, once", async () => {
      const good = sampleDocument(6);
      const text = `${good}bad\u0000chunk\n${good}`;
      const job = await fixture.startJob(text, { handToken: false });
      const chunks = splitIntoChunks(Buffer.from(text), fixture.settings.chunkSizeBytes);
      const badIndex = chunks.findIndex((chunk) => chunk.includes(0));
      const reports = [];
      for (const event of shuffled(job.events, 23)) reports.push(...(await deliver(event)));
      assert.deepEqual(
        reports.filter((report) => report.status === "failed").map((report) => [report.chunkIndex, report.resume]),
        [[badIndex, "awaiting-token"]],
      );
      assert.equal(fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length, 0);

      assert.equal((await fixture.handToken(job)).resume, "signalled");
      const signals = fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken);
      assert.equal(signals.length, 1);
      assert.deepEqual([signals[0].accepted, signals[0].kind, signals[0].error], [true, "failure", "ProcessingFailed"]);
      const key = `chunks/${job.jobId}/${String(badIndex).padStart(6, "0")}.txt`;
      assert.equal(
        signals[0].cause,
        `chunk ${badIndex} of ${job.chunkCount} (s3://${fixture.settings.bucketName}/${key}) failed: NotTextError: binary data: NUL byte at offset ${chunks[badIndex].indexOf(0)}`,
      );
      const stored = await getJob(fixture.clients.dynamodb, fixture.settings.tableName, job.jobId);
      assert.deepEqual([stored?.resumeState, stored?.outcome, stored?.failedChunk], ["signalled", "failure", badIndex]);
    });

    // The last chunk's calls: GetObject, PutItem (record), UpdateItem (count), UpdateItem (mark counted),
    // UpdateItem (claim), then SendTask*, UpdateItem (mark signalled) if it holds the token. The receiver's
    // first call is UpdateItem (store the token).
    const orders = [
      {
        name: "the claim lands before the token",
        order: (chunk: CallSequencer, receiver: CallSequencer) => receiver.hold(1, chunk.finished(5)),
        resumes: { chunk: "awaiting-token", receiver: "signalled" },
      },
      {
        name: "the token lands before the count",
        order: (chunk: CallSequencer, receiver: CallSequencer) => chunk.hold(3, receiver.finished(1)),
        resumes: { chunk: "signalled", receiver: "not-complete" },
      },
      {
        name: "the token lands between the count and the claim, and both claim",
        order: (chunk: CallSequencer, receiver: CallSequencer) => {
          receiver.hold(1, chunk.finished(4));
          chunk.hold(5, receiver.finished(1));
        },
        resumes: undefined,
      },
    ];
    for (const { name, order, resumes } of orders) {
      it(`the token stored while the last chunk finishes (${name}) resumes the job exactly once`, async () => {
        const text = sampleDocument(10);
        const job = await fixture.startJob(text, { handToken: false });
        const last = job.events[job.events.length - 1];
        for (const event of job.events.slice(0, -1)) await deliver(event);
        const chunk = new CallSequencer(fixture.clients);
        const receiver = new CallSequencer(fixture.clients);
        order(chunk, receiver);
        const [[chunkReport], receiverReport] = await Promise.all([deliver(last, chunk.clients), fixture.handToken(job, receiver.clients)]);
        const outcome = { chunk: chunkReport.resume, receiver: receiverReport.resume };
        if (resumes) assert.deepEqual(outcome, resumes);
        else assert.deepEqual(Object.values(outcome).sort(), ["claimed-elsewhere", "signalled"]);
        assert.equal(
          fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length,
          1,
          "exactly one of the two sends, and only once",
        );
        await expectCompleteResume(job, text);
      });
    }

    it("the token stored at the same moment as the last chunk, unordered, resumes exactly once (20 rounds)", async () => {
      for (let round = 0; round < 20; round++) {
        const text = sampleDocument(5);
        const job = await fixture.startJob(text, { handToken: false });
        const [last, ...rest] = shuffled(job.events, round);
        for (const event of rest) await deliver(event);
        await Promise.all([deliver(last), fixture.handToken(job)]);
        assert.equal(fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length, 1);
        await expectCompleteResume(job, text);
      }
    });

    for (let crashAfter = 1; crashAfter <= 3; crashAfter++) {
      it(`a token receiver that dies after call ${crashAfter} and is retried with the same token still resumes exactly once`, async () => {
        const text = sampleDocument(6);
        const job = await fixture.startJob(text, { handToken: false });
        for (const event of job.events) await deliver(event);
        const crashing = crashingClients(fixture.clients, crashAfter);
        await assert.rejects(fixture.handToken(job, crashing.clients), SimulatedCrash);
        assert.deepEqual(crashing.calls, ["UpdateItem", "SendTaskSuccess", "UpdateItem"].slice(0, crashAfter));
        await fixture.handToken(job);
        await deliver(job.events[0]); // a late duplicate chunk event
        await expectCompleteResume(job, text);
      });
    }

    it("refuses a second, different token for a job, and a token for a job that does not exist, saying which", async () => {
      const job = await fixture.startJob(sampleDocument(3));
      await assert.rejects(fixture.handToken({ jobId: job.jobId, taskToken: fixture.sfn.newToken() }), {
        message: `job ${job.jobId} already holds another task token; a job's wait is answered through the first token only`,
      });
      const missing = "e".repeat(32);
      await assert.rejects(fixture.handToken({ jobId: missing, taskToken: fixture.sfn.newToken() }), {
        message: `job ${missing} does not exist: SplitDoc did not record it, or it expired`,
      });
      assert.equal(await getJob(fixture.clients.dynamodb, fixture.settings.tableName, missing), undefined, "nothing is created");
    });
  });

  it("a chunk that fails for good resumes the workflow once on the ProcessingFailed path, naming the chunk", async () => {
    const good = sampleDocument(10);
    const text = `${good}binary\u0000data here\n${good}`;
    const job = await fixture.startJob(text);
    // The chunk holding the NUL byte, found independently of the handlers.
    const chunks = splitIntoChunks(Buffer.from(text), fixture.settings.chunkSizeBytes);
    const badIndex = chunks.findIndex((chunk) => chunk.includes(0));
    const offset = chunks[badIndex].indexOf(0);
    for (const event of shuffled([...job.events, ...job.events], 3)) await deliver(event);
    const signals = fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken);
    const accepted = signals.filter((signal) => signal.accepted);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0].kind, "failure");
    assert.equal(accepted[0].error, "ProcessingFailed");
    const key = `chunks/${job.jobId}/${String(badIndex).padStart(6, "0")}.txt`;
    assert.equal(
      accepted[0].cause,
      `chunk ${badIndex} of ${job.chunkCount} (s3://${fixture.settings.bucketName}/${key}) failed: NotTextError: binary data: NUL byte at offset ${offset}`,
    );
    assert.ok(
      signals.every((signal) => signal.kind === "failure"),
      "no success is ever sent for a job with a failed chunk",
    );
    const stored = await getJob(fixture.clients.dynamodb, fixture.settings.tableName, job.jobId);
    assert.equal(stored?.outcome, "failure");
    assert.equal(stored?.failedChunk, badIndex);
    assert.equal(stored?.resumeState, "signalled");
  });

  it("treats TaskTimedOut from a job whose token already timed out as done, without failing the invocation", async () => {
    const text = sampleDocument(5);
    const job = await fixture.startJob(text);
    fixture.sfn.timeOut(job.taskToken);
    const reports = [];
    for (const event of job.events) reports.push(...(await deliver(event)));
    assert.equal(reports[reports.length - 1].resume, "token-closed");
    const stored = await getJob(fixture.clients.dynamodb, fixture.settings.tableName, job.jobId);
    assert.equal(stored?.resumeState, "signalled");
    assert.equal(stored?.signalResult, "TaskTimedOut");
    assert.equal(fixture.sfn.accepted(job.taskToken).length, 0);
    // A later duplicate does not try again.
    await deliver(job.events[0]);
    assert.equal(fixture.sfn.signals.filter((signal) => signal.taskToken === job.taskToken).length, 1);
  });

  it("gives chunk records a TTL past the wait, and restarts a job's retention when it is signalled", async () => {
    const { GetItemCommand } = await import("@aws-sdk/client-dynamodb");
    const { settings } = fixture;
    const job = await fixture.startJob(sampleDocument(3));
    const expiresAt = async (sk: string) =>
      Number(
        (
          await fixture.clients.dynamodb.send(
            new GetItemCommand({ TableName: settings.tableName, Key: { jobId: { S: job.jobId }, sk: { S: sk } } }),
          )
        ).Item!.expiresAt.N,
      );
    const created = Math.floor(Date.now() / 1000);
    const atCreation = await expiresAt("job");
    assert.ok(
      Math.abs(atCreation - (created + settings.waitTimeoutSeconds + settings.retentionSeconds)) <= 2,
      "an unfinished job outlives the wait",
    );
    for (const event of job.events) await deliver(event);
    assert.ok(Math.abs((await expiresAt("chunk#000000")) - (created + settings.waitTimeoutSeconds + settings.retentionSeconds)) <= 2);
    assert.ok(
      Math.abs((await expiresAt("job")) - (Math.floor(Date.now() / 1000) + settings.retentionSeconds)) <= 2,
      "a signalled job is kept retentionSeconds from now",
    );
  });

  it("ignores an object under the chunk prefix whose job does not exist, creating nothing", async () => {
    const jobId = "f".repeat(32);
    const event = {
      Records: [{ s3: { bucket: { name: fixture.settings.bucketName }, object: { key: `chunks/${jobId}/000000.txt` } } }],
    } as unknown as S3Event;
    await fixture.clients.s3.send(
      new (await import("@aws-sdk/client-s3")).PutObjectCommand({
        Bucket: fixture.settings.bucketName,
        Key: `chunks/${jobId}/000000.txt`,
        Body: "stray",
      }),
    );
    const [report] = await deliver(event);
    assert.equal(report.status, "ignored");
    assert.equal(await getJob(fixture.clients.dynamodb, fixture.settings.tableName, jobId), undefined);
  });
});
