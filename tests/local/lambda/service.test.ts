import * as assert from "node:assert/strict";
import {
  InvalidRequestContentException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from "../../../local/common/invoker";
import { declareFunction, linesOf, startLambda, type LambdaHarness } from "./fixtures";

const ECHO = `
let invocations = 0;
exports.handler = async (event, context) => {
  invocations++;
  if (event.log) console.log("handling", event.log);
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return {
    event,
    pid: process.pid,
    invocations,
    nodeVersion: process.version,
    env: Object.fromEntries(["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "NODE_PATH", "GREETING", "_HANDLER", "HOME"].map((key) => [key, process.env[key]])),
    context: { awsRequestId: context.awsRequestId, functionName: context.functionName, invokedFunctionArn: context.invokedFunctionArn,
      functionVersion: context.functionVersion, logGroupName: context.logGroupName, remaining: context.getRemainingTimeInMillis() },
  };
};`;

const FAULTY = `
exports.handler = async (event) => {
  if (event.action === "throw") { const error = new TypeError("the input is wrong"); throw error; }
  if (event.action === "exit") process.exit(3);
  if (event.action === "hang") await new Promise(() => setInterval(() => {}, 1000));
  if (event.action === "huge") return "x".repeat(6 * 1024 * 1024 + 10);
  return { ok: true, pid: process.pid };
};`;

async function invoke(harness: LambdaHarness, functionName: string, event: unknown) {
  const result = await harness.service.invoke({ functionName, payload: JSON.stringify(event), invocationType: "RequestResponse" });
  return { ...result, body: JSON.parse(result.payload) };
}

describe("local Lambda service", function () {
  this.timeout(30_000);
  let harness: LambdaHarness;

  before(async () => {
    harness = await startLambda(
      [
        { name: "echo", code: ECHO, variables: { GREETING: "hello" }, timeout: 5 },
        { name: "faulty", code: FAULTY, timeout: 1 },
        { name: "reserved", code: ECHO, reservedConcurrentExecutions: 2 },
        { name: "pooled", code: ECHO },
        // Never finishes loading: the module blocks at its top level for a minute.
        {
          name: "hangs-at-load",
          code: "module.exports = { handler: async () => 'never' };\nconst until = Date.now() + 60000; while (Date.now() < until);",
          timeout: 1,
        },
      ],
      { origin: "http://127.0.0.1:4567", maxProcessesPerFunction: 2, asyncRetryDelaysMs: [50, 50] },
    );
  });
  after(() => harness.close());

  it("runs the handler with its declared environment, the region, dummy credentials and AWS_ENDPOINT_URL set to the local origin", async () => {
    const { body, functionError } = await invoke(harness, "echo", { hello: "world" });
    assert.equal(functionError, undefined);
    assert.deepEqual(body.event, { hello: "world" });
    assert.equal(body.env.GREETING, "hello");
    assert.equal(body.env.AWS_REGION, "eu-west-1");
    assert.equal(body.env.AWS_DEFAULT_REGION, "eu-west-1");
    assert.equal(body.env.AWS_ENDPOINT_URL, "http://127.0.0.1:4567");
    assert.equal(body.env.AWS_LAMBDA_FUNCTION_NAME, "echo");
    assert.equal(body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, "128");
    assert.equal(body.env._HANDLER, "index.handler");
    assert.ok(body.env.AWS_ACCESS_KEY_ID && body.env.AWS_SECRET_ACCESS_KEY, "dummy credentials are set");
    assert.match(body.env.NODE_PATH, /node_modules$/);
    assert.equal(body.env.HOME, undefined, "the machine's environment does not leak into the function");
  });

  it("gives the handler a Lambda context whose request id is the one the caller gets back", async () => {
    const result = await invoke(harness, "echo", {});
    assert.equal(result.body.context.awsRequestId, result.requestId);
    assert.equal(result.body.context.functionName, "echo");
    assert.equal(result.body.context.invokedFunctionArn, "arn:aws:lambda:eu-west-1:123456789012:function:echo");
    assert.equal(result.body.context.functionVersion, "$LATEST");
    assert.equal(result.body.context.logGroupName, "/aws/lambda/echo");
    assert.ok(result.body.context.remaining > 4000 && result.body.context.remaining <= 5000, `remaining ${result.body.context.remaining}`);
    assert.equal(result.executedVersion, "$LATEST");
  });

  it("keeps a function process warm between invocations (same process, module state kept)", async () => {
    const first = await invoke(harness, "pooled", {});
    const second = await invoke(harness, "pooled", {});
    assert.equal(second.body.pid, first.body.pid);
    assert.equal(second.body.invocations, first.body.invocations + 1);
  });

  it("throttles invocations beyond reservedConcurrentExecutions with TooManyRequestsException", async () => {
    const running = [invoke(harness, "reserved", { sleepMs: 300 }), invoke(harness, "reserved", { sleepMs: 300 })];
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(invoke(harness, "reserved", {}), (error: Error) => error instanceof TooManyRequestsException);
    const results = await Promise.all(running);
    assert.ok(results.every((result) => result.functionError === undefined));
  });

  it("keeps counting an invocation against reservedConcurrentExecutions after its caller stops waiting, until the function ends", async () => {
    const callers = [new AbortController(), new AbortController()];
    const abandoned = callers.map((caller) =>
      harness.service.invoke({
        functionName: "reserved",
        payload: JSON.stringify({ sleepMs: 400 }),
        invocationType: "RequestResponse",
        signal: caller.signal,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const caller of callers) caller.abort(new Error("execution stopped"));
    for (const waiting of abandoned) await assert.rejects(waiting, /execution stopped/);
    // Both functions are still running: a third invocation is over the reservation.
    await assert.rejects(invoke(harness, "reserved", {}), (error: Error) => error instanceof TooManyRequestsException);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await invoke(harness, "reserved", {})).functionError, undefined);
  });

  it("queues invocations beyond the process limit instead of failing them, never running more processes than the limit", async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => invoke(harness, "pooled", { sleepMs: 150 })));
    const elapsed = Date.now() - started;
    assert.ok(results.every((result) => result.functionError === undefined));
    assert.ok(new Set(results.map((result) => result.body.pid)).size <= 2, "at most 2 processes");
    assert.ok(elapsed >= 3 * 150 - 20, `6 invocations of 150 ms on 2 processes take at least 450 ms, took ${elapsed}`);
    assert.equal(harness.service.resolve("pooled").processCount, 2);
  });

  it("reports a thrown error with its errorType, errorMessage and stack trace, as Unhandled", async () => {
    const { body, functionError } = await invoke(harness, "faulty", { action: "throw" });
    assert.equal(functionError, "Unhandled");
    assert.equal(body.errorType, "TypeError");
    assert.equal(body.errorMessage, "the input is wrong");
    assert.match(body.trace[0], /^TypeError: the input is wrong/);
  });

  it("times out an invocation whose handler module never finishes loading, within the function's timeout", async () => {
    const started = Date.now();
    const { functionError, body, requestId } = await invoke(harness, "hangs-at-load", {});
    assert.equal(functionError, "Unhandled");
    assert.equal(body.errorType, undefined);
    assert.match(body.errorMessage, new RegExp(`${requestId} Task timed out after 1\\.00 seconds$`));
    assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
  });

  it("reports a process that exits mid-invocation as Runtime.ExitError and starts a fresh process next time", async () => {
    const crashed = await invoke(harness, "faulty", { action: "exit" });
    assert.equal(crashed.functionError, "Unhandled");
    assert.equal(crashed.body.errorType, "Runtime.ExitError");
    assert.equal(crashed.body.errorMessage, `RequestId: ${crashed.requestId} Error: Runtime exited with error: exit status 3`);
    const next = await invoke(harness, "faulty", {});
    assert.deepEqual(next.body.ok, true);
  });

  it("notices a warm process killed with SIGKILL and runs the next invocation in a fresh process, never the dead one", async () => {
    for (let round = 0; round < 5; round++) {
      const warm = await invoke(harness, "pooled", {});
      process.kill(warm.body.pid, "SIGKILL");
      // At once, before the runtime has seen the exit: the dead process must not get this invocation.
      const next = await invoke(harness, "pooled", {});
      assert.equal(next.functionError, undefined, `round ${round}: ${next.payload}`);
      assert.notEqual(next.body.pid, warm.body.pid);
    }
  });

  it("kills an invocation at the function's timeout and answers as AWS does: 'Task timed out after 1.00 seconds', no errorType", async () => {
    const started = Date.now();
    const timedOut = await invoke(harness, "faulty", { action: "hang" });
    const elapsed = Date.now() - started;
    assert.equal(timedOut.functionError, "Unhandled");
    assert.equal(timedOut.body.errorType, undefined);
    assert.match(
      timedOut.body.errorMessage,
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${timedOut.requestId} Task timed out after 1.00 seconds$`),
    );
    assert.ok(elapsed >= 1000 && elapsed < 2500, `timed out after ${elapsed} ms`);
    const after = await invoke(harness, "faulty", {});
    assert.notEqual(after.body.pid, undefined);
    assert.equal(after.functionError, undefined);
  });

  it("answers Function.ResponseSizeTooLarge when a response exceeds 6 MB", async () => {
    const { body, functionError } = await invoke(harness, "faulty", { action: "huge" });
    assert.equal(functionError, "Unhandled");
    assert.equal(body.errorType, "Function.ResponseSizeTooLarge");
  });

  it("streams console output to the log live, tagged with the request id and framed by START/END/REPORT", async () => {
    const { requestId } = await invoke(harness, "echo", { log: "line-42" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = linesOf(harness, "echo").filter((line) => line.includes(requestId));
    assert.equal(lines[0], `START RequestId: ${requestId} Version: $LATEST`);
    assert.match(lines[1], new RegExp(`^\\S+Z\\t${requestId}\\tINFO\\thandling line-42$`));
    assert.equal(lines[2], `END RequestId: ${requestId}`);
    assert.match(
      lines[3],
      new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB`),
    );
  });

  it("retries a failed Event invocation twice more with the same request id, as Lambda does, then discards it", async () => {
    const accepted = await harness.service.invoke({
      functionName: "faulty",
      payload: JSON.stringify({ action: "throw" }),
      invocationType: "Event",
    });
    assert.equal(accepted.statusCode, 202);
    assert.equal(accepted.payload, "");
    await waitFor(() => linesOf(harness, "faulty").some((line) => line.includes(`${accepted.requestId} failed after 3 attempt(s)`)));
    const starts = linesOf(harness, "faulty").filter((line) => line === `START RequestId: ${accepted.requestId} Version: $LATEST`);
    assert.equal(starts.length, 3);
  });

  it("finds a function by name, ARN, partial ARN or with the $LATEST qualifier, and by nothing else", async () => {
    for (const name of ["echo", "arn:aws:lambda:eu-west-1:123456789012:function:echo", "123456789012:function:echo", "echo:$LATEST"]) {
      assert.equal(harness.service.resolve(name).name, "echo", name);
    }
    assert.throws(
      () => harness.service.resolve("echo:7"),
      (error: Error) =>
        error instanceof ResourceNotFoundException &&
        error.message === "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:echo:7",
    );
    await assert.rejects(
      harness.service.invoke({ functionName: "missing", payload: "{}", invocationType: "RequestResponse" }),
      (error: Error) =>
        error instanceof ResourceNotFoundException &&
        error.message === "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:missing",
    );
  });

  it("refuses payloads over AWS's limits (6 MB RequestResponse, 1 MB Event) and payloads that are not JSON", async () => {
    const big = JSON.stringify("x".repeat(6 * 1024 * 1024));
    await assert.rejects(
      harness.service.invoke({ functionName: "echo", payload: big, invocationType: "RequestResponse" }),
      RequestTooLargeException,
    );
    const medium = JSON.stringify("x".repeat(1024 * 1024));
    await assert.rejects(
      harness.service.invoke({ functionName: "echo", payload: medium, invocationType: "Event" }),
      RequestTooLargeException,
    );
    await assert.rejects(
      harness.service.invoke({ functionName: "echo", payload: "{not json", invocationType: "RequestResponse" }),
      InvalidRequestContentException,
    );
  });

  it("rejects a function whose environment sets a key Lambda reserves", async () => {
    await assert.rejects(
      harness.service.provision(declareFunction({ name: "bad-env", code: ECHO, variables: { AWS_REGION: "us-west-2" } })),
      /environment variables use reserved keys that Lambda does not allow: AWS_REGION/,
    );
  });

  it("reports a handler module that cannot load as Runtime.ImportModuleError", async () => {
    await harness.service.provision(
      declareFunction({ name: "broken", code: `require("no-such-package-anywhere"); exports.handler = async () => 1;` }),
    );
    const { body, functionError } = await invoke(harness, "broken", {});
    assert.equal(functionError, "Unhandled");
    assert.equal(body.errorType, "Runtime.ImportModuleError");
    assert.match(body.errorMessage, /Cannot find module 'no-such-package-anywhere'/);
  });
});

