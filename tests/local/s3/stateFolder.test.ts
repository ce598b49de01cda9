/**
 * The local S3 on a state folder, restarted in-process (the service closed and a new one restored on the same
 * folder, as `npm start` does) and driven by the unmodified AWS SDK v3: contents are read from their files when
 * asked for, not at start, and an object whose content file went missing does not stop the start.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { BUCKET, contentFiles, type Running, start } from "./stateFolderServer";

describe("local S3 on a state folder, across restarts", function () {
  this.timeout(30_000);
  let directory: string;
  let running: Running | undefined;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3-state-folder-"))));
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    fs.rmSync(directory, { recursive: true, force: true });
  });

  async function putTwoObjects(): Promise<void> {
    const first = await start(directory);
    await first.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt", Body: "alpha content", Metadata: { owner: "me" } }));
    await first.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "docs/b.txt", Body: "bravo content" }));
    await first.stop();
  }

  it("holds no object content in memory after a start, and reads each body (whole or a range) from its file when asked", async () => {
    await putTwoObjects();
    running = await start(directory);
    assert.deepEqual(running.restored, ["2 S3 objects"]);
    assert.deepEqual(running.s3.contentsInMemory(), { bodies: 0, recentBytes: 0 });

    const whole = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt" }));
    assert.equal(await whole.Body!.transformToString(), "alpha content");
    assert.deepEqual(whole.Metadata, { owner: "me" });
    const range = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "docs/b.txt", Range: "bytes=6-12" }));
    assert.equal(await range.Body!.transformToString(), "content");
    assert.equal(range.ContentRange, "bytes 6-12/13");
    assert.deepEqual(running.s3.contentsInMemory(), { bodies: 0, recentBytes: 0 }, "a read keeps nothing in memory");
  });

  it("lets go of a new object's content once it is kept, and still serves it and its copies", async () => {
    running = await start(directory);
    await running.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "new.txt", Body: "fresh" }));
    assert.equal(running.s3.contentsInMemory().bodies, 0);
    await running.client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy.txt", CopySource: `${BUCKET}/new.txt` }));
    assert.equal(running.s3.contentsInMemory().bodies, 0);
    const copy = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "copy.txt" }));
    assert.equal(await copy.Body!.transformToString(), "fresh");
  });

  it("starts when a content file is missing: logs bucket, key and file, serves Head and List, answers GetObject 500 InternalError naming the file, and DeleteObject removes it", async () => {
    await putTwoObjects();
    const [lost, kept] = contentFiles(directory)
      .map((file) => ({ file, content: fs.readFileSync(file, "utf8") }))
      .sort((left, right) => left.content.localeCompare(right.content));
    assert.equal(lost.content, "alpha content");
    fs.rmSync(lost.file);

    running = await start(directory);
    assert.deepEqual(running.restored, ["2 S3 objects"]);
    const missingLines = running.logs.filter((line) => line.includes("missing"));
    assert.equal(missingLines.length, 1);
    assert.ok(missingLines[0].includes(`bucket ${BUCKET}`) && missingLines[0].includes('key "docs/a.txt"'), missingLines[0]);
    assert.ok(missingLines[0].includes(lost.file), missingLines[0]);

    const head = await running.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt" }));
    assert.equal(head.ContentLength, "alpha content".length);
    const listed = await running.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(
      listed.Contents?.map(({ Key, Size }) => [Key, Size]),
      [
        ["docs/a.txt", 13],
        ["docs/b.txt", 13],
      ],
    );
    const failure = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt" })).then(
      () => assert.fail("GetObject of a missing content file succeeded"),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
    );
    assert.equal(failure.name, "InternalError");
    assert.equal(failure.$metadata?.httpStatusCode, 500);
    assert.match(failure.message, /missing from the state folder/);
    assert.ok(failure.message.includes(lost.file), failure.message);
    await assert.rejects(
      running.client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copied.txt", CopySource: `${BUCKET}/docs/a.txt` })),
      { name: "InternalError" },
    );
    await assert.rejects(running.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copied.txt" })), { name: "NotFound" });
    const other = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "docs/b.txt" }));
    assert.equal(await other.Body!.transformToString(), kept.content);

    await running.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt" }));
    await assert.rejects(running.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "docs/a.txt" })), { name: "NotFound" });
    await running.stop();

    running = await start(directory);
    assert.deepEqual(running.restored, ["1 S3 object"]);
    assert.equal(running.logs.filter((line) => line.includes("missing")).length, 0, "the deleted record is gone for good");
  });
  it("names the first 10 missing content files one by one and then gives the count, so a removed files folder does not flood the log", async () => {
    const first = await start(directory);
    for (let index = 0; index < 12; index++) {
      await first.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `many/${index}.txt`, Body: `content ${index}` }));
    }
    await first.stop();
    fs.rmSync(path.join(directory, "files", "s3"), { recursive: true });

    running = await start(directory);
    assert.deepEqual(running.restored, ["12 S3 objects"]);
    const missingLines = running.logs.filter((line) => line.includes("missing from the state folder"));
    assert.equal(missingLines.length, 11, missingLines.join("\n"));
    assert.equal(missingLines.filter((line) => line.includes("content file missing from the state folder: bucket")).length, 10);
    assert.match(missingLines[10], /12 objects in all \(the first 10 above\)/);
    await assert.rejects(running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "many/11.txt" })), { name: "InternalError" });
  });
});
