/**
 * The local S3 on a state folder, restarted in-process (the service closed and a new one restored on the same
 * folder, as `npm start` does) and driven by the unmodified AWS SDK v3: contents are read from their files when
 * asked for, not at start, and an object whose content file went missing does not stop the start.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { LocalContext } from "../../../local/common/service";
import { S3Service } from "../../../local/s3/service";
import { SqliteStore } from "../../../local/store/sqliteStore";

const BUCKET = "kept-bucket";

interface Running {
  store: SqliteStore;
  s3: S3Service;
  client: S3Client;
  logs: string[];
  restored: string[];
  stop(): Promise<void>;
}

/** Opens the store in `directory`, restores S3 from it and serves S3 on port 0. */
async function start(directory: string): Promise<Running> {
  const store = SqliteStore.open(directory);
  const logs: string[] = [];
  let origin = "";
  const context = {
    get origin() {
      return origin;
    },
    region: "us-east-1",
    accountId: "123456789012",
    lambda: { invoke: () => Promise.reject(new Error("no functions here")) },
    log: (source: string, line: string) => logs.push(`[${source}] ${line}`),
    store,
  } as unknown as LocalContext;
  const s3 = new S3Service(context);
  const restored = await s3.restore();
  s3.createBucket(BUCKET);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => void s3.handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // One attempt: the SDK retries a 500, and the error is what these tests look at.
  const client = new S3Client({
    endpoint: origin,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
  });
  return {
    store,
    s3,
    client,
    logs,
    restored,
    async stop() {
      client.destroy();
      await s3.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
    },
  };
}

function contentFiles(directory: string): string[] {
  const root = path.join(directory, "files", "s3");
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

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
