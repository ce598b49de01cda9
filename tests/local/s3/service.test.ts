/**
 * The local S3 driven by the unmodified AWS SDK v3 (default settings) over HTTP: upload framing and integrity
 * checks, the REST operations the pipeline and the AWS CLI use, AWS's error codes, and event notifications as
 * declared by a BucketNotification.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { IncomingHttpHeaders } from "node:http";
import { type LocalAws, startLocalAws } from "../../pipeline/localAws";
import { declaredResource } from "../../pipeline/fixtures";
import { S3Service } from "../../../local/s3/service";
import { encodeEventKey } from "../../../local/s3/eventNotifications";
import { decodeEventKey } from "../../../handlers/pipeline/storage";

const BUCKET = "local-s3-test";
const FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-upload";

/** Bucket, function, permission and notification declarations, as a program would make them. */
function declarations(lambdaFunctions: Record<string, unknown>[], permission = true) {
  return [
    declaredResource("aws:s3/bucket:Bucket", "uploads", BUCKET, {}, { bucket: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }),
    declaredResource("aws:lambda/function:Function", "on-upload", "on-upload", {}, { arn: FUNCTION_ARN, name: "on-upload" }),
    ...(permission
      ? [
          declaredResource("aws:lambda/permission:Permission", "on-upload-s3", "s3", {
            action: "lambda:InvokeFunction",
            principal: "s3.amazonaws.com",
            function: "on-upload",
            sourceArn: `arn:aws:s3:::${BUCKET}`,
          }),
        ]
      : []),
    declaredResource("aws:s3/bucketNotification:BucketNotification", "uploads-notification", BUCKET, { bucket: BUCKET, lambdaFunctions }),
  ];
}