describe("local Lambda service: lifecycle and Node versions", function () {
  this.timeout(180_000);

  it("ends every function process when closed", async () => {
    const harness = await startLambda([{ name: "echo", code: ECHO }]);
    const { pid } = JSON.parse(
      (await harness.service.invoke({ functionName: "echo", payload: "{}", invocationType: "RequestResponse" })).payload,
    );
    assert.ok(isAlive(pid));
    await harness.close();
    assert.equal(isAlive(pid), false);
  });

  it("runs a nodejs24.x function on Node 24, or says once, for all such functions, that it uses this machine's Node", async () => {
    const harness = await startLambda([
      { name: "on24a", code: ECHO, runtime: "nodejs24.x" },
      { name: "on24b", code: ECHO, runtime: "nodejs24.x" },
    ]);
    try {
      const { nodeVersion } = JSON.parse(
        (await harness.service.invoke({ functionName: "on24a", payload: "{}", invocationType: "RequestResponse" })).payload,
      );
      const fallbacks = linesOf(harness, "lambda").filter((line) => line.startsWith("nodejs24.x functions run on this machine's Node"));
      if (fallbacks.length === 0) assert.match(nodeVersion, /^v24\./);
      else {
        assert.equal(fallbacks.length, 1, "the fallback is reported once");
        assert.equal(nodeVersion, process.version);
      }
    } finally {
      await harness.close();
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
