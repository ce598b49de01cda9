/**
 * Multipart uploads in progress on a state folder: every acknowledged part is in its own fsynced file named by a
 * committed record, so a restarted S3 carries on with the upload; aborting or completing leaves no part file behind;
 * and the two listings clients use with uploads (ListMultipartUploads, ListParts), with their paging markers.
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { BUCKET, contentFiles, type Running, start } from "./stateFolderServer";

const MiB = 1024 * 1024;

/** `size` bytes that differ from part to part (so a part in the wrong place or a stale part shows). */
function partBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index += 4096) bytes.writeUInt32BE((index * 2654435761 + seed) >>> 0, index);
  return bytes;
}

const md5 = (data: Buffer) => createHash("md5").update(data).digest("hex");

describe("local S3 multipart uploads on a state folder", function () {
  this.timeout(30_000);
  let directory: string;
  let running: Running | undefined;

  beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3-multipart-"))));
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    fs.rmSync(directory, { recursive: true, force: true });
  });

  /** Stops the running S3 (if any) and starts it again on the same folder; a failing test still stops it in afterEach. */
  async function restart(): Promise<Running> {
    const stopping = running;
    running = undefined;
    await stopping?.stop();
    running = await start(directory);
    return running;
  }

  /** The part files under the bucket's uploads folder (removals run once their commit is done: give them a moment). */
  async function partFiles(): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return contentFiles(directory).filter((file) => file.includes(`${path.sep}uploads${path.sep}`));
  }

  async function createUpload(client: Running["client"], key: string): Promise<string> {
    return (await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: "application/x-test" }))).UploadId!;
  }

  async function uploadPart(client: Running["client"], key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    return (await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body })))
      .ETag!;
  }

  it("keeps an acknowledged part across a restart: the next start completes the upload with the ETags given before, with the right bytes", async () => {
    const first = await restart();
    const uploadId = await createUpload(first.client, "big.bin");
    const partOne = partBytes(5 * MiB, 1);
    const etagOne = await uploadPart(first.client, "big.bin", uploadId, 1, partOne);

    running = await restart();
    assert.deepEqual(running.restored, ["1 S3 multipart upload in progress"]);
    const partTwo = partBytes(3 * 1024, 2);
    const etagTwo = await uploadPart(running.client, "big.bin", uploadId, 2, partTwo);
    const done = await running.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "big.bin",
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: etagOne },
            { PartNumber: 2, ETag: etagTwo },
          ],
        },
      }),
    );
    assert.match(done.ETag!, /-2"$/);
    const object = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big.bin" }));
    assert.equal(object.ContentType, "application/x-test");
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(md5(bytes), md5(Buffer.concat([partOne, partTwo])));
    assert.deepEqual(await partFiles(), [], "the completed upload's part files are removed");
    await assert.rejects(running.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "big.bin", UploadId: uploadId })), {
      name: "NoSuchUpload",
    });

    // The completion is kept too: after another restart the object is there and the upload is not.
    running = await restart();
    assert.deepEqual(running.restored, ["1 S3 object"]);
    const again = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big.bin" }));
    assert.equal(md5(Buffer.from(await again.Body!.transformToByteArray())), md5(Buffer.concat([partOne, partTwo])));
  });

  it("removes an aborted upload's record and every part file, so a restart knows nothing of it", async () => {
    const first = await restart();
    const uploadId = await createUpload(first.client, "gone.bin");
    await uploadPart(first.client, "gone.bin", uploadId, 1, partBytes(64 * 1024, 1));
    await uploadPart(first.client, "gone.bin", uploadId, 2, partBytes(64 * 1024, 2));
    assert.equal((await partFiles()).length, 2, "each acknowledged part is in a file");
    await first.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "gone.bin", UploadId: uploadId }));
    assert.deepEqual(await partFiles(), []);

    running = await restart();
    assert.deepEqual(running.restored, []);
    assert.deepEqual((await running.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
    await assert.rejects(uploadPart(running.client, "gone.bin", uploadId, 3, Buffer.from("late")), { name: "NoSuchUpload" });
  });

  it("replaces a part uploaded again: its earlier file is removed, and the upload completes with the new bytes", async () => {
    running = await start(directory);
    const uploadId = await createUpload(running.client, "redo.bin");
    await uploadPart(running.client, "redo.bin", uploadId, 1, Buffer.from("first attempt"));
    const [earlierFile] = await partFiles();
    const etag = await uploadPart(running.client, "redo.bin", uploadId, 1, Buffer.from("second attempt"));
    const files = await partFiles();
    assert.equal(files.length, 1);
    assert.notEqual(files[0], earlierFile);
    assert.equal(fs.readFileSync(files[0], "utf8"), "second attempt");

    running = await restart();
    const parts = await running.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "redo.bin", UploadId: uploadId }));
    assert.deepEqual(
      parts.Parts?.map(({ PartNumber, ETag, Size }) => ({ PartNumber, ETag, Size })),
      [{ PartNumber: 1, ETag: etag, Size: "second attempt".length }],
    );
    await running.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "redo.bin",
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
      }),
    );
    const object = await running.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "redo.bin" }));
    assert.equal(await object.Body!.transformToString(), "second attempt");
  });

  it("answers InternalError naming a part file removed by hand when completing, and keeps the upload and no object", async () => {
    running = await start(directory);
    const uploadId = await createUpload(running.client, "lost.bin");
    const etag = await uploadPart(running.client, "lost.bin", uploadId, 1, Buffer.from("lost part"));
    const [partFile] = await partFiles();
    fs.rmSync(partFile);
    await assert.rejects(
      running.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "lost.bin",
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etag }] },
        }),
      ),
      (error: Error) => {
        assert.equal(error.name, "InternalError");
        assert.ok(
          error.message.includes(`A part of this upload is missing from the state folder: ${partFile} does not exist`),
          error.message,
        );
        return true;
      },
    );
    const parts = await running.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "lost.bin", UploadId: uploadId }));
    assert.deepEqual(
      parts.Parts?.map((part) => part.ETag),
      [etag],
    );
    await assert.rejects(running.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "lost.bin" })), { name: "NotFound" });
    assert.deepEqual(
      contentFiles(directory).filter((file) => !file.includes(`${path.sep}uploads${path.sep}`)),
      [],
      "no half-joined object file is left",
    );
  });

  it("answers 500 to a part whose file cannot be written, and the upload keeps the part it had, before and after a restart", async () => {
    running = await start(directory);
    const uploadId = await createUpload(running.client, "safe.bin");
    const etag = await uploadPart(running.client, "safe.bin", uploadId, 1, Buffer.from("kept part"));
    // The parts' folder becomes a file for a moment: creating the new part's file fails with ENOTDIR.
    const [keptFile] = await partFiles();
    const folder = path.dirname(keptFile);
    fs.renameSync(folder, `${folder}.aside`);
    fs.writeFileSync(folder, "not a folder");
    const failure = await uploadPart(running.client, "safe.bin", uploadId, 1, Buffer.from("lost part")).then(
      () => assert.fail("the part was acknowledged though its file could not be written"),
      (error: { name: string; $metadata: { httpStatusCode?: number } }) => error,
    );
    assert.equal(failure.name, "InternalError");
    assert.equal(failure.$metadata.httpStatusCode, 500);
    fs.rmSync(folder);
    fs.renameSync(`${folder}.aside`, folder);

    const listed = async () =>
      (await running!.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "safe.bin", UploadId: uploadId }))).Parts?.map(
        (part) => part.ETag,
      );
    assert.deepEqual(await listed(), [etag]);
    running = await restart();
    assert.deepEqual(await listed(), [etag]);
    assert.deepEqual(await partFiles(), [keptFile]);
  });

  it("deletes a bucket whose only content is uploads in progress, as S3 does, and their parts with it", async () => {
    running = await start(directory);
    const uploadId = await createUpload(running.client, "pending.bin");
    await uploadPart(running.client, "pending.bin", uploadId, 1, Buffer.from("pending"));
    assert.equal((await partFiles()).length, 1);
    await running.client.send(new DeleteBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(running.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET })), { name: "NoSuchBucket" });
    assert.deepEqual(await partFiles(), [], "the parts' files go with the bucket, not at the next start");
    // The test server makes the bucket again at start: an empty one, without the old upload or its file.
    running = await restart();
    assert.deepEqual(running.restored, []);
    assert.deepEqual((await running.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [], []);
    assert.deepEqual(await partFiles(), []);
  });

  it("refuses UploadPartCopy with 501 NotImplemented rather than keeping an empty part", async () => {
    running = await restart();
    const uploadId = await createUpload(running.client, "copied.bin");
    await assert.rejects(
      running.client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: "copied.bin",
          UploadId: uploadId,
          PartNumber: 1,
          CopySource: `${BUCKET}/any.bin`,
        }),
      ),
      { name: "NotImplemented" },
    );
    const parts = await running.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "copied.bin", UploadId: uploadId }));
    assert.deepEqual(parts.Parts ?? [], []);
  });

  describe("listings", () => {
    it("lists uploads by key, then by initiation, a page at a time with NextKeyMarker and NextUploadIdMarker", async () => {
      running = await start(directory);
      const client = running.client;
      const first = await createUpload(client, "b.bin");
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await createUpload(client, "b.bin");
      const other = await createUpload(client, "a.bin");
      const later = await createUpload(client, "c.bin");
      const expected = [
        ["a.bin", other],
        ["b.bin", first],
        ["b.bin", second],
        ["c.bin", later],
      ];

      const seen: string[][] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (let page = 0; page < 5; page++) {
        const listing = await client.send(
          new ListMultipartUploadsCommand({ Bucket: BUCKET, MaxUploads: 3, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        assert.equal(listing.MaxUploads, 3);
        for (const upload of listing.Uploads ?? []) {
          seen.push([upload.Key!, upload.UploadId!]);
          assert.equal(upload.StorageClass, "STANDARD");
          assert.ok(upload.Initiated instanceof Date && upload.Owner?.ID && upload.Initiator?.ID);
        }
        if (!listing.IsTruncated) break;
        assert.deepEqual([listing.NextKeyMarker, listing.NextUploadIdMarker], seen[seen.length - 1]);
        ({ NextKeyMarker: keyMarker, NextUploadIdMarker: uploadIdMarker } = listing);
      }
      assert.deepEqual(seen, expected);

      // A key-marker alone starts after every upload of that key.
      const afterB = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, KeyMarker: "b.bin" }));
      assert.deepEqual(
        afterB.Uploads?.map((upload) => upload.Key),
        ["c.bin"],
      );
      const prefixed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "b" }));
      assert.deepEqual(
        prefixed.Uploads?.map((upload) => upload.UploadId),
        [first, second],
      );
    });

    it("rolls keys up into CommonPrefixes with a delimiter, from the first page on and after a returned prefix", async () => {
      running = await start(directory);
      const client = running.client;
      const top = await createUpload(client, "top.bin");
      await createUpload(client, "docs/one.bin");
      await createUpload(client, "docs/two.bin");
      const first = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Delimiter: "/" }));
      assert.deepEqual(
        first.CommonPrefixes?.map((common) => common.Prefix),
        ["docs/"],
      );
      assert.deepEqual(
        first.Uploads?.map((upload) => upload.UploadId),
        [top],
      );
      // Resuming after the prefix a page ended on skips the keys under it.
      const resumed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Delimiter: "/", KeyMarker: "docs/" }));
      assert.deepEqual(resumed.CommonPrefixes ?? [], []);
      assert.deepEqual(
        resumed.Uploads?.map((upload) => upload.Key),
        ["top.bin"],
      );
    });

    it("lists an upload's parts in number order, a page at a time with NextPartNumberMarker, and refuses a bad max-parts", async () => {
      running = await start(directory);
      const client = running.client;
      const uploadId = await createUpload(client, "parts.bin");
      const etags = new Map<number, string>();
      for (const partNumber of [3, 1, 7, 2])
        etags.set(partNumber, await uploadPart(client, "parts.bin", uploadId, partNumber, partBytes(100 + partNumber, partNumber)));

      const pages: number[][] = [];
      let marker: string | undefined;
      for (let page = 0; page < 5; page++) {
        const listing = await client.send(
          new ListPartsCommand({ Bucket: BUCKET, Key: "parts.bin", UploadId: uploadId, MaxParts: 3, PartNumberMarker: marker }),
        );
        assert.equal(listing.MaxParts, 3);
        assert.equal(listing.UploadId, uploadId);
        pages.push(listing.Parts!.map((part) => part.PartNumber!));
        for (const part of listing.Parts!) {
          assert.equal(part.ETag, etags.get(part.PartNumber!));
          assert.equal(part.Size, 100 + part.PartNumber!);
          assert.ok(part.LastModified instanceof Date);
        }
        if (!listing.IsTruncated) break;
        assert.equal(listing.NextPartNumberMarker, String(pages[pages.length - 1].at(-1)));
        marker = listing.NextPartNumberMarker;
      }
      assert.deepEqual(pages, [[1, 2, 3], [7]]);

      await assert.rejects(client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "parts.bin", UploadId: uploadId, MaxParts: -1 })), {
        name: "InvalidArgument",
        message: "Argument max-parts must be an integer between 0 and 2147483647",
      });
      await assert.rejects(client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "parts.bin", UploadId: "no-such-upload" })), {
        name: "NoSuchUpload",
      });
      await assert.rejects(client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "other.bin", UploadId: uploadId })), {
        name: "NoSuchUpload",
      });
    });
  });
});