describe("local S3", function () {
  this.timeout(30_000);
  let aws: LocalAws;
  let s3: S3Client;
  const requestHeaders: IncomingHttpHeaders[] = [];

  before(async () => {
    aws = await startLocalAws();
    const all = declarations([
      {
        events: ["s3:ObjectCreated:*"],
        filterPrefix: "incoming/",
        filterSuffix: ".txt",
        lambdaFunctionArn: FUNCTION_ARN,
        id: "incoming-text",
      },
      { events: ["s3:ObjectRemoved:Delete"], filterPrefix: "removed/", lambdaFunctionArn: FUNCTION_ARN, id: "removals" },
    ]);
    for (const resource of all) if (aws.s3.resourceTypes.includes(resource.type as never)) await aws.s3.provision(resource, all);
    const handle = aws.s3.handle.bind(aws.s3);
    aws.s3.handle = (req, res, body) => {
      requestHeaders.push(req.headers);
      return handle(req, res, body);
    };
    s3 = aws.s3Client();
  });
  after(async () => aws?.close());
  beforeEach(() => {
    requestHeaders.length = 0;
    aws.invocations.length = 0;
  });

  const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

  describe("uploads", () => {
    it("stores a streamed upload byte for byte: the SDK's aws-chunked framing is decoded, not stored", async () => {
      const body = Buffer.concat([Buffer.from("first part\n"), Buffer.alloc(70_000, "x"), Buffer.from("\nlast")]);
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: "streamed.bin",
          Body: Readable.from([body.subarray(0, 30_000), body.subarray(30_000)]),
          ContentLength: body.length,
        }),
      );
      const upload = requestHeaders.find((headers) => headers["x-amz-decoded-content-length"]);
      assert.ok(upload, "the SDK sent the stream aws-chunked (x-amz-decoded-content-length present)");
      assert.match(String(upload["content-encoding"]), /aws-chunked/);
      const stored = Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "streamed.bin" }))).Body!.transformToByteArray(),
      );
      assert.ok(stored.equals(body), `stored ${stored.length} bytes, sent ${body.length}`);
    });

    it("answers ETag as the quoted MD5 of the content and returns the CRC32 it was given", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hello.txt", Body: "hello world" }));
      assert.equal(put.ETag, `"${createHash("md5").update("hello world").digest("hex")}"`);
      const expectedCrc = Buffer.alloc(4);
      expectedCrc.writeUInt32BE(crc32("hello world"));
      assert.equal(put.ChecksumCRC32, expectedCrc.toString("base64"));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "hello.txt", ChecksumMode: "ENABLED" }));
      assert.equal(head.ContentLength, 11);
      assert.equal(head.ChecksumCRC32, expectedCrc.toString("base64"));
    });

    it("decodes a signed aws-chunked body (chunk signatures) and checks its CRC32 trailer", async () => {
      const payload = Buffer.from("signed streaming payload");
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(payload));
      const framed = (trailerValue: string) =>
        Buffer.concat([
          Buffer.from(`10;chunk-signature=${"a".repeat(64)}\r\n`),
          payload.subarray(0, 16),
          Buffer.from(`\r\n8;chunk-signature=${"b".repeat(64)}\r\n`),
          payload.subarray(16),
          Buffer.from(`\r\n0;chunk-signature=${"c".repeat(64)}\r\nx-amz-checksum-crc32:${trailerValue}\r\n\r\n`),
        ]);
      const send = (body: Buffer, decodedLength = payload.length) =>
        fetch(`${aws.origin}/${BUCKET}/framed.txt`, {
          method: "PUT",
          headers: {
            authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
            "content-encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": String(decodedLength),
            "x-amz-trailer": "x-amz-checksum-crc32",
          },
          body,
        });
      assert.equal((await send(framed(crc.toString("base64")))).status, 200);
      assert.equal(await text("framed.txt"), "signed streaming payload");
      const badDigest = await send(framed("AAAAAA=="));
      assert.equal(badDigest.status, 400);
      assert.match(
        await badDigest.text(),
        /<Code>BadDigest<\/Code><Message>The CRC32 you specified did not match the calculated checksum\.<\/Message>/,
      );
      const short = await send(framed(crc.toString("base64")), payload.length + 1);
      assert.match(await short.text(), /<Code>IncompleteBody<\/Code>/);
    });

    it("rejects a Content-MD5 that does not match the body with BadDigest", async () => {
      await assert.rejects(
        s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: "md5.txt",
            Body: "content",
            ContentMD5: createHash("md5").update("other").digest("base64"),
          }),
        ),
        (error: Error) => error.name === "BadDigest",
      );
    });

    it("honours If-None-Match: * (conditional create) with PreconditionFailed", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "once.txt", Body: "1", IfNoneMatch: "*" }));
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "once.txt", Body: "2", IfNoneMatch: "*" })),
        (error: Error) => error.name === "PreconditionFailed",
      );
      assert.equal(await text("once.txt"), "1");
    });

    it("assembles a multipart upload with S3's multipart ETag, and refuses parts under 5 MiB but the last", async () => {
      const partOne = Buffer.alloc(5 * 1024 * 1024, "a");
      const partTwo = Buffer.from("tail");
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "big.bin" }));
      const one = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: "big.bin", UploadId, PartNumber: 1, Body: partOne }));
      const two = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: "big.bin", UploadId, PartNumber: 2, Body: partTwo }));
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "big.bin",
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: one.ETag },
              { PartNumber: 2, ETag: two.ETag },
            ],
          },
        }),
      );
      const md5 = (data: Buffer) => createHash("md5").update(data).digest();
      assert.equal(
        done.ETag,
        `"${createHash("md5")
          .update(Buffer.concat([md5(partOne), md5(partTwo)]))
          .digest("hex")}-2"`,
      );
      assert.equal(
        (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "big.bin" }))).ContentLength,
        partOne.length + partTwo.length,
      );

      const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "small.bin" }));
      const a = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: "small.bin", UploadId: small.UploadId, PartNumber: 1, Body: "a" }),
      );
      const b = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: "small.bin", UploadId: small.UploadId, PartNumber: 2, Body: "b" }),
      );
      await assert.rejects(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "small.bin",
            UploadId: small.UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: a.ETag },
                { PartNumber: 2, ETag: b.ETag },
              ],
            },
          }),
        ),
        (error: Error) => error.name === "EntityTooSmall",
      );
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "small.bin", UploadId: small.UploadId }));
      await assert.rejects(
        s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: "small.bin", UploadId: small.UploadId, PartNumber: 3, Body: "c" })),
        (error: Error) => error.name === "NoSuchUpload",
      );
    });
  });

  describe("reads and listings", () => {
    before(async () => {
      for (const key of ["list/a.txt", "list/b/1.txt", "list/b/2.txt", "list/c d.txt", "list/e.txt"])
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    });

    it("answers a missing key with NoSuchKey, a missing key's HEAD with 404, and a missing bucket with NoSuchBucket", async () => {
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "nope" })), (error: Error) => error.name === "NoSuchKey");
      await assert.rejects(
        s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "nope" })),
        (error: any) => error.$metadata.httpStatusCode === 404,
      );
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })),
        (error: Error) => error.name === "NoSuchBucket",
      );
    });

    it("serves a byte range with 206 and Content-Range", async () => {
      const ranged = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "list/e.txt", Range: "bytes=5-7" }));
      assert.equal(ranged.ContentRange, "bytes 5-7/10");
      assert.equal(await ranged.Body!.transformToString(), "e.t");
    });

    it("lists in key order with common prefixes, and pages with continuation tokens without repeats", async () => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "list/", Delimiter: "/" }));
      assert.deepEqual(
        listed.Contents?.map((object) => object.Key),
        ["list/a.txt", "list/c d.txt", "list/e.txt"],
      );
      assert.deepEqual(
        listed.CommonPrefixes?.map((prefix) => prefix.Prefix),
        ["list/b/"],
      );
      assert.equal(listed.KeyCount, 4);

      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "list/", Delimiter: "/", MaxKeys: 2, ContinuationToken: token }),
        );
        pages.push([...(page.Contents ?? []).map((object) => object.Key!), ...(page.CommonPrefixes ?? []).map((prefix) => prefix.Prefix!)]);
        token = page.NextContinuationToken;
        assert.equal(page.IsTruncated, token !== undefined);
      } while (token);
      assert.deepEqual(pages, [
        ["list/a.txt", "list/b/"],
        ["list/c d.txt", "list/e.txt"],
      ]);
    });

    it("resumes after a key that ends with the delimiter without skipping the keys under it", async () => {
      for (const key of ["edge/a/", "edge/a/b", "edge/a/c"]) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" }));
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "edge/a/", Delimiter: "/", MaxKeys: 1, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        token = page.NextContinuationToken;
      } while (token);
      assert.deepEqual(keys, ["edge/a/", "edge/a/b", "edge/a/c"]);
      await assert.rejects(
        s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: "not-a-token" })),
        (error: Error) => error.name === "InvalidArgument",
      );
    });

    it("URL-encodes keys in listings when asked (encoding-type=url), as the AWS CLI asks", async () => {
      const response = await fetch(`${aws.origin}/${BUCKET}?list-type=2&prefix=list/c&encoding-type=url`, {
        headers: { authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x" },
      });
      const xml = await response.text();
      assert.match(xml, /<Key>list\/c%20d\.txt<\/Key>/);
      assert.match(xml, /<EncodingType>url<\/EncodingType>/);
    });

    it("answers an operation it does not emulate with 501 NotImplemented naming it", async () => {
      await assert.rejects(
        s3.send(new GetBucketVersioningCommand({ Bucket: BUCKET })),
        (error: any) => error.name === "NotImplemented" && /"versioning" sub-resource/.test(error.message),
      );
    });
  });

  describe("event notifications", () => {
    const recordsOf = async () => {
      await aws.s3.drainNotifications();
      return aws.invocations.map((invocation) => ({
        functionName: invocation.functionName,
        type: invocation.invocationType,
        record: JSON.parse(invocation.payload).Records[0],
      }));
    };

    it("sends an S3-shaped ObjectCreated:Put record, key form-urlencoded as S3 sends it, as an Event invocation", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "incoming/my report+v2 é.txt", Body: "twelve bytes" }));
      const [delivery] = await recordsOf();
      assert.equal(delivery.functionName, FUNCTION_ARN);
      assert.equal(delivery.type, "Event");
      const { record } = delivery;
      assert.equal(record.eventVersion, "2.1");
      assert.equal(record.eventSource, "aws:s3");
      assert.equal(record.awsRegion, "us-east-1");
      assert.equal(record.eventName, "ObjectCreated:Put");
      assert.ok(!Number.isNaN(Date.parse(record.eventTime)));
      assert.equal(record.s3.configurationId, "incoming-text");
      assert.deepEqual(record.s3.bucket, { name: BUCKET, ownerIdentity: record.s3.bucket.ownerIdentity, arn: `arn:aws:s3:::${BUCKET}` });
      assert.equal(record.s3.object.key, "incoming/my+report%2Bv2+%C3%A9.txt");
      assert.equal(record.s3.object.size, 12);
      assert.equal(record.s3.object.eTag, put.ETag!.replace(/"/g, ""));
      assert.match(record.s3.object.sequencer, /^[0-9A-F]+$/);
    });

    it("gives later events on a key larger sequencers", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "incoming/seq.txt", Body: "1" }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "incoming/seq.txt", Body: "2" }));
      const [first, second] = (await recordsOf()).map((delivery) => delivery.record.s3.object.sequencer);
      assert.ok(second > first, `${second} > ${first}`);
    });

    it("applies the prefix and suffix filters to the key", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "incoming/image.png", Body: "x" }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "elsewhere/note.txt", Body: "x" }));
      assert.deepEqual(await recordsOf(), []);
    });

    it("matches copies with s3:ObjectCreated:* and deletions only where ObjectRemoved is configured", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "removed/a.txt", Body: "x" }));
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "incoming/copy.txt", CopySource: `${BUCKET}/removed/a.txt` }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "removed/a.txt" }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "removed/never-existed.txt" }));
      await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "incoming/copy.txt" }] } }));
      const deliveries = await recordsOf();
      assert.deepEqual(
        deliveries.map((delivery) => [delivery.record.eventName, delivery.record.s3.object.key, delivery.record.s3.configurationId]),
        [
          ["ObjectCreated:Copy", "incoming/copy.txt", "incoming-text"],
          ["ObjectRemoved:Delete", "removed/a.txt", "removals"],
        ],
      );
    });

    it("refuses a notification to a function S3 may not invoke, as S3 does when the configuration is written", async () => {
      const service = new S3Service({
        origin: aws.origin,
        region: "us-east-1",
        accountId: "123456789012",
        lambda: { invoke: async () => ({ statusCode: 202, payload: "", executedVersion: "$LATEST", requestId: "r" }) },
        log: () => undefined,
      });
      const all = declarations([{ events: ["s3:ObjectCreated:*"], lambdaFunctionArn: FUNCTION_ARN }], false);
      for (const resource of all.slice(0, -1))
        if (service.resourceTypes.includes(resource.type as never)) await service.provision(resource, all);
      await assert.rejects(
        service.provision(all[all.length - 1], all),
        /^Error: Unable to validate the following destination configurations: bucket local-s3-test notifies arn:aws:lambda:us-east-1:123456789012:function:on-upload, but no aws\.lambda\.Permission lets s3\.amazonaws\.com invoke it/,
      );
    });

    it("refuses overlapping configurations that share an event type, as S3 does", async () => {
      const service = new S3Service({
        origin: aws.origin,
        region: "us-east-1",
        accountId: "123456789012",
        lambda: { invoke: async () => ({ statusCode: 202, payload: "", executedVersion: "$LATEST", requestId: "r" }) },
        log: () => undefined,
      });
      const all = declarations([
        { events: ["s3:ObjectCreated:*"], filterPrefix: "a/", lambdaFunctionArn: FUNCTION_ARN, id: "one" },
        { events: ["s3:ObjectCreated:Put"], filterPrefix: "a/b/", lambdaFunctionArn: FUNCTION_ARN, id: "two" },
      ]);
      for (const resource of all.slice(0, -1))
        if (service.resourceTypes.includes(resource.type as never)) await service.provision(resource, all);
      await assert.rejects(
        service.provision(all[all.length - 1], all),
        /Configurations overlap\. Configurations on the same bucket cannot share a common event type \(one and two\)\./,
      );
    });
  });

  it("encodes event keys like S3: spaces as +, non-ASCII and reserved characters percent-encoded, slashes kept", () => {
    assert.equal(encodeEventKey("a b/c+d/é(1).txt"), "a+b/c%2Bd/%C3%A9%281%29.txt");
  });

  it("encodes event keys so the handlers' decoding gives the original key back", () => {
    for (const key of ["chunks/plain.txt", "a b/c+d/é(1).txt", "100% done & more?.txt", "日本/語 #1.txt"])
      assert.equal(decodeEventKey(encodeEventKey(key)), key);
  });
});
