/**
 * The enforcer on declared resources without a runtime: a state machine's role (trust conditions on the source
 * ARN, lambda:InvokeFunction on named functions), the S3 service principal under a Lambda permission, Lambda
 * refusing a role it cannot assume, and the modes (warn lets the call through and still records it).
 */
import assert from "node:assert/strict";
import type { DeclaredResource } from "../../../local/common/service";
import type { Principal } from "../../../local/common/access";
import { IamEnforcer, type IamMode } from "../../../local/iam/enforcer";
import { authorizingInvoker } from "../../../local/iam/invoker";
import { unknownActions } from "../../../local/iam/reference";

const ACCOUNT = "123456789012";
const MACHINE = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:flow-1`;
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:worker`;
const OTHER_FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:other`;
const SFN_ROLE = `arn:aws:iam::${ACCOUNT}:role/flow-role`;
const FN_ROLE = `arn:aws:iam::${ACCOUNT}:role/worker-role`;

function resource(type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown> = {}): DeclaredResource {
  return { urn: `urn:${name}`, type, name, id: name, inputs, state: { ...inputs, ...state } };
}

const RESOURCES: DeclaredResource[] = [
  resource(
    "aws:iam/role:Role",
    "flow-role",
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "states.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: { "aws:SourceAccount": ACCOUNT },
              ArnLike: { "aws:SourceArn": `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:flow-*` },
            },
          },
        ],
      }),
    },
    { arn: SFN_ROLE, name: "flow-role" },
  ),
  resource("aws:iam/rolePolicy:RolePolicy", "flow-invoke", {
    role: "flow-role",
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Sid: "Invoke", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: [FUNCTION, `${FUNCTION}:*`] }],
    }),
  }),
  resource(
    "aws:iam/role:Role",
    "worker-role",
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    },
    { arn: FN_ROLE, name: "worker-role" },
  ),
  resource("aws:lambda/function:Function", "worker", { role: FN_ROLE }, { arn: FUNCTION, name: "worker" }),
  resource("aws:lambda/function:Function", "other", { role: FN_ROLE }, { arn: OTHER_FUNCTION, name: "other" }),
  resource("aws:lambda/permission:Permission", "s3-invoke", {
    function: "worker",
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    sourceArn: "arn:aws:s3:::uploads",
    sourceAccount: ACCOUNT,
  }),
];

function enforcer(mode: IamMode, log: string[] = []): IamEnforcer {
  return new IamEnforcer(RESOURCES, {
    mode,
    region: "us-east-1",
    accountId: ACCOUNT,
    log: (source, line) => log.push(`[${source}] ${line}`),
  });
}

const machineRole = (sourceArn = MACHINE): Principal => ({
  kind: "role",
  roleArn: SFN_ROLE,
  sessionName: "exec-1",
  assumedBy: "states.amazonaws.com",
  sourceArn,
});

describe("local IAM enforcer", () => {
  it("lets a state machine's role invoke the functions it names, versions included, and no other", () => {
    const iam = enforcer("enforce");
    assert.equal(iam.authorize({ principal: machineRole(), action: "lambda:InvokeFunction", resource: FUNCTION }).allowed, true);
    assert.equal(
      iam.authorize({ principal: machineRole(), action: "lambda:InvokeFunction", resource: `${FUNCTION}:$LATEST` }).allowed,
      true,
    );
    const other = iam.authorize({ principal: machineRole(), action: "lambda:InvokeFunction", resource: OTHER_FUNCTION });
    assert.equal(other.allowed, false);
    assert.equal(
      other.message,
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/flow-role/exec-1 is not authorized to perform: lambda:InvokeFunction on resource: ${OTHER_FUNCTION} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it("refuses a role whose trust policy does not let the service assume it for this source (confused deputy)", () => {
    const iam = enforcer("enforce");
    const decision = iam.authorize({
      principal: machineRole(`arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:elsewhere`),
      action: "lambda:InvokeFunction",
      resource: FUNCTION,
    });
    assert.equal(decision.allowed, false);
    assert.match(decision.message, /trust policy of role flow-role does not let states\.amazonaws\.com assume it/);
  });

  it("lets S3 invoke a function only from the bucket its Lambda permission names", () => {
    const iam = enforcer("enforce");
    const s3 = (bucket: string): Principal => ({
      kind: "service",
      service: "s3.amazonaws.com",
      sourceArn: `arn:aws:s3:::${bucket}`,
      sourceAccount: ACCOUNT,
    });
    assert.equal(iam.authorize({ principal: s3("uploads"), action: "lambda:InvokeFunction", resource: FUNCTION }).allowed, true);
    const elsewhere = iam.authorize({ principal: s3("other"), action: "lambda:InvokeFunction", resource: FUNCTION });
    assert.equal(elsewhere.allowed, false);
    assert.match(
      elsewhere.message,
      /^User: s3\.amazonaws\.com is not authorized .* because no resource-based policy allows the lambda:InvokeFunction action$/,
    );
  });

  it("rejects a denied invocation with AccessDeniedException before the function runs", async () => {
    const iam = enforcer("enforce");
    let invoked = 0;
    const invoker = authorizingInvoker(
      { invoke: async () => (invoked++, { statusCode: 200, payload: "{}", executedVersion: "$LATEST", requestId: "r" }) },
      iam,
      (name) => (name === "other" ? OTHER_FUNCTION : FUNCTION),
    );
    await invoker.invoke({ functionName: "worker", payload: "{}", invocationType: "RequestResponse", caller: machineRole() });
    await assert.rejects(
      invoker.invoke({
        functionName: "other",
        payload: "{}",
        invocationType: "RequestResponse",
        caller: machineRole(),
        executionArn: "arn:x",
      }),
      {
        name: "AccessDeniedException",
      },
    );
    assert.equal(invoked, 1);
    assert.equal(iam.deniedCalls("arn:x").length, 1);
  });

  it("refuses to issue credentials for a function whose role Lambda cannot assume (enforce), and only warns in warn mode", () => {
    assert.throws(
      () => enforcer("enforce").credentialsForFunction("worker", FN_ROLE),
      /the role defined for the function cannot be assumed by Lambda/,
    );
    const log: string[] = [];
    const credentials = enforcer("warn", log).credentialsForFunction("worker", FN_ROLE);
    assert.match(credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(log.some((line) => line.includes("AWS would refuse")));
  });

  it("in warn mode allows what AWS would deny, logging and recording it as not enforced", () => {
    const log: string[] = [];
    const iam = enforcer("warn", log);
    const decision = iam.authorize({
      principal: machineRole(),
      action: "lambda:InvokeFunction",
      resource: OTHER_FUNCTION,
      executionArn: "arn:e",
    });
    assert.equal(decision.allowed, true);
    const [denied] = iam.deniedCalls("arn:e");
    assert.equal(denied.enforced, false);
    assert.equal(denied.action, "lambda:InvokeFunction");
    assert.ok(
      log.some((line) =>
        line.startsWith("[iam] warn: AWS would deny role flow-role (session exec-1): lambda:InvokeFunction on " + OTHER_FUNCTION),
      ),
    );
  });

  it("refuses at start a program whose policy has an unknown condition operator, naming the policy and its role", () => {
    const bad = resource("aws:iam/rolePolicy:RolePolicy", "flow-typo", {
      role: "flow-role",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition: { StringEqualsX: { "aws:SourceAccount": ACCOUNT } } },
        ],
      }),
    });
    const start = () => new IamEnforcer([...RESOURCES, bad], { mode: "enforce", region: "us-east-1", accountId: ACCOUNT, log: () => {} });
    assert.throws(start, {
      name: "PolicyError",
      message:
        'role policy "flow-typo" of role flow-role: MalformedPolicyDocument: Syntax errors in policy. Statement 0: unknown condition operator "StringEqualsX"',
    });
  });

  it("lets a queue policy with an unknown condition operator allow nothing (a denial, never a crash)", () => {
    const log: string[] = [];
    const iam = enforcer("enforce", log);
    const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs`;
    const policy = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "sqs:SendMessage",
          Resource: queue,
          Condition: { ArnEqualsX: { "aws:SourceArn": MACHINE } },
        },
      ],
    });
    iam.useLivePolicies((arn) => (arn === queue ? { policy, source: "queue policy of jobs" } : undefined));
    const decision = iam.authorize({
      principal: { kind: "service", service: "sns.amazonaws.com", sourceArn: MACHINE },
      action: "sqs:SendMessage",
      resource: queue,
    });
    assert.equal(decision.allowed, false);
    assert.ok(
      log.some((line) =>
        line.includes(
          'queue policy of jobs: MalformedPolicyDocument: Syntax errors in policy. Statement 0: unknown condition operator "ArnEqualsX"',
        ),
      ),
      log.join("\n"),
    );
  });

  it("checks nothing when off, and always allows the terminal", () => {
    assert.equal(
      enforcer("off").authorize({ principal: machineRole(), action: "lambda:InvokeFunction", resource: OTHER_FUNCTION }).allowed,
      true,
    );
    assert.equal(
      enforcer("enforce").authorize({ principal: { kind: "terminal" }, action: "iam:DeleteRole", resource: SFN_ROLE }).allowed,
      true,
    );
  });
});

