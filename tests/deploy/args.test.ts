import { strict as assert } from "node:assert";
import { type CallbackWorkflowArgs, resolveArgs } from "../../components/args";
import type { StepArgs } from "../../components/steps";

const factory = () => async () => ({});
const RECEIVER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:receiver";
const wait = (overrides: Record<string, unknown> = {}): StepArgs =>
  ({ type: "callback", name: "Wait", channel: { type: "lambda", tokenReceiver: { callbackFactory: factory } }, ...overrides }) as StepArgs;
const minimal: CallbackWorkflowArgs = { steps: [wait()] };
const withSteps = (...steps: unknown[]) => ({ steps }) as CallbackWorkflowArgs;

/** The problems resolveArgs reports, exactly. */
function problemsOf(args: unknown): string[] {
  try {
    resolveArgs(args as CallbackWorkflowArgs);
  } catch (error) {
    const message = (error as Error).message;
    assert.ok(message.startsWith("Invalid CallbackWorkflow args:\n- "), message);
    return message.slice("Invalid CallbackWorkflow args:\n- ".length).split("\n- ");
  }
  assert.fail("resolveArgs accepted invalid args");
}
const problemOf = (args: unknown) => {
  const problems = problemsOf(args);
  assert.equal(problems.length, 1, problems.join("\n"));
  return problems[0];
};

