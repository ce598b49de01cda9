import { strict as assert } from "node:assert";
import aslValidator from "asl-validator";
import { buildDefinition, type StepTarget, type TaskState } from "../../components/definition";
import { resolveSteps } from "../../components/resolveSteps";
import type { StepArgs } from "../../components/steps";

const SPLIT = "arn:aws:lambda:us-east-1:123456789012:function:split-1234567";
const RECEIVER = "arn:aws:lambda:us-east-1:123456789012:function:receiver-1234567";
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/tokens-1234567";
const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:tokens-1234567";

/** asl-validator annotates the object it checks (QueryLanguage), so it gets a copy. */
function validate(definition: unknown): void {
  const { isValid, errorsText } = aslValidator(structuredClone(definition) as any);
  assert.ok(isValid, errorsText());
}

function build(steps: StepArgs[], targets: Record<string, StepTarget<string>>, partition = "aws") {
  const problems: string[] = [];
  const resolved = resolveSteps(steps, problems);
  assert.deepEqual(problems, []);
  return buildDefinition({ steps: resolved, targets, partition });
}

/** The seed's demo, as index.ts declares it (with existing functions standing in for the magic ones). */
const demoSteps: StepArgs[] = [
  { type: "lambda", name: "SplitDoc", function: { arn: SPLIT } },
  {
    type: "callback",
    name: "WaitForCompletion",
    channel: { type: "lambda", tokenReceiver: { arn: RECEIVER } },
    timeoutSeconds: 600,
    heartbeatSeconds: 60,
    catch: [
      { errors: ["ProcessingFailed"], next: "ProcessingFailed" },
      { errors: ["States.TaskFailed"], next: "UnexpectedFailure" },
      { errors: ["States.Timeout", "States.HeartbeatTimeout"], next: "TimedOut" },
    ],
  },
  { type: "pass", name: "ContinueProcess", end: true },
  { type: "fail", name: "ProcessingFailed", error: "ProcessingFailed", causePath: "$.Cause" },
  { type: "fail", name: "UnexpectedFailure", error: "UnexpectedFailure", causePath: "$.Cause" },
  { type: "fail", name: "TimedOut", error: "TimedOut", causePath: "$.Cause" },
];
const demoTargets = { SplitDoc: { functionArn: SPLIT }, WaitForCompletion: { functionArn: RECEIVER } };