describe("local IAM and the Service Authorization Reference", () => {
  it("knows every action the local services authorize, and flags names AWS does not have", async () => {
    const authorized = [
      "states:StartExecution",
      "states:DescribeExecution",
      "states:ListExecutions",
      "states:GetExecutionHistory",
      "states:StopExecution",
      "states:SendTaskSuccess",
      "states:SendTaskFailure",
      "states:SendTaskHeartbeat",
      "states:ListStateMachines",
      "states:DescribeStateMachine",
      "states:CreateStateMachine",
      "states:DescribeStateMachineForExecution",
      "states:RedriveExecution",
      "states:TestState",
      "states:RevealSecrets",
      "iam:PassRole",
      "lambda:InvokeFunction",
      "lambda:ListFunctions",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetPolicy",
      "s3:ListAllMyBuckets",
      "s3:GetBucketLocation",
      "s3:ListBucket",
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListBucketMultipartUploads",
      "s3:ListMultipartUploadParts",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:ConditionCheckItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ListTables",
      "execute-api:Invoke",
      "sts:AssumeRole",
    ];
    assert.deepEqual(await unknownActions(authorized), []);
    assert.deepEqual(await unknownActions(["states:SendTask*", "s3:GetObjekt", "nosuchservice:Do", "S3:getobject"]), [
      "s3:GetObjekt",
      "nosuchservice:Do",
    ]);
  });
});
