/** S3 when an object cannot be kept: memory and uploads go back, so nothing acknowledged differs from the disk. */
import * as assert from "node:assert/strict";
import type { LocalContext } from "../../../local/common/service";
import { completeUpload } from "../../../local/s3/multipart";
import { Bucket, type BucketKeeper, type StoredObject, type UploadedPart } from "../../../local/s3/objectStore";
import type { Request } from "../../../local/s3/request";
import { S3Store } from "../../../local/s3/store";

function object(key: string, text: string): StoredObject {
  return {
    key,
    size: text.length,
    body: Buffer.from(text),
    etag: `"${text}"`,
    lastModified: new Date(),
    contentType: "text/plain",
    metadata: {},
  } as StoredObject;
}

/** A keeper whose saves fail: `synchronously` throws at once (a check before any write), else the promise rejects. */
function failingKeeper(synchronously: boolean): BucketKeeper {
  const failure = new Error("disk full");
  return {
    saved: () => {
      if (synchronously) throw failure;
      return Promise.reject(failure);
    },
    deleted: () => Promise.resolve(),
    read: () => Promise.reject(new Error("nothing is kept")),
    uploadCreated: () => undefined,
    partSaved: () => {
      if (synchronously) throw failure;
      return Promise.reject(failure);
    },
    uploadRemoved: () => undefined,
  };
}

function part(text: string, etag: string): UploadedPart {
  return { etag, size: text.length, lastModified: new Date(), body: Buffer.from(text) };
}

describe("S3: a write that cannot be kept", () => {
  for (const synchronously of [false, true]) {
    it(`puts the previous object back in memory when the keeper ${synchronously ? "throws at once" : "rejects"}`, async () => {
      const bucket = new Bucket("b", new Date(), failingKeeper(synchronously));
      bucket.load(object("k", "kept"));
      await assert.rejects(bucket.put(object("k", "lost")), /disk full/);
      assert.equal((await bucket.read(bucket.get("k"))).toString(), "kept");
      await assert.rejects(bucket.put(object("new", "lost")), /disk full/);
      assert.equal(bucket.objects.has("new"), false);
    });
  }

  it("gives a multipart upload back with its parts when its completion cannot be kept, so the client can complete it again", async () => {
    const s3 = new S3Store({
      origin: "http://127.0.0.1:0",
      region: "us-east-1",
      accountId: "123456789012",
      log: () => undefined,
    } as unknown as LocalContext);
    const bucket = new Bucket("b", new Date(), failingKeeper(false));
    s3.buckets.set("b", bucket);
    const only = part("only part", '"p1"');
    bucket.uploads.set("u1", { uploadId: "u1", key: "big", initiated: new Date(), template: {}, parts: new Map([[1, only]]) } as never);
    const request = {
      method: "POST",
      query: new URLSearchParams({ uploadId: "u1" }),
      headers: {},
      body: Buffer.from('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"p1"</ETag></Part></CompleteMultipartUpload>'),
      requestId: "r1",
      sourceIpAddress: "127.0.0.1",
    } as Request;
    const reply = completeUpload(s3, "b", "big", request);
    await assert.rejects(reply.kept!, /disk full/);
    assert.equal(bucket.uploads.get("u1")?.parts.get(1), only);
    assert.equal(bucket.objects.has("big"), false);
  });

  for (const synchronously of [false, true]) {
    it(`keeps an upload's earlier part when a part uploaded again cannot be kept (keeper ${synchronously ? "throws" : "rejects"})`, async () => {
      const bucket = new Bucket("b", new Date(), failingKeeper(synchronously));
      const upload = { uploadId: "u1", key: "big", initiated: new Date(), template: { contentType: "x", metadata: {} }, parts: new Map() };
      bucket.uploads.set("u1", upload);
      const earlier = part("first try", '"e1"');
      upload.parts.set(1, earlier);
      await assert.rejects(bucket.putPart(upload, 1, part("second try", '"e2"')), /disk full/);
      assert.equal(upload.parts.get(1), earlier);
      await assert.rejects(bucket.putPart(upload, 2, part("new part", '"e3"')), /disk full/);
      assert.equal(upload.parts.has(2), false);
    });
  }
});
