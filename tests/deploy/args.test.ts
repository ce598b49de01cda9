import { strict as assert } from "node:assert";
import { type CallbackWorkflowArgs, resolveArgs } from "../../components/args";

const factory = () => async () => ({});
const minimal: CallbackWorkflowArgs = { handler: { callbackFactory: factory } };

/** The single problem resolveArgs reports, exactly. */
function problemOf(args: unknown): string {
  try {
    resolveArgs(args as CallbackWorkflowArgs);
  } catch (error) {
    const message = (error as Error).message;
    assert.ok(message.startsWith("Invalid CallbackWorkflow args:\n- "), message);
    return message.slice("Invalid CallbackWorkflow args:\n- ".length);
  }
  assert.fail("resolveArgs accepted invalid args");
}

describe("deploy: CallbackWorkflow args (resolveArgs)", () => {
  it("applies the documented defaults", () => {
    const resolved = resolveArgs(minimal);
    assert.equal(resolved.timeoutSeconds, 3600);
    assert.equal(resolved.heartbeatSeconds, undefined);
    assert.equal(resolved.runtime, "nodejs24.x");
    assert.deepEqual(resolved.waitPayload, { "taskToken.$": "$$.Task.Token", "input.$": "$" });
    assert.deepEqual(resolved.api, {
      type: "http",
      path: "/start",
      method: "GET",
      authorization: "NONE",
      throttle: { burstLimit: 100, rateLimit: 50 },
      apiKeyRequired: false,
    });
    assert.deepEqual(resolved.logging, { level: "ERROR", includeExecutionData: true, retentionInDays: 14 });
    assert.equal(resolved.tracing, false);
    assert.deepEqual(resolved.tags, {});
    assert.equal(resolved.split, undefined);
    assert.equal(resolved.continueWith, undefined);
    assert.deepEqual(
      { ...resolved.handler, callbackFactory: undefined },
      {
        callbackFactory: undefined,
        environment: {},
        policyStatements: [],
        memorySize: 128,
        timeoutSeconds: 30,
        description: undefined,
      },
    );
  });

  it("keeps given values", () => {
    const resolved = resolveArgs({
      ...minimal,
      split: { callbackFactory: factory, memorySize: 256, timeoutSeconds: 60 },
      timeoutSeconds: 600,
      heartbeatSeconds: 30,
      runtime: "nodejs22.x",
      api: {
        type: "rest",
        method: "POST",
        path: "/jobs/start",
        authorization: "AWS_IAM",
        throttle: { burstLimit: 5, rateLimit: 1.5 },
        apiKeyRequired: true,
      },
      logging: { level: "ALL", includeExecutionData: false, retentionInDays: 30 },
      tracing: true,
      tags: { team: "docs" },
    });
    assert.equal(resolved.timeoutSeconds, 600);
    assert.equal(resolved.heartbeatSeconds, 30);
    assert.equal(resolved.runtime, "nodejs22.x");
    assert.equal(resolved.split?.memorySize, 256);
    assert.equal(resolved.split?.timeoutSeconds, 60);
    assert.deepEqual(resolved.api, {
      type: "rest",
      method: "POST",
      path: "/jobs/start",
      authorization: "AWS_IAM",
      throttle: { burstLimit: 5, rateLimit: 1.5 },
      apiKeyRequired: true,
    });
    assert.deepEqual(resolved.logging, { level: "ALL", includeExecutionData: false, retentionInDays: 30 });
    assert.equal(resolved.tracing, true);
  });

  it("rejects a heartbeat that is not less than the timeout", () => {
    assert.equal(
      problemOf({ ...minimal, timeoutSeconds: 600, heartbeatSeconds: 900 }),
      "heartbeatSeconds (900) must be less than timeoutSeconds (600)",
    );
    assert.equal(
      problemOf({ ...minimal, timeoutSeconds: 600, heartbeatSeconds: 600 }),
      "heartbeatSeconds (600) must be less than timeoutSeconds (600)",
    );
  });

  it("compares the heartbeat with the default timeout when no timeout is given", () => {
    assert.equal(problemOf({ ...minimal, heartbeatSeconds: 7200 }), "heartbeatSeconds (7200) must be less than timeoutSeconds (3600)");
  });

  it("rejects timeouts that are not whole seconds from 1 to AWS's 99,999,999", () => {
    assert.equal(problemOf({ ...minimal, timeoutSeconds: 0 }), "timeoutSeconds (0) must be a whole number from 1 to 99999999");
    assert.equal(problemOf({ ...minimal, timeoutSeconds: 1.5 }), "timeoutSeconds (1.5) must be a whole number from 1 to 99999999");
    assert.equal(
      problemOf({ ...minimal, timeoutSeconds: 100_000_000 }),
      "timeoutSeconds (100000000) must be a whole number from 1 to 99999999",
    );
    assert.equal(problemOf({ ...minimal, heartbeatSeconds: "30" }), 'heartbeatSeconds ("30") must be a whole number from 1 to 99999999');
  });

  it("fails when the waitForTaskToken payload does not reference $$.Task.Token", () => {
    assert.equal(
      problemOf({ ...minimal, waitPayload: { "input.$": "$" } }),
      'waitPayload must pass the task token in a ".$" field (e.g. "taskToken.$": "$$.Task.Token"), or nothing can ever resume the execution; received {"input.$":"$"}',
    );
  });

  it("requires the token receiver, with a callbackFactory function", () => {
    assert.equal(problemOf({}), "handler is required: the function that receives the task token");
    assert.equal(
      problemOf({ handler: { callbackFactory: "index.handler" } }),
      'handler.callbackFactory must be a function returning the Lambda handler; received "index.handler"',
    );
  });

  it("rejects a runtime that is not Node.js, since handlers are serialized JavaScript", () => {
    assert.equal(
      problemOf({ ...minimal, runtime: "python3.12" }),
      'runtime ("python3.12") must be a Node.js Lambda runtime such as "nodejs24.x": handlers are serialized JavaScript',
    );
  });

  it("checks each function's memory and timeout against Lambda's limits", () => {
    assert.equal(
      problemOf({ handler: { callbackFactory: factory, memorySize: 64 } }),
      "handler.memorySize (64) must be a whole number from 128 to 10240",
    );
    assert.equal(
      problemOf({ ...minimal, split: { callbackFactory: factory, timeoutSeconds: 901 } }),
      "split.timeoutSeconds (901) must be a whole number from 1 to 900",
    );
  });

  it("rejects wildcard actions and NotAction in extra policy statements", () => {
    assert.equal(
      problemOf({
        handler: {
          callbackFactory: factory,
          policyStatements: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:*"], Resource: "arn:aws:s3:::b/*" }],
        },
      }),
      "handler.policyStatements[0].Action (s3:*) must not contain a wildcard: name each action",
    );
    assert.equal(
      problemOf({
        ...minimal,
        continueWith: {
          callbackFactory: factory,
          policyStatements: [{ Effect: "Allow", NotAction: "iam:PassRole", Resource: "arn:aws:s3:::b" }],
        },
      }),
      "continueWith.policyStatements[0] must not use NotAction: name each action",
    );
  });

  it("checks the API options", () => {
    assert.equal(problemOf({ ...minimal, api: { type: "websocket" } }), 'api.type ("websocket") must be one of http, rest, none');
    assert.equal(
      problemOf({ ...minimal, api: { path: "start" } }),
      'api.path ("start") must start with "/" and contain only letters, digits, "-", "_", ".", "~" and single "/"',
    );
    assert.equal(problemOf({ ...minimal, api: { method: "DELETE" } }), 'api.method ("DELETE") must be GET or POST');
    assert.equal(problemOf({ ...minimal, api: { authorization: "COGNITO" } }), 'api.authorization ("COGNITO") must be NONE or AWS_IAM');
    assert.equal(
      problemOf({ ...minimal, api: { throttle: { burstLimit: -1 } } }),
      "api.throttle.burstLimit (-1) must be a whole number from 0 to 5000",
    );
    assert.equal(
      problemOf({ ...minimal, api: { throttle: { rateLimit: Number.NaN } } }),
      "api.throttle.rateLimit (NaN) must be a number between 0 and 10000 requests per second",
    );
    assert.equal(
      problemOf({ ...minimal, api: { apiKeyRequired: true } }),
      'api.apiKeyRequired needs api.type "rest" (HTTP APIs have no API keys); received api.type "http"',
    );
  });

  it("checks logging level and retention against what Step Functions and CloudWatch Logs accept", () => {
    assert.equal(problemOf({ ...minimal, logging: { level: "DEBUG" } }), 'logging.level ("DEBUG") must be one of ALL, ERROR, FATAL, OFF');
    assert.match(
      problemOf({ ...minimal, logging: { retentionInDays: 10 } }),
      /^logging\.retentionInDays \(10\) must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, /,
    );
  });

  it("reports every problem at once", () => {
    assert.throws(
      () =>
        resolveArgs({ handler: { callbackFactory: factory, memorySize: 1 }, timeoutSeconds: 10, heartbeatSeconds: 20, runtime: "java21" }),
      {
        message:
          "Invalid CallbackWorkflow args:\n" +
          "- handler.memorySize (1) must be a whole number from 128 to 10240\n" +
          "- heartbeatSeconds (20) must be less than timeoutSeconds (10)\n" +
          '- runtime ("java21") must be a Node.js Lambda runtime such as "nodejs24.x": handlers are serialized JavaScript',
      },
    );
  });
});
