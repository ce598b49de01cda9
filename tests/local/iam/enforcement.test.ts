/**
 * IAM enforced by the local runtime on a temporary copy of the program with two statements removed: the callback
 * handler's SendTaskSuccess and the pipeline processor's read of the chunk prefix. Exactly those calls fail, with
 * AWS's answers, and the executions take the paths they would take on AWS. Also: calls signed with a function's
 * issued credentials but a wrong secret, with a session AWS never issued, or by a key the terminal does not own
 * are refused; S3 hides a missing key from a caller that may not list the bucket.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, SendTaskHeartbeatCommand } from "@aws-sdk/client-sfn";
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { startLocalRuntime, type LocalRuntime } from "../../../local/host/runtime";

const REPOSITORY = path.resolve(__dirname, "../../..");
const TERMINAL = { accessKeyId: "AKIDTERMINAL", secretAccessKey: "terminal" };

/** The program as is, but for the two statements taken out (each patch must apply exactly once). */
function copyProgramWithoutTwoStatements(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "iam-program-"));
  for (const entry of ["index.ts", "components", "handlers", "workflow", "Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"])
    fs.cpSync(path.join(REPOSITORY, entry), path.join(directory, entry), { recursive: true });
  fs.symlinkSync(path.join(REPOSITORY, "node_modules"), path.join(directory, "node_modules"));
  patch(path.join(directory, "components/policies.ts"), `["states:SendTaskSuccess", "states:SendTaskFailure"`, `["states:SendTaskFailure"`);
  patch(
    path.join(directory, "components/documentPipeline.ts"),
    `Action: ["s3:GetObject"], Resource: [objectsUnder(bucketArn, args.chunkPrefix)]`,
    `Action: ["s3:GetObject"], Resource: [objectsUnder(bucketArn, "elsewhere/")]`,
  );
  return directory;
}

function patch(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, "utf8");
  assert.equal(text.split(from).length, 2, `${file} must contain ${from} exactly once`);
  fs.writeFileSync(file, text.replace(from, to));
}

