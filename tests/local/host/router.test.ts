import * as assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isSigned, signingNameOf } from "../../../local/common/sigv4";
import { Router } from "../../../local/host/router";
import type { LocalService } from "../../../local/common/service";

function request(headers: Record<string, string>, path = "/"): { req: IncomingMessage; url: URL } {
  const lowered = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { req: { headers: lowered, url: path, method: "POST" } as unknown as IncomingMessage, url: new URL(path, "http://local") };
}

function service(...signingNames: string[]): LocalService {
  return {
    signingNames,
    resourceTypes: [],
    provision: async () => undefined,
    deprovision: async () => undefined,
    handle: async (_req: IncomingMessage, _res: ServerResponse) => undefined,
    close: async () => undefined,
  };
}

const authorization = (scope: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/${scope}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123`;

describe("origin router", () => {
  const states = service("states");
  const lambda = service("lambda");
  const s3 = service("s3");
  const router = new Router([states, lambda, s3]);

  it("reads the service from the SigV4 credential scope, as the AWS SDK signs it", () => {
    const { req, url } = request({ Authorization: authorization("us-east-1/states") });
    assert.equal(signingNameOf(req, url), "states");
    assert.deepEqual(router.route(req, url), { kind: "service", service: states, signingName: "states" });
  });

  it("reads the service from a presigned URL's X-Amz-Credential", () => {
    const { req, url } = request({}, "/bucket/key?X-Amz-Credential=AKID%2F20261124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=ab");
    assert.equal(router.route(req, url).kind, "service");
    assert.equal((router.route(req, url) as any).service, s3);
    assert.equal(isSigned(req, url), true);
  });

  it("routes unsigned JSON-protocol calls by X-Amz-Target (aws --no-sign-request)", () => {
    const { req, url } = request({ "X-Amz-Target": "AWSStepFunctions.SendTaskSuccess" });
    assert.deepEqual(router.route(req, url), { kind: "service", service: states, signingName: "states" });
  });

  it("routes unsigned SQS JSON calls by their AmazonSQS. target, and the SNS outbox page by its path", () => {
    const sqs = service("sqs");
    const sns = service("sns");
    const messaging = new Router([sqs, sns]);
    const json = request({ "X-Amz-Target": "AmazonSQS.ReceiveMessage" });
    assert.deepEqual(messaging.route(json.req, json.url), { kind: "service", service: sqs, signingName: "sqs" });
    const outbox = request({}, "/_local/sns/messages");
    assert.deepEqual(messaging.route(outbox.req, outbox.url), { kind: "service", service: sns, signingName: "sns" });
  });

  it("routes unsigned Lambda API paths to Lambda", () => {
    const { req, url } = request({}, "/2015-03-31/functions/my-function/invocations");
    assert.deepEqual(router.route(req, url), { kind: "service", service: lambda, signingName: "lambda" });
  });

  it("sends unsigned requests that are no AWS API call to the program's API routes", () => {
    const { req, url } = request({}, "/start?input=%7B%7D");
    assert.deepEqual(router.route(req, url), { kind: "api" });
    assert.equal(isSigned(req, url), false);
  });

  it("names a signed request for a service nobody emulates, rather than guessing", () => {
    const { req, url } = request({ Authorization: authorization("us-east-1/sqs") });
    assert.deepEqual(router.route(req, url), { kind: "unknownService", signingName: "sqs" });
  });

  it("ignores an Authorization header whose credential is not a SigV4 scope", () => {
    const { req, url } = request({ Authorization: "Bearer abc" }, "/start");
    assert.equal(signingNameOf(req, url), undefined);
    assert.deepEqual(router.route(req, url), { kind: "api" });
  });

  it("refuses two services claiming the same signing name", () => {
    assert.throws(() => new Router([service("states"), service("states")]), /Two local services answer signing name "states"/);
  });

  it("routes a credential that is not valid percent-encoding to a signature error naming the service it seems to be for, not a crash", () => {
    const { req, url } = request({
      Authorization: "AWS4-HMAC-SHA256 Credential=AKID%ZZ/20261124/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
    });
    const destination = router.route(req, url);
    assert.equal(destination.kind, "malformedSignature");
    assert.equal((destination as any).signingName, "s3");
    assert.match(
      (destination as any).message,
      /the Credential is not valid percent-encoding: "AKID%ZZ\/20261124\/us-east-1\/s3\/aws4_request"/,
    );
  });
});
