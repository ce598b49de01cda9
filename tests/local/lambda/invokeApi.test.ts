import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
} from "@aws-sdk/client-lambda";
import { readBody } from "../../../local/common/http";
import { startLambda } from "./fixtures";

const HANDLER = `
exports.handler = async (event) => {
  console.log("got", JSON.stringify(event));
  if (event.fail) throw new RangeError("out of range");
  return { doubled: event.value * 2 };
};`;

/** The Lambda API as the AWS SDK v3 calls it, against the service's own HTTP handler. */
/** The Lambda service behind an HTTP server, and an SDK client pointed at it. */
async function serveLambda(...args: Parameters<typeof startLambda>) {
  const harness = await startLambda(...args);
  const server = http.createServer(async (req, res) => harness.service.handle(req, res, await readBody(req)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  return {
    harness,
    client,
    close: async () => {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
      await harness.close();
    },
  };
}

describe("local Lambda Invoke API (AWS SDK v3 client)", function () {
  this.timeout(30_000);
  let client: LambdaClient;
  let close: () => Promise<void>;

  before(async () => {
    ({ client, close } = await serveLambda([
      // TZ is also one the runtime sets itself: the declared value is what GetFunctionConfiguration shows.
      { name: "doubler", code: HANDLER, variables: { MODE: "test", TZ: "Europe/Paris" } },
      { name: "disabled", code: HANDLER, reservedConcurrentExecutions: 0 },
    ]));
  });
  after(() => close());

  it("answers a RequestResponse invocation with the function's response, status 200 and ExecutedVersion $LATEST", async () => {
    const response = await client.send(new InvokeCommand({ FunctionName: "doubler", Payload: JSON.stringify({ value: 21 }) }));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.ExecutedVersion, "$LATEST");
    assert.equal(response.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(response.Payload!).toString()), { doubled: 42 });
  });

  it("marks a function error with X-Amz-Function-Error: Unhandled and the error object as payload", async () => {
    const response = await client.send(new InvokeCommand({ FunctionName: "doubler", Payload: JSON.stringify({ fail: true }) }));
    assert.equal(response.StatusCode, 200);
    assert.equal(response.FunctionError, "Unhandled");
    const error = JSON.parse(Buffer.from(response.Payload!).toString());
    assert.equal(error.errorType, "RangeError");
    assert.equal(error.errorMessage, "out of range");
  });

  it("returns the invocation's log base64-encoded with LogType Tail", async () => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: "doubler", Payload: JSON.stringify({ value: 1 }), LogType: "Tail" }),
    );
    const log = Buffer.from(response.LogResult!, "base64").toString();
    assert.match(log, /^START RequestId: \S+ Version: \$LATEST\n/);
    assert.match(log, /\tINFO\tgot {"value":1}\n/);
    assert.match(log, /REPORT RequestId: /);
  });

  it("accepts an Event invocation with 202 and no payload, and a DryRun with 204", async () => {
    const event = await client.send(
      new InvokeCommand({ FunctionName: "doubler", InvocationType: "Event", Payload: JSON.stringify({ value: 2 }) }),
    );
    assert.equal(event.StatusCode, 202);
    assert.equal(Buffer.from(event.Payload ?? new Uint8Array()).length, 0);
    const dryRun = await client.send(new InvokeCommand({ FunctionName: "doubler", InvocationType: "DryRun" }));
    assert.equal(dryRun.StatusCode, 204);
  });

  it("answers 404 ResourceNotFoundException for an unknown function, naming its ARN", async () => {
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: "nope", Payload: "{}" })), (error: any) => {
      assert.ok(error instanceof ResourceNotFoundException);
      assert.equal(error.$metadata.httpStatusCode, 404);
      assert.equal(error.message, "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope");
      return true;
    });
  });

  it("answers 429 TooManyRequestsException for a function whose reserved concurrency is 0", async () => {
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: "disabled", Payload: "{}" })), (error: any) => {
      assert.ok(error instanceof TooManyRequestsException);
      assert.equal(error.$metadata.httpStatusCode, 429);
      return true;
    });
  });

  it("describes functions through GetFunctionConfiguration (with every declared variable) and ListFunctions", async () => {
    const configuration = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: "arn:aws:lambda:eu-west-1:123456789012:function:doubler" }),
    );
    assert.equal(configuration.FunctionName, "doubler");
    assert.equal(configuration.Runtime, "nodejs20.x");
    assert.equal(configuration.Timeout, 3);
    assert.deepEqual(configuration.Environment?.Variables, { MODE: "test", TZ: "Europe/Paris" });
    const list = await client.send(new ListFunctionsCommand({}));
    assert.deepEqual(list.Functions?.map((fn) => fn.FunctionName).sort(), ["disabled", "doubler"]);
  });
});

describe("local Lambda Invoke API: a LogType Tail log holds its own invocation's lines only", function () {
  this.timeout(30_000);
  let client: LambdaClient;
  let close: () => Promise<void>;

  before(async () => {
    // One process: each Tail invocation runs right after an Event invocation in the same process.
    ({ client, close } = await serveLambda([{ name: "single", code: HANDLER }], { maxProcessesPerFunction: 1 }));
  });
  after(() => close());

  it("leaves out the END and REPORT lines of an Event invocation the same process ran just before", async () => {
    for (let round = 0; round < 5; round++) {
      const event = client.send(new InvokeCommand({ FunctionName: "single", InvocationType: "Event", Payload: '{"value":2}' }));
      const tail = client.send(new InvokeCommand({ FunctionName: "single", Payload: '{"value":3}', LogType: "Tail" }));
      const [, response] = await Promise.all([event, tail]);
      const ids = [
        ...Buffer.from(response.LogResult!, "base64")
          .toString()
          .matchAll(/RequestId: (\S+)/g),
      ].map((match) => match[1]);
      assert.ok(ids.length >= 3, "START, END and REPORT");
      assert.deepEqual(new Set(ids), new Set([response.$metadata.requestId]), `round ${round}: ${ids.join(", ")}`);
    }
  });
});