describe("deploy: the ASL definition (buildDefinition)", () => {
  const demo = build(demoSteps, demoTargets);
  const wait = demo.States.WaitForCompletion as TaskState<string>;

  it("builds the seed's demo: the same states in the same order, starting at SplitDoc, valid for asl-validator", () => {
    validate(demo);
    assert.equal(demo.StartAt, "SplitDoc");
    assert.deepEqual(Object.keys(demo.States), [
      "SplitDoc",
      "WaitForCompletion",
      "ContinueProcess",
      "ProcessingFailed",
      "UnexpectedFailure",
      "TimedOut",
    ]);
  });

  it("chains each step to the following one unless it names its next, and ends after the last non-terminal step", () => {
    assert.equal((demo.States.SplitDoc as TaskState<string>).Next, "WaitForCompletion");
    assert.equal(wait.Next, "ContinueProcess");
    // A step falls into the following one unless it ends: the demo's Pass ends, or it would fall into ProcessingFailed.
    assert.deepEqual(demo.States.ContinueProcess, { Type: "Pass", End: true });
    assert.equal(demo.States.TimedOut.Type, "Fail");
  });

  it("runs a lambda step as a plain lambda:invoke of the whole input, unwrapped to the function's Payload", () => {
    assert.deepEqual(demo.States.SplitDoc, {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: SPLIT, "Payload.$": "$" },
      OutputPath: "$.Payload",
      Retry: [
        {
          ErrorEquals: [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
          ],
          IntervalSeconds: 1,
          MaxAttempts: 3,
          BackoffRate: 2,
        },
      ],
      Next: "WaitForCompletion",
    });
  });

  it("waits on the lambda channel with lambda:invoke.waitForTaskToken, the token as taskToken and the input as input", () => {
    assert.deepEqual(wait, {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: RECEIVER, Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } },
      TimeoutSeconds: 600,
      HeartbeatSeconds: 60,
      Catch: [
        { ErrorEquals: ["ProcessingFailed"], Next: "ProcessingFailed" },
        { ErrorEquals: ["States.TaskFailed"], Next: "UnexpectedFailure" },
        { ErrorEquals: ["States.Timeout", "States.HeartbeatTimeout"], Next: "TimedOut" },
      ],
      Next: "ContinueProcess",
    });
  });

  it("never retries a callback step unless asked (a retry mints a new token, and the old one dies)", () => {
    assert.equal(wait.Retry, undefined);
  });

  it("invokes the receiver asynchronously with InvocationType Event when the channel asks for it", () => {
    const definition = build(
      [{ type: "callback", name: "Wait", channel: { type: "lambda", tokenReceiver: { arn: RECEIVER }, invocationType: "Event" } }],
      { Wait: { functionArn: RECEIVER } },
    );
    assert.equal((definition.States.Wait as TaskState<string>).Parameters.InvocationType, "Event");
    assert.equal((definition.States.Wait as TaskState<string>).TimeoutSeconds, 3600);
    validate(definition);
  });

  it("sends the token to a queue with sqs:sendMessage.waitForTaskToken, the body an object or a .$ expression", () => {
    const definition = build(
      [
        { type: "callback", name: "Plain", channel: { type: "sqs" } },
        { type: "callback", name: "Formatted", channel: { type: "sqs", messageBody: "States.Format('token={}', $$.Task.Token)" } },
      ],
      { Plain: { queueUrl: QUEUE_URL }, Formatted: { queueUrl: QUEUE_URL } },
    );
    validate(definition);
    const first = definition.States.Plain as TaskState<string>;
    assert.equal(first.Resource, "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
    assert.deepEqual(first.Parameters, { QueueUrl: QUEUE_URL, MessageBody: { "taskToken.$": "$$.Task.Token", "input.$": "$" } });
    assert.deepEqual((definition.States.Formatted as TaskState<string>).Parameters, {
      QueueUrl: QUEUE_URL,
      "MessageBody.$": "States.Format('token={}', $$.Task.Token)",
    });
  });

  it("publishes the token to a topic with sns:publish.waitForTaskToken, with the subject when given", () => {
    const definition = build([{ type: "callback", name: "Notify", channel: { type: "sns", subject: "Work to do" } }], {
      Notify: { topicArn: TOPIC_ARN },
    });
    validate(definition);
    assert.deepEqual(definition.States.Notify, {
      Type: "Task",
      Resource: "arn:aws:states:::sns:publish.waitForTaskToken",
      Parameters: { TopicArn: TOPIC_ARN, Message: { "taskToken.$": "$$.Task.Token", "input.$": "$" }, Subject: "Work to do" },
      TimeoutSeconds: 3600,
      End: true,
    });
  });

  it("hands the approval channel's token to its notifier with the execution's ARN, so the message can name it", () => {
    const definition = build([{ type: "callback", name: "Approve", channel: { type: "approval" } }], {
      Approve: { functionArn: RECEIVER },
    });
    assert.deepEqual((definition.States.Approve as TaskState<string>).Parameters, {
      FunctionName: RECEIVER,
      Payload: { "taskToken.$": "$$.Task.Token", "executionId.$": "$$.Execution.Id", "input.$": "$" },
    });
  });

  it("builds every integration ARN from the partition (aws-cn, aws-us-gov)", () => {
    for (const partition of ["aws-cn", "aws-us-gov"]) {
      const definition = build(demoSteps, demoTargets, partition);
      const resources = Object.values(definition.States).flatMap((state) => ("Resource" in state ? [state.Resource] : []));
      assert.deepEqual(resources, [`arn:${partition}:states:::lambda:invoke`, `arn:${partition}:states:::lambda:invoke.waitForTaskToken`]);
    }
  });

  it("appends the step's own retriers after Lambda's transient ones, with AWS's field names and only the fields given", () => {
    const definition = build(
      [
        {
          type: "lambda",
          name: "Work",
          function: { arn: SPLIT },
          retry: [{ errors: ["Throttled"], maxAttempts: 5 }],
          resultPath: "$.work",
        },
      ],
      { Work: { functionArn: SPLIT } },
    );
    const work = definition.States.Work as TaskState<string>;
    assert.deepEqual(work.Retry?.[1], { ErrorEquals: ["Throttled"], MaxAttempts: 5 });
    assert.equal(work.ResultPath, "$.work");
  });

  it("ends in Succeed and Fail states with a fixed cause or a cause path", () => {
    const definition = build(
      [
        {
          type: "lambda",
          name: "Work",
          function: { arn: SPLIT },
          catch: [{ errors: ["States.ALL"], next: "Broken", resultPath: "$.error" }],
        },
        { type: "succeed", name: "Done" },
        { type: "fail", name: "Broken", error: "Broken", cause: "the work failed" },
      ],
      { Work: { functionArn: SPLIT } },
    );
    validate(definition);
    assert.deepEqual(definition.States.Done, { Type: "Succeed" });
    assert.deepEqual(definition.States.Broken, { Type: "Fail", Error: "Broken", Cause: "the work failed" });
    assert.deepEqual((definition.States.Work as TaskState<string>).Catch, [
      { ErrorEquals: ["States.ALL"], Next: "Broken", ResultPath: "$.error" },
    ]);
  });

  it("lets a workflow wait more than once, and loop back to a wait", () => {
    const definition = build(
      [
        { type: "callback", name: "First", channel: { type: "sqs" } },
        { type: "callback", name: "Second", channel: { type: "sns" }, catch: [{ errors: ["Again"], next: "First" }] },
      ],
      { First: { queueUrl: QUEUE_URL }, Second: { topicArn: TOPIC_ARN } },
    );
    validate(definition);
    assert.equal((definition.States.First as TaskState<string>).Next, "Second");
    assert.deepEqual((definition.States.Second as TaskState<string>).Catch, [{ ErrorEquals: ["Again"], Next: "First" }]);
  });

  it("refuses to build a task step whose function, queue or topic is unknown", () => {
    const problems: string[] = [];
    const steps = resolveSteps([{ type: "callback", name: "Wait", channel: { type: "sqs" } }], problems);
    assert.throws(() => buildDefinition({ steps, targets: {}, partition: "aws" }), /no target \(function, queue or topic\) for step Wait/);
  });
});