describe("deploy: CallbackWorkflow args (resolveArgs)", () => {
  it("applies the documented defaults: a finite 1-hour wait, the token payload, an AWS_IAM start API", () => {
    const resolved = resolveArgs(minimal);
    assert.equal(resolved.runtime, "nodejs24.x");
    assert.deepEqual(resolved.api, {
      type: "http",
      path: "/start",
      method: "GET",
      authorization: "AWS_IAM",
      throttle: { burstLimit: 100, rateLimit: 50 },
      apiKeyRequired: false,
    });
    assert.deepEqual(resolved.logging, { level: "ERROR", includeExecutionData: true, retentionInDays: 14 });
    assert.equal(resolved.tracing, false);
    const [step] = resolved.steps;
    assert.ok(step.type === "callback" && step.channel.type === "lambda");
    assert.equal(step.timeoutSeconds, 3600);
    assert.equal(step.heartbeatSeconds, undefined);
    assert.equal(step.next, undefined);
    assert.deepEqual(step.channel.payload, { "taskToken.$": "$$.Task.Token", "input.$": "$" });
    assert.equal(step.channel.invocationType, "RequestResponse");
    assert.ok("definedHere" in step.channel.tokenReceiver);
    assert.deepEqual(
      { ...step.channel.tokenReceiver.definedHere, callbackFactory: undefined },
      { callbackFactory: undefined, environment: {}, policyStatements: [], memorySize: 128, timeoutSeconds: 30, description: undefined },
    );
  });

  it("defaults an SQS channel's queue to SQS's retention and a visibility timeout six times the worker's timeout", () => {
    const resolved = resolveArgs(
      withSteps({
        type: "callback",
        name: "Wait",
        channel: { type: "sqs", worker: { function: { callbackFactory: factory, timeoutSeconds: 20 } } },
      }),
    );
    const channel = (resolved.steps[0] as any).channel;
    assert.deepEqual(channel.queueSettings, { visibilityTimeoutSeconds: 120, messageRetentionSeconds: 345600, kmsKeyArn: undefined });
    assert.equal(channel.worker.batchSize, 10);
    assert.equal(channel.worker.reportBatchItemFailures, true);
    assert.equal(channel.worker.deadLetter, undefined);
  });

  it("keeps given values", () => {
    const resolved = resolveArgs({
      steps: [wait({ timeoutSeconds: 600, heartbeatSeconds: 30 })],
      runtime: "nodejs22.x",
      api: {
        type: "rest",
        method: "POST",
        path: "/jobs/start",
        authorization: "NONE",
        throttle: { burstLimit: 5, rateLimit: 1.5 },
        apiKeyRequired: true,
      },
      logging: { level: "ALL", includeExecutionData: false, retentionInDays: 30 },
      tracing: true,
      tags: { team: "docs" },
    });
    assert.equal((resolved.steps[0] as any).timeoutSeconds, 600);
    assert.equal((resolved.steps[0] as any).heartbeatSeconds, 30);
    assert.equal(resolved.runtime, "nodejs22.x");
    assert.deepEqual(resolved.api, {
      type: "rest",
      method: "POST",
      path: "/jobs/start",
      authorization: "NONE",
      throttle: { burstLimit: 5, rateLimit: 1.5 },
      apiKeyRequired: true,
    });
    assert.deepEqual(resolved.logging, { level: "ALL", includeExecutionData: false, retentionInDays: 30 });
    assert.equal(resolved.tracing, true);
  });

  it("rejects a heartbeat that is not less than the step's timeout, the default one included", () => {
    assert.equal(
      problemOf(withSteps(wait({ timeoutSeconds: 600, heartbeatSeconds: 600 }))),
      "steps[0] (Wait).heartbeatSeconds (600) must be less than timeoutSeconds (600)",
    );
    assert.equal(
      problemOf(withSteps(wait({ heartbeatSeconds: 7200 }))),
      "steps[0] (Wait).heartbeatSeconds (7200) must be less than timeoutSeconds (3600)",
    );
  });

  it("keeps every wait finite: timeouts are whole seconds from 1 to AWS's 99,999,999", () => {
    assert.equal(
      problemOf(withSteps(wait({ timeoutSeconds: 0 }))),
      "steps[0] (Wait).timeoutSeconds (0) must be a whole number from 1 to 99999999",
    );
    assert.equal(
      problemOf(withSteps(wait({ timeoutSeconds: 100_000_000 }))),
      "steps[0] (Wait).timeoutSeconds (100000000) must be a whole number from 1 to 99999999",
    );
    assert.equal(
      problemOf(withSteps(wait({ heartbeatSeconds: "30" }))),
      'steps[0] (Wait).heartbeatSeconds ("30") must be a whole number from 1 to 99999999',
    );
  });

  it("fails when a channel's payload field does not reference the task token", () => {
    const hint =
      'must pass the task token, or nothing can ever answer the wait: reference $$.Task.Token in a ".$" field (e.g. "taskToken.$": "$$.Task.Token", or inside an intrinsic such as States.Format), or $$.Task or $$;';
    assert.equal(
      problemOf(
        withSteps({
          type: "callback",
          name: "Wait",
          channel: { type: "lambda", tokenReceiver: { arn: RECEIVER_ARN }, payload: { "input.$": "$" } },
        }),
      ),
      `steps[0] (Wait).channel.payload ${hint} the payload is {"input.$":"$"}`,
    );
    assert.equal(
      problemOf(withSteps({ type: "callback", name: "Wait", channel: { type: "sqs", messageBody: "States.Format('{}', $.id)" } })),
      `steps[0] (Wait).channel.messageBody ${hint} the expression is "States.Format('{}', $.id)"`,
    );
    assert.equal(
      problemOf(withSteps({ type: "callback", name: "Wait", channel: { type: "sns", message: { taskToken: "$$.Task.Token" } } })),
      `steps[0] (Wait).channel.message ${hint} the template is {"taskToken":"$$.Task.Token"}`,
    );
  });

  it("accepts the token inside an intrinsic, and $$.Task or $$ as the CDK does", () => {
    for (const messageBody of ["States.Format('token={}', $$.Task.Token)", "$$.Task", { "context.$": "$$" }]) {
      assert.doesNotThrow(() => resolveArgs(withSteps({ type: "callback", name: "Wait", channel: { type: "sqs", messageBody } })));
    }
  });

  it("refuses two lambda or callback steps whose names give their resources one name, and a name without a letter or digit", () => {
    assert.deepEqual(
      problemsOf(
        withSteps(
          wait({ name: "WaitForCompletion", next: "wait for completion" }),
          wait({ name: "wait for completion", next: "***" }),
          wait({ name: "***", next: "Done" }),
          { type: "succeed", name: "Done" },
        ),
      ),
      [
        'steps[1].name ("wait for completion") names its resources "wait-for-completion…", which can clash with step "WaitForCompletion"\'s ("wait-for-completion…"): rename one',
        'steps[2].name ("***") needs a letter or digit: a callback step\'s resources are named after it',
      ],
    );
    // A callback step "Wait" names its receiver "<workflow>-wait-receiver", as a lambda step "Wait Receiver" names its function.
    assert.deepEqual(
      problemsOf(
        withSteps(
          wait({ next: "Wait Receiver" }),
          { type: "lambda", name: "Wait Receiver", function: { callbackFactory: factory }, next: "Done" },
          { type: "succeed", name: "Done" },
        ),
      ),
      ['steps[1].name ("Wait Receiver") names its resources "wait-receiver…", which can clash with step "Wait"\'s ("wait…"): rename one'],
    );
    // Steps that declare no resources may share a slug.
    assert.doesNotThrow(() =>
      resolveArgs(
        withSteps(
          wait({ next: "Done", catch: [{ errors: ["ProcessingFailed"], next: "done" }] }),
          { type: "succeed", name: "Done" },
          { type: "fail", name: "done", error: "E" },
        ),
      ),
    );
  });

  it("requires unique step names and next/catch targets that name a step", () => {
    assert.deepEqual(
      problemsOf(
        withSteps(wait({ next: "Missing", catch: [{ errors: ["ProcessingFailed"], next: "Nowhere" }] }), { type: "succeed", name: "Wait" }),
      ),
      [
        'steps[1].name ("Wait") is not unique: every step needs its own name',
        'steps[0] (Wait).catch[0].next ("Nowhere") names no step; steps are: Wait',
        'steps[0] (Wait).next ("Missing") names no step; steps are: Wait',
      ],
    );
  });

  it("rejects steps no next or catch can reach", () => {
    assert.equal(
      problemOf(withSteps(wait({ end: true }), { type: "fail", name: "Orphan", error: "Lost" })),
      "steps Orphan cannot be reached from Wait by any next or catch",
    );
  });

  it("checks catchers and retriers as AWS does: States.ALL alone and last, no unknown States. names", () => {
    assert.deepEqual(
      problemsOf(
        withSteps(
          wait({
            catch: [
              { errors: ["States.ALL", "Other"], next: "Done" },
              { errors: ["States.Timout"], next: "Done" },
            ],
            retry: [{ errors: [], maxAttempts: -1 }],
          }),
          { type: "succeed", name: "Done" },
        ),
      ),
      [
        "steps[0] (Wait).catch[0].errors: States.ALL must be alone in its list and in the last catcher or retrier",
        'steps[0] (Wait).catch[1].errors: States.Timout is not an error Step Functions defines (names starting with "States." are reserved)',
        "steps[0] (Wait).retry[0].errors ([]) must be a non-empty list of error names",
        "steps[0] (Wait).retry[0].maxAttempts (-1) must be a whole number from 0 to 99999999",
      ],
    );
  });

  it("accepts in a catcher every States. error the engine and the validator know (States.Runtime, States.DataLimitExceeded, States.Http.Socket)", () => {
    const errors = ["States.Runtime", "States.DataLimitExceeded", "States.Http.Socket", "States.QueryEvaluationError"];
    const resolved = resolveArgs(withSteps(wait({ catch: [{ errors, next: "Done" }] }), { type: "succeed", name: "Done" }));
    assert.deepEqual(resolved.steps[0].type === "callback" && resolved.steps[0].catch[0].errors, errors);
  });

  it("checks SQS settings against SQS's and Lambda's limits", () => {
    const worker = { function: { callbackFactory: factory, timeoutSeconds: 60 }, batchSize: 11, deadLetter: { maxReceiveCount: 0 } };
    assert.deepEqual(
      problemsOf(
        withSteps({ type: "callback", name: "Wait", channel: { type: "sqs", worker, queueSettings: { visibilityTimeoutSeconds: 30 } } }),
      ),
      [
        "steps[0] (Wait).channel.worker.batchSize (11) must be a whole number from 1 to 10",
        "steps[0] (Wait).channel.worker.deadLetter.maxReceiveCount (0) must be a whole number from 1 to 1000",
        "steps[0] (Wait).channel.queueSettings.visibilityTimeoutSeconds (30) must be at least the worker's timeoutSeconds (60)",
      ],
    );
  });

  it("leaves an existing queue's settings and redrive policy to whoever owns it", () => {
    const queue = { arn: "arn:aws:sqs:us-east-1:123456789012:q", url: "https://sqs.us-east-1.amazonaws.com/123456789012/q" };
    assert.deepEqual(
      problemsOf(
        withSteps({
          type: "callback",
          name: "Wait",
          channel: {
            type: "sqs",
            queue,
            queueSettings: {},
            worker: { function: { callbackFactory: factory }, deadLetter: { maxReceiveCount: 3 } },
          },
        }),
      ),
      [
        "steps[0] (Wait).channel.worker.deadLetter needs a queue the workflow creates: set the redrive policy of an existing queue where it is defined",
        "steps[0] (Wait).channel: queueSettings apply to the queue the workflow creates; an existing queue keeps its own (give one of queue, queueSettings)",
      ].reverse(),
    );
  });

  it("checks SNS subjects and subscriptions", () => {
    assert.deepEqual(
      problemsOf(
        withSteps({
          type: "callback",
          name: "Wait",
          channel: {
            type: "sns",
            subject: "x".repeat(101),
            subscriptions: [
              { protocol: "sms", endpoint: "+1" },
              { protocol: "email", endpoint: "" },
            ],
          },
        }),
      ),
      [
        `steps[0] (Wait).channel.subject ("${"x".repeat(101)}") must be 1 to 100 printable ASCII characters, as SNS requires`,
        'steps[0] (Wait).channel.subscriptions[0].protocol ("sms") must be one of lambda, sqs, email, email-json',
        "steps[0] (Wait).channel.subscriptions[1].endpoint must be an email address",
      ],
    );
  });

  it("requires a step type and a channel type it knows, and a function to define or an existing one", () => {
    assert.deepEqual(
      problemsOf(
        withSteps(
          { type: "wait", name: "A" },
          { type: "callback", name: "B", channel: { type: "email" } },
          { type: "lambda", name: "C", function: { callbackFactory: "index.handler" } },
          { type: "lambda", name: "D", function: "my-function" },
        ),
      ),
      [
        'steps[0] (A).type ("wait") must be one of lambda, callback, pass, succeed, fail',
        'steps[1] (B).channel.type ("email") must be one of lambda, sqs, sns, approval',
        'steps[2] (C).function.callbackFactory must be a function returning the Lambda handler; received "index.handler"',
        'steps[3] (D).function must be a function to define ({callbackFactory, ...}) or an existing one ({arn} or an aws.lambda.Function); received "my-function"',
      ],
    );
    assert.equal(problemOf({ steps: [] }), "steps must be a non-empty list of steps; received []");
  });

  it("rejects a runtime that is not Node.js, since handlers are serialized JavaScript", () => {
    assert.equal(
      problemOf({ ...minimal, runtime: "python3.12" }),
      'runtime ("python3.12") must be a Node.js Lambda runtime such as "nodejs24.x": handlers are serialized JavaScript',
    );
  });

  it("checks each function's memory and timeout against Lambda's limits, and refuses wildcard actions", () => {
    assert.deepEqual(
      problemsOf(
        withSteps({
          type: "lambda",
          name: "Work",
          function: {
            callbackFactory: factory,
            memorySize: 64,
            timeoutSeconds: 901,
            policyStatements: [
              { Effect: "Allow", Action: ["s3:GetObject", "s3:*"], Resource: "arn:aws:s3:::b/*" },
              { Effect: "Allow", NotAction: "iam:PassRole", Resource: "arn:aws:s3:::b" },
            ],
          },
        }),
      ),
      [
        "steps[0] (Work).function.memorySize (64) must be a whole number from 128 to 10240",
        "steps[0] (Work).function.timeoutSeconds (901) must be a whole number from 1 to 900",
        "steps[0] (Work).function.policyStatements[0].Action (s3:*) must not contain a wildcard: name each action",
        "steps[0] (Work).function.policyStatements[1] must not use NotAction: name each action",
      ],
    );
  });

  it("checks the API options, and refuses a throttle of 0 (it would refuse every request)", () => {
    assert.equal(problemOf({ ...minimal, api: { type: "websocket" } }), 'api.type ("websocket") must be one of http, rest, none');
    assert.equal(
      problemOf({ ...minimal, api: { path: "start" } }),
      'api.path ("start") must start with "/" and contain only letters, digits, "-", "_", ".", "~" and single "/"',
    );
    assert.equal(problemOf({ ...minimal, api: { method: "DELETE" } }), 'api.method ("DELETE") must be GET or POST');
    assert.equal(problemOf({ ...minimal, api: { authorization: "COGNITO" } }), 'api.authorization ("COGNITO") must be NONE or AWS_IAM');
    assert.equal(
      problemOf({ ...minimal, api: { throttle: { burstLimit: 0 } } }),
      "api.throttle.burstLimit (0) must be a whole number from 1 to 5000",
    );
    assert.equal(
      problemOf({ ...minimal, api: { throttle: { rateLimit: 0 } } }),
      "api.throttle.rateLimit (0) must be a number above 0 and at most 10000 requests per second",
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
      () => resolveArgs({ steps: [wait({ timeoutSeconds: 10, heartbeatSeconds: 20 })], runtime: "java21" } as CallbackWorkflowArgs),
      {
        message:
          "Invalid CallbackWorkflow args:\n" +
          "- steps[0] (Wait).heartbeatSeconds (20) must be less than timeoutSeconds (10)\n" +
          '- runtime ("java21") must be a Node.js Lambda runtime such as "nodejs24.x": handlers are serialized JavaScript',
      },
    );
  });
});