describe("local IAM enforcement (a copy of the program with two statements removed)", function () {
  this.timeout(180_000);
  let directory: string;
  let runtime: LocalRuntime;
  const logLines: string[] = [];
  let outputs: Record<string, any>;

  before(async () => {
    directory = copyProgramWithoutTwoStatements();
    runtime = await startLocalRuntime({
      projectDirectory: directory,
      configOverrides: ["failureRate=0", "timeoutSeconds=6", "heartbeatSeconds=0", "local:iamTerminalAccessKeys=AKIDTERMINAL"],
      port: 0,
      nodePolicy: "machine",
      asyncRetryDelaysMs: [200, 200],
      log: (source, line) => logLines.push(`[${source}] ${line}`),
    });
    outputs = runtime.program.outputs as Record<string, any>;
  });

  after(async () => {
    await runtime?.close();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  const client = <T>(Client: new (config: any) => T, credentials: object = TERMINAL): T =>
    new Client({ endpoint: runtime.origin, region: "us-east-1", credentials, maxAttempts: 1 });
  /** The credentials a function's processes run with (what the runtime issued for its role). */
  const functionCredentials = (name: string) => {
    const environment = runtime.lambda.declaredFunctions.get(name)!.config.environment;
    return {
      accessKeyId: environment.AWS_ACCESS_KEY_ID,
      secretAccessKey: environment.AWS_SECRET_ACCESS_KEY,
      sessionToken: environment.AWS_SESSION_TOKEN,
    };
  };

  async function waitForEnd(sfn: SFNClient, executionArn: string) {
    for (;;) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== "RUNNING") return execution;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("refuses the callback handler's SendTaskSuccess with AccessDeniedException, and the execution ends in UnexpectedFailure as on AWS", async () => {
    const response = await fetch(`${outputs.startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`);
    const { executionArn } = (await response.json()) as { executionArn: string };
    const sfn = client(SFNClient);
    const execution = await waitForEnd(sfn, executionArn);
    assert.equal(execution.status, "FAILED");
    assert.equal(execution.error, "UnexpectedFailure");
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const failed = events!.find((event) => event.type === "TaskFailed")!;
    assert.equal(failed.taskFailedEventDetails!.error, "AccessDeniedException");

    const handlerName = outputs.functionNames.handler;
    const roleName = runtime.lambda.declaredFunctions.get(handlerName)!.config.role!.split("/").pop();
    const denied = runtime.iam.deniedCalls(executionArn);
    assert.equal(denied.length, 1, JSON.stringify(denied));
    assert.equal(denied[0].action, "states:SendTaskSuccess");
    assert.equal(denied[0].resource, outputs.stateMachineArn);
    assert.equal(
      denied[0].message,
      `User: arn:aws:sts::123456789012:assumed-role/${roleName}/${handlerName} is not authorized to perform: states:SendTaskSuccess ` +
        `on resource: ${outputs.stateMachineArn} because no identity-based policy allows the states:SendTaskSuccess action`,
    );
    assert.ok(JSON.parse(failed.taskFailedEventDetails!.cause!).errorMessage === denied[0].message, "the function saw AWS's message");
    assert.ok(
      logLines.some(
        (line) =>
          line.startsWith(`[iam] DENIED role ${roleName}`) &&
          line.includes(`"Action":"states:SendTaskSuccess","Resource":"${outputs.stateMachineArn}"`),
      ),
      "one log line names the role, the action, the resource and the statement that would allow it",
    );
    sfn.destroy();
  });

  it("refuses the processor's GetObject on a chunk with S3's 403 AccessDenied; retried, the job never completes and the execution times out", async () => {
    const before = runtime.iam.deniedCalls().length;
    const response = await fetch(outputs.pipelineStartUrl, {
      method: "POST",
      body: JSON.stringify({ document: "one two three\nfour five\n" }),
    });
    const { executionArn } = (await response.json()) as { executionArn: string };
    const sfn = client(SFNClient);
    const execution = await waitForEnd(sfn, executionArn);
    assert.equal(execution.status, "FAILED");
    assert.equal(execution.error, "TimedOut");
    const denied = runtime.iam.deniedCalls().slice(before);
    assert.ok(denied.length >= 1);
    for (const call of denied) {
      assert.equal(call.action, "s3:GetObject");
      assert.match(call.resource, new RegExp(`^arn:aws:s3:::${outputs.pipelineBucket}/chunks/.+\\.txt$`));
      assert.match(call.principal, new RegExp(`assumed-role/.+/${outputs.pipelineFunctionNames.processor}$`));
    }
    sfn.destroy();
  });

  it("answers a missing key with 403 AccessDenied to a role without s3:ListBucket, and 404 NoSuchKey to the terminal", async () => {
    const split = client(S3Client, functionCredentials(outputs.pipelineFunctionNames.split));
    await assert.rejects(
      split.send(new GetObjectCommand({ Bucket: outputs.pipelineBucket, Key: "documents/missing.txt" })),
      (error: any) => {
        assert.equal(error.name, "AccessDenied");
        assert.equal(error.$metadata.httpStatusCode, 403);
        return true;
      },
    );
    await client(S3Client).send(new PutObjectCommand({ Bucket: outputs.pipelineBucket, Key: "documents/here.txt", Body: "x" }));
    const found = await split.send(new GetObjectCommand({ Bucket: outputs.pipelineBucket, Key: "documents/here.txt" }));
    assert.equal(await found.Body!.transformToString(), "x");
    await assert.rejects(client(S3Client).send(new GetObjectCommand({ Bucket: outputs.pipelineBucket, Key: "documents/missing.txt" })), {
      name: "NoSuchKey",
    });
  });

  it("refuses what a function's role does not name, in each service's own protocol", async () => {
    const handler = functionCredentials(outputs.functionNames.handler);
    await assert.rejects(client(S3Client, handler).send(new ListBucketsCommand({})), (error: any) => {
      assert.equal(error.name, "AccessDenied");
      assert.equal(error.$metadata.httpStatusCode, 403);
      assert.match(
        error.message,
        /is not authorized to perform: s3:ListAllMyBuckets on resource: "\*" because no identity-based policy allows/,
      );
      return true;
    });
    await assert.rejects(client(DynamoDBClient, handler).send(new ScanCommand({ TableName: outputs.pipelineTable })), (error: any) => {
      assert.equal(error.name, "AccessDeniedException");
      assert.equal(error.$metadata.httpStatusCode, 400);
      assert.match(
        error.message,
        new RegExp(`dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:123456789012:table/${outputs.pipelineTable} `),
      );
      return true;
    });
  });

  it("refuses a bad signature: InvalidSignatureException from Step Functions, SignatureDoesNotMatch from S3", async () => {
    const forged = { ...functionCredentials(outputs.functionNames.handler), secretAccessKey: "not-the-secret" };
    await assert.rejects(client(SFNClient, forged).send(new SendTaskHeartbeatCommand({ taskToken: "AQxx" })), (error: any) => {
      assert.equal(error.name, "InvalidSignatureException");
      assert.equal(error.$metadata.httpStatusCode, 403);
      return true;
    });
    await assert.rejects(
      client(S3Client, forged).send(new GetObjectCommand({ Bucket: outputs.pipelineBucket, Key: "documents/here.txt" })),
      {
        name: "SignatureDoesNotMatch",
      },
    );
  });

  it("refuses a foreign principal: a session the runtime never issued, and a key that is not the terminal's", async () => {
    const foreignSession = { accessKeyId: "ASIAAAAAAAAAAAAAAAAA", secretAccessKey: "x", sessionToken: "y" };
    await assert.rejects(client(SFNClient, foreignSession).send(new SendTaskHeartbeatCommand({ taskToken: "AQxx" })), {
      name: "UnrecognizedClientException",
    });
    const stranger = { accessKeyId: "AKIDSTRANGER", secretAccessKey: "x" };
    await assert.rejects(client(S3Client, stranger).send(new ListBucketsCommand({})), { name: "InvalidAccessKeyId" });
    await assert.rejects(client(DynamoDBClient, stranger).send(new ScanCommand({ TableName: outputs.pipelineTable })), {
      name: "UnrecognizedClientException",
    });
    const unsigned = await fetch(runtime.origin, {
      method: "POST",
      headers: { "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0" },
      body: "{}",
    });
    assert.equal(unsigned.status, 403);
    assert.equal(((await unsigned.json()) as any).__type, "MissingAuthenticationTokenException");
  });

  it("lets the terminal's own key do anything", async () => {
    const listed = await client(S3Client).send(new ListBucketsCommand({}));
    assert.ok(listed.Buckets!.some((bucket) => bucket.Name === outputs.pipelineBucket));
  });
});
