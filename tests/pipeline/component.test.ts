/**
 * What `DocumentPipeline` would deploy, under Pulumi mocks: the bucket, table, processor subscription and
 * every policy, parsed and compared exactly; the arg checks; and the workflow wiring it composes.
 */
import assert from "node:assert/strict";
import { DocumentPipeline, resolvePipelineArgs } from "../../components/documentPipeline";
import { declare, findAll, findOne, type RecordedResource } from "../mocks";
import { parsePolicy, type PolicyDocument } from "../deploy/policyAssertions";

const ACCOUNT = "123456789012";

describe("pipeline: DocumentPipeline resources (Pulumi mocks)", function () {
  this.timeout(60_000);
  let resources: RecordedResource[];
  let pipeline: DocumentPipeline;
  let bucketName: string;
  let bucketArn: string;
  let tableArn: string;
  let stateMachineArn: string;
  const functionArn = (name: string) => findOne(resources, "aws:lambda/function:Function", name).state.arn as string;
  const policyOf = (name: string): PolicyDocument => parsePolicy(findOne(resources, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy);
  const roleOf = (policyName: string) => findOne(resources, "aws:iam/rolePolicy:RolePolicy", policyName).inputs.role;

  before(async () => {
    const declared = await declare(() => new DocumentPipeline("docs", { chunkSizeBytes: 1000, tags: { team: "search" } }));
    resources = declared.resources;
    pipeline = declared.value;
    const bucket = findOne(resources, "aws:s3/bucket:Bucket", "docs-bucket");
    bucketName = bucket.state.bucket;
    bucketArn = bucket.state.arn;
    tableArn = findOne(resources, "aws:dynamodb/table:Table", "docs-jobs").state.arn;
    stateMachineArn = findOne(resources, "aws:sfn/stateMachine:StateMachine").state.arn;
  });

  it("names every child from the component's name", () => {
    const ours = resources.filter((resource) => resource.type.startsWith("aws:"));
    for (const resource of ours) assert.match(resource.name, /^docs-/, `${resource.type} ${resource.name}`);
  });

  it("declares a private bucket and an on-demand job table with TTL on expiresAt", () => {
    const block = findOne(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    assert.deepEqual(
      {
        bucket: block.inputs.bucket,
        acls: block.inputs.blockPublicAcls,
        policy: block.inputs.blockPublicPolicy,
        ignore: block.inputs.ignorePublicAcls,
        restrict: block.inputs.restrictPublicBuckets,
      },
      { bucket: bucketName, acls: true, policy: true, ignore: true, restrict: true },
    );
    const table = findOne(resources, "aws:dynamodb/table:Table", "docs-jobs");
    assert.equal(table.inputs.billingMode, "PAY_PER_REQUEST");
    assert.equal(table.inputs.hashKey, "jobId");
    assert.equal(table.inputs.rangeKey, "sk");
    assert.deepEqual(table.inputs.attributes, [
      { name: "jobId", type: "S" },
      { name: "sk", type: "S" },
    ]);
    assert.deepEqual(table.inputs.ttl, { enabled: true, attributeName: "expiresAt" });
    assert.deepEqual(table.inputs.tags, { team: "search" });
  });

  it("subscribes the processor to ObjectCreated events of chunk objects only, with S3's invoke permission for this bucket", () => {
    const notification = findOne(resources, "aws:s3/bucketNotification:BucketNotification");
    assert.equal(notification.inputs.bucket, bucketName);
    assert.deepEqual(notification.inputs.lambdaFunctions, [
      { events: ["s3:ObjectCreated:*"], filterPrefix: "chunks/", filterSuffix: ".txt", lambdaFunctionArn: functionArn("docs-processor") },
    ]);
    const permission = findOne(resources, "aws:lambda/permission:Permission", "docs-processor-s3-invoke");
    assert.deepEqual(
      {
        function: permission.inputs.function,
        action: permission.inputs.action,
        principal: permission.inputs.principal,
        sourceArn: permission.inputs.sourceArn,
        sourceAccount: permission.inputs.sourceAccount,
      },
      {
        function: findOne(resources, "aws:lambda/function:Function", "docs-processor").state.name,
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        sourceArn: bucketArn,
        sourceAccount: ACCOUNT,
      },
    );
  });

  it("runs SplitDoc as a Lambda step before the wait, whose receiver gets the token and SplitDoc's job id, then the aggregation", () => {
    const definition = JSON.parse(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.definition);
    assert.equal(definition.StartAt, "SplitDoc");
    const split = definition.States.SplitDoc;
    assert.equal(split.Resource, "arn:aws:states:::lambda:invoke");
    assert.deepEqual(split.Parameters, {
      FunctionName: functionArn("docs-workflow-split-doc"),
      Payload: { "executionId.$": "$$.Execution.Id", "startTime.$": "$$.Execution.StartTime", "input.$": "$" },
    });
    assert.equal(split.OutputPath, "$.Payload");
    assert.equal(split.Next, "WaitForCompletion");
    assert.deepEqual(split.Catch, [
      { ErrorEquals: ["ProcessingFailed"], Next: "ProcessingFailed" },
      { ErrorEquals: ["States.TaskFailed"], Next: "UnexpectedFailure" },
    ]);
    assert.deepEqual(
      split.Retry.map((retrier: { ErrorEquals: string[] }) => retrier.ErrorEquals).flat(),
      ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
      "only Lambda's transient errors are retried (the same execution is the same job, so a retry is safe)",
    );

    const wait = definition.States.WaitForCompletion;
    assert.equal(wait.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
    assert.deepEqual(wait.Parameters, {
      FunctionName: functionArn("docs-workflow-wait-for-completion-receiver"),
      Payload: { "taskToken.$": "$$.Task.Token", "jobId.$": "$.jobId" },
    });
    assert.equal(wait.TimeoutSeconds, 3600);
    assert.equal(wait.Next, "ContinueProcess");
    assert.deepEqual(wait.Catch, [
      { ErrorEquals: ["ProcessingFailed"], Next: "ProcessingFailed" },
      { ErrorEquals: ["States.TaskFailed"], Next: "UnexpectedFailure" },
      { ErrorEquals: ["States.Timeout", "States.HeartbeatTimeout"], Next: "TimedOut" },
    ]);
    assert.equal(definition.States.ContinueProcess.Parameters.FunctionName, functionArn("docs-workflow-continue-process"));
    assert.equal(definition.States.ContinueProcess.End, true);
  });

  it("retries the idempotent token receiver on Lambda's transient errors, as AWS advises, before any catcher sees them", () => {
    const definition = JSON.parse(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.definition);
    const wait = definition.States.WaitForCompletion;
    assert.deepEqual(wait.Retry, [
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
    ]);
    // The same retrier as SplitDoc's: one rule for every Lambda the workflow invokes.
    assert.deepEqual(wait.Retry, definition.States.SplitDoc.Retry);
  });

  it("names each function in functionNames: split, receiver, processor and aggregate", async () => {
    const { promiseOf } = await import("../mocks");
    const name = (logical: string) => findOne(resources, "aws:lambda/function:Function", logical).state.name;
    assert.deepEqual(await promiseOf(pipeline.functionNames), {
      split: name("docs-workflow-split-doc"),
      receiver: name("docs-workflow-wait-for-completion-receiver"),
      processor: name("docs-processor"),
      aggregate: name("docs-workflow-continue-process"),
    });
  });

  it("starts jobs from POST /documents with the request body as the execution input", async () => {
    const route = findOne(resources, "aws:apigatewayv2/route:Route");
    assert.equal(route.inputs.routeKey, "POST /documents");
    const integration = findOne(resources, "aws:apigatewayv2/integration:Integration");
    assert.deepEqual(integration.inputs.requestParameters, { StateMachineArn: stateMachineArn, Input: "$request.body" });
    const { promiseOf } = await import("../mocks");
    assert.match((await promiseOf(pipeline.startUrl))!, /^https:\/\/[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com\/documents$/);
  });

  it("hands every function the same settings through its environment", () => {
    const expected = {
      PIPELINE_BUCKET: bucketName,
      PIPELINE_TABLE: findOne(resources, "aws:dynamodb/table:Table").state.name,
      PIPELINE_DOCUMENT_PREFIX: "documents/",
      PIPELINE_CHUNK_PREFIX: "chunks/",
      PIPELINE_RESULT_PREFIX: "results/",
      PIPELINE_CHUNK_SIZE_BYTES: "1000",
      PIPELINE_RETENTION_SECONDS: String(7 * 24 * 3600),
      PIPELINE_WAIT_TIMEOUT_SECONDS: "3600",
    };
    for (const name of [
      "docs-workflow-split-doc",
      "docs-workflow-wait-for-completion-receiver",
      "docs-processor",
      "docs-workflow-continue-process",
    ]) {
      assert.deepEqual(findOne(resources, "aws:lambda/function:Function", name).inputs.environment.variables, expected, name);
    }
  });

  describe("least privilege", () => {
    it("lets SplitDoc read documents, write documents and chunks, and put job records: nothing else, no SendTask*", () => {
      const role = findOne(resources, "aws:iam/role:Role", "docs-workflow-split-doc-role");
      const policies = findAll(resources, "aws:iam/rolePolicy:RolePolicy").filter((policy) => policy.inputs.role === role.id);
      assert.deepEqual(policies.map((policy) => policy.name).sort(), [
        "docs-workflow-split-doc-extra-policy",
        "docs-workflow-split-doc-logs-policy",
      ]);
      assert.deepEqual(policyOf("docs-workflow-split-doc-extra-policy").Statement, [
        { Sid: "ReadDocuments", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${bucketArn}/documents/*`] },
        {
          Sid: "WriteDocumentsAndChunks",
          Effect: "Allow",
          Action: ["s3:PutObject"],
          Resource: [`${bucketArn}/documents/*`, `${bucketArn}/chunks/*`],
        },
        { Sid: "RecordJobs", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [tableArn] },
      ]);
    });

    it("lets the token receiver update and read job records and answer this state machine's tokens: nothing else", () => {
      const role = findOne(resources, "aws:iam/role:Role", "docs-workflow-wait-for-completion-receiver-role");
      const policies = findAll(resources, "aws:iam/rolePolicy:RolePolicy").filter((policy) => policy.inputs.role === role.id);
      assert.deepEqual(policies.map((policy) => policy.name).sort(), [
        "docs-workflow-wait-for-completion-receiver-extra-policy",
        "docs-workflow-wait-for-completion-receiver-logs-policy",
        "docs-workflow-wait-for-completion-receiver-task-response",
      ]);
      assert.deepEqual(policyOf("docs-workflow-wait-for-completion-receiver-extra-policy").Statement, [
        { Sid: "HandTokenToJob", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [tableArn] },
      ]);
      assert.deepEqual(policyOf("docs-workflow-wait-for-completion-receiver-task-response").Statement, [
        {
          Sid: "AnswerTaskTokens",
          Effect: "Allow",
          Action: ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
          Resource: stateMachineArn,
        },
      ]);
    });

    it("lets the processor read chunks, track completion in the table and answer this state machine's tokens only", () => {
      const role = findOne(resources, "aws:iam/role:Role", "docs-processor-role");
      assert.equal(roleOf("docs-processor-extra-policy"), role.id);
      assert.deepEqual(policyOf("docs-processor-extra-policy").Statement, [
        { Sid: "ReadChunks", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${bucketArn}/chunks/*`] },
        {
          Sid: "TrackCompletion",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
          Resource: [tableArn],
        },
      ]);
      assert.equal(roleOf("docs-workflow-processor-task-response"), role.id);
      assert.deepEqual(policyOf("docs-workflow-processor-task-response").Statement, [
        {
          Sid: "AnswerTaskTokens",
          Effect: "Allow",
          Action: ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
          Resource: stateMachineArn,
        },
      ]);
      const logGroupArn = findOne(resources, "aws:cloudwatch/logGroup:LogGroup", "docs-processor-logs").state.arn;
      assert.deepEqual(policyOf("docs-processor-logs-policy").Statement, [
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${logGroupArn}:log-stream:*`],
        },
      ]);
    });

    it("lets the aggregation query the table and write results: nothing else", () => {
      assert.deepEqual(policyOf("docs-workflow-continue-process-extra-policy").Statement, [
        { Sid: "ReadChunkResults", Effect: "Allow", Action: ["dynamodb:Query"], Resource: [tableArn] },
        { Sid: "WriteResults", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${bucketArn}/results/*`] },
      ]);
    });

    it("names every action in every policy (no wildcard actions), and attaches no managed policies", () => {
      for (const resource of findAll(resources, "aws:iam/rolePolicy:RolePolicy")) {
        for (const statement of parsePolicy(resource.inputs.policy).Statement) {
          for (const action of [statement.Action].flat()) assert.ok(!action.includes("*"), `${resource.name}: ${action}`);
        }
      }
      assert.deepEqual(findAll(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
    });

    it("gives the processor its own role, never CallbackFunction's default one", () => {
      const processor = findOne(resources, "aws:lambda/function:Function", "docs-processor");
      assert.equal(processor.inputs.role, findOne(resources, "aws:iam/role:Role", "docs-processor-role").state.arn);
      assert.equal(processor.inputs.runtime, "nodejs24.x");
      assert.equal(processor.inputs.timeout, 60);
      assert.equal(processor.inputs.memorySize, 256);
    });
  });
});

describe("pipeline: DocumentPipeline with tracing (Pulumi mocks)", function () {
  this.timeout(60_000);

  it("traces every function, the chunk processor included, and lets each role write its trace segments", async () => {
    const { resources } = await declare(() => new DocumentPipeline("traced", { tracing: true }));
    const functions = findAll(resources, "aws:lambda/function:Function");
    assert.deepEqual(functions.map((fn) => fn.name).sort(), [
      "traced-processor",
      "traced-workflow-continue-process",
      "traced-workflow-split-doc",
      "traced-workflow-wait-for-completion-receiver",
    ]);
    for (const fn of functions) {
      assert.deepEqual(fn.inputs.tracingConfig, { mode: "Active" }, fn.name);
      const xray = findOne(resources, "aws:iam/rolePolicy:RolePolicy", `${fn.name}-xray`);
      assert.equal(xray.inputs.role, findOne(resources, "aws:iam/role:Role", `${fn.name}-role`).id, fn.name);
      assert.ok(
        parsePolicy(xray.inputs.policy).Statement.some((statement) => [statement.Action].flat().includes("xray:PutTraceSegments")),
        fn.name,
      );
    }
  });
});

describe("pipeline: resolvePipelineArgs", () => {
  it("applies the documented defaults", () => {
    const resolved = resolvePipelineArgs({});
    assert.equal(resolved.chunkSizeBytes, 4096);
    assert.equal(resolved.timeoutSeconds, 3600);
    assert.equal(resolved.retentionDays, 7);
    assert.deepEqual([resolved.documentPrefix, resolved.chunkPrefix, resolved.resultPrefix], ["documents/", "chunks/", "results/"]);
    assert.deepEqual(resolved.api, { type: "http", method: "POST", path: "/documents" });
  });

  it("rejects a chunk size that is not a whole positive number of bytes, saying what it received", () => {
    assert.throws(() => resolvePipelineArgs({ chunkSizeBytes: 0 }), {
      message: "Invalid DocumentPipeline args:\n- chunkSizeBytes (0) must be a whole number of bytes from 4 to 5368709120",
    });
  });

  it("rejects overlapping prefixes, which would let one function reach another's objects", () => {
    assert.throws(
      () => resolvePipelineArgs({ chunkPrefix: "documents/chunks/" }),
      /documentPrefix \("documents\/"\) and chunkPrefix \("documents\/chunks\/"\) must not overlap/,
    );
  });

  it("reports every problem at once", () => {
    assert.throws(
      () => resolvePipelineArgs({ retentionDays: 0, resultPrefix: "results", processorTimeoutSeconds: 901 }),
      (error: Error) =>
        error.message.includes("retentionDays (0)") &&
        error.message.includes('resultPrefix ("results") must be a key prefix ending in "/"') &&
        error.message.includes("processorTimeoutSeconds (901)"),
    );
  });
});
