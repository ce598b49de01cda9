/**
 * What IAM authorizes for an S3 request is exactly the object S3 acts on: both read bucket and key from the raw
 * request target, where "." and ".." are parts of a literal key, never path steps to resolve.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describeRequest, type ResourceDirectory } from "../../../local/iam/operations";
import { parseRequest } from "../../../local/s3/request";
import { copySourceTarget } from "../../../local/s3/target";

const DIRECTORY: ResourceDirectory = { region: "us-east-1", accountId: "123456789012", executionArnOfToken: () => undefined };

function request(method: string, target: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method, url: target, headers, socket: {} } as unknown as IncomingMessage;
}

function authorized(req: IncomingMessage) {
  return describeRequest("s3", req, new URL(req.url!, "http://127.0.0.1"), Buffer.alloc(0), DIRECTORY)?.calls;
}

describe("local IAM: the S3 object a request names", () => {
  for (const target of ["/bkt/other/../chunks/x.txt", "/public/../private/x", "/bkt/./a", "/bkt/%2e%2e/b"]) {
    it(`authorizes ${target} on the bucket and literal key S3 writes to`, () => {
      const req = request("PUT", target);
      const served = parseRequest(req, Buffer.alloc(0), "test");
      assert.deepEqual(authorized(req), [{ action: "s3:PutObject", resource: `arn:aws:s3:::${served.bucketName}/${served.key}` }]);
    });
  }

  it("still checks the write when the copy source is not valid percent-encoding (S3 then refuses the header)", () => {
    const req = request("PUT", "/bkt/target.txt", { "x-amz-copy-source": "/bkt/%E0%A4%A" });
    assert.deepEqual(authorized(req), [{ action: "s3:PutObject", resource: "arn:aws:s3:::bkt/target.txt" }]);
  });

  it('authorizes reading the very object a copy source names, a literal "?" in its key included, without its versionId', () => {
    for (const [header, object] of [
      ["src/report?.txt", "src/report?.txt"],
      ["/src/report%3F.txt?versionId=3", "src/report?.txt"],
      ["src/a%20b/c.txt", "src/a b/c.txt"],
    ]) {
      const req = request("PUT", "/bkt/target.txt", { "x-amz-copy-source": header });
      assert.deepEqual(authorized(req), [
        { action: "s3:PutObject", resource: "arn:aws:s3:::bkt/target.txt" },
        { action: "s3:GetObject", resource: `arn:aws:s3:::${object}` },
      ]);
      assert.deepEqual(copySourceTarget(header), { bucket: "src", key: object.slice("src/".length) });
    }
  });

  it("authorizes the multipart listings as s3:ListBucketMultipartUploads on the bucket and s3:ListMultipartUploadParts on the object", () => {
    assert.deepEqual(authorized(request("GET", "/bkt?uploads&max-uploads=2")), [
      { action: "s3:ListBucketMultipartUploads", resource: "arn:aws:s3:::bkt", context: undefined },
    ]);
    assert.deepEqual(authorized(request("GET", "/bkt/big/file.bin?uploadId=abc&max-parts=5")), [
      { action: "s3:ListMultipartUploadParts", resource: "arn:aws:s3:::bkt/big/file.bin" },
    ]);
    assert.deepEqual(authorized(request("DELETE", "/bkt/big/file.bin?uploadId=abc")), [
      { action: "s3:AbortMultipartUpload", resource: "arn:aws:s3:::bkt/big/file.bin" },
    ]);
  });
});
