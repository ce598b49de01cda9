/**
 * The stack (index.ts) under Pulumi mocks: what `pulumi up` would deploy, resource by resource, with the
 * policies parsed and the definition read back from the state machine's inputs. The stack also deploys the
 * document pipeline (tests/pipeline covers it): these specs look at the demo workflow, named `callback`, and
 * check the stack-wide rules (no wildcard actions, no managed policies) on everything.
 */
import { strict as assert } from "node:assert";
import aslValidator from "asl-validator";
import { type Declaration, findAll, findOne, loadProgram, promiseOf, type RecordedResource } from "../mocks";
import { arnPattern, asList, parsePolicy, rolePolicies } from "./policyAssertions";

const SFN = "aws:sfn/stateMachine:StateMachine";
const FUNCTION = "aws:lambda/function:Function";
const ROLE = "aws:iam/role:Role";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** The demo workflow's resources: the `callback` component and its children, all named from it. */
function demoWorkflow(resources: RecordedResource[]): RecordedResource[] {
  return resources.filter((resource) => resource.name === "callback" || resource.name.startsWith("callback-"));
}

describe("deploy: the stack (index.ts) under Pulumi mocks", function () {
  // Loading the stack serializes the functions of four workflows: tens of seconds on a shared machine.
  this.timeout(180_000);
  let program: Declaration<Record<string, any>>;
  /** The demo workflow's resources. */
  let resources: RecordedResource[];
  /** Every resource of the stack. */
  let stack: RecordedResource[];
  let machine: RecordedResource;
  let definition: any;
  const fn = (step: string) => findOne(resources, FUNCTION, `callback-${step}`);
  const role = (name: string) => findOne(resources, ROLE, name);

  before(async () => {
    program = await loadProgram({ config: { failureRate: "0.3" } });
    stack = program.resources;
    resources = demoWorkflow(stack);
    machine = findOne(resources, SFN);
    definition = JSON.parse(machine.inputs.definition);
  });

  describe("state machine", () => {
    it("is a STANDARD workflow (EXPRESS cannot wait for a task token) run by its own role", () => {
      assert.equal(machine.name, "callback-state-machine");
      assert.equal(machine.inputs.type, "STANDARD");
      assert.equal(machine.inputs.roleArn, role("callback-sfn-role").state.arn);
    });

    it("has a definition that passes asl-validator", () => {
      const { isValid, errorsText } = aslValidator(structuredClone(definition));
      assert.ok(isValid, errorsText());
    });

    it("invokes the declared functions by their ARNs: SplitDoc → WaitForCompletion (token receiver)", () => {
      assert.equal(definition.StartAt, "SplitDoc");
      assert.equal(definition.States.SplitDoc.Parameters.FunctionName, fn("split-doc").state.arn);
      assert.equal(definition.States.WaitForCompletion.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
      assert.equal(definition.States.WaitForCompletion.Parameters.FunctionName, fn("wait-for-completion-receiver").state.arn);
      assert.deepEqual(definition.States.WaitForCompletion.Parameters.Payload, { "taskToken.$": "$$.Task.Token", "input.$": "$" });
      assert.equal(definition.States.ContinueProcess.Type, "Pass");
    });

    it("takes TimeoutSeconds from config (default 300) and sets no heartbeat when heartbeatSeconds is 0", () => {
      assert.equal(definition.States.WaitForCompletion.TimeoutSeconds, 300);
      assert.equal(definition.States.WaitForCompletion.HeartbeatSeconds, undefined);
    });

    it("logs at ERROR with execution data to its own log group (ARN with the :* suffix Step Functions wants)", () => {
      const logGroup = findOne(resources, LOG_GROUP, "callback-sfn-logs");
      assert.deepEqual(machine.inputs.loggingConfiguration, {
        level: "ERROR",
        includeExecutionData: true,
        logDestination: `${logGroup.state.arn}:*`,
      });
      assert.equal(logGroup.inputs.retentionInDays, 14);
      assert.deepEqual(machine.inputs.tracingConfiguration, { enabled: false });
    });
  });

  describe("functions", () => {
    it("declares exactly SplitDoc and the token receiver as Lambda functions", () => {
      assert.deepEqual(
        findAll(resources, FUNCTION)
          .map((resource) => resource.name)
          .sort(),
        ["callback-split-doc", "callback-wait-for-completion-receiver"],
      );
    });

    for (const step of ["split-doc", "wait-for-completion-receiver"]) {
      it(`${step}: runs on nodejs24.x with its own role, timeout 30 s, 128 MB, and logs to its own log group`, () => {
        const lambda = fn(step);
        const logGroup = findOne(resources, LOG_GROUP, `callback-${step}-logs`);
        assert.equal(lambda.inputs.runtime, "nodejs24.x");
        assert.equal(lambda.inputs.role, role(`callback-${step}-role`).state.arn);
        assert.equal(lambda.inputs.timeout, 30);
        assert.equal(lambda.inputs.memorySize, 128);
        assert.equal(lambda.inputs.handler, "__index.handler");
        assert.deepEqual(lambda.inputs.loggingConfig, { logFormat: "Text", logGroup: logGroup.state.name });
        assert.equal(logGroup.inputs.retentionInDays, 14);
      });
    }

    it("passes the failureRate config to the token receiver as FAILURE_RATE", () => {
      assert.deepEqual(fn("wait-for-completion-receiver").inputs.environment, { variables: { FAILURE_RATE: "0.3" } });
      assert.equal(fn("split-doc").inputs.environment, undefined);
    });

    it("attaches no managed policies anywhere in the stack (CallbackFunction would attach nine FullAccess ones without a role)", () => {
      assert.deepEqual(findAll(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
      assert.deepEqual(findAll(stack, "aws:iam/policy:Policy"), []);
    });
  });

  describe("IAM, least privilege", () => {
    it("has no wildcard in any Action of any policy in the stack", () => {
      const documents = [...rolePolicies(stack).values()].map((policy) => policy.document);
      documents.push(...findAll(stack, ROLE).map((resource) => parsePolicy(resource.inputs.assumeRolePolicy)));
      assert.ok(documents.length >= 10);
      for (const document of documents)
        for (const statement of document.Statement) for (const action of asList(statement.Action)) assert.ok(!action.includes("*"), action);
    });

    it('uses Resource "*" only for log delivery, whose actions support no resource-level permissions', () => {
      const wildcard = [...rolePolicies(resources)].filter(([, policy]) =>
        policy.document.Statement.some((statement) => asList(statement.Resource).includes("*")),
      );
      assert.deepEqual(
        wildcard.map(([name]) => name),
        ["callback-sfn-log-delivery"],
      );
    });

    it("trusts states.amazonaws.com for this account and a source ARN that matches this state machine only", () => {
      const trust = parsePolicy(role("callback-sfn-role").inputs.assumeRolePolicy);
      assert.equal(trust.Statement.length, 1);
      const [statement] = trust.Statement;
      assert.deepEqual(statement.Principal, { Service: "states.amazonaws.com" });
      assert.equal(statement.Action, "sts:AssumeRole");
      assert.deepEqual(statement.Condition?.StringEquals, { "aws:SourceAccount": "123456789012" });
      const pattern = statement.Condition?.ArnLike["aws:SourceArn"] as string;
      assert.equal(pattern, "arn:aws:states:us-east-1:123456789012:stateMachine:callback-state-machine-*");
      assert.match(machine.state.arn, arnPattern(pattern));
      assert.doesNotMatch("arn:aws:states:us-east-1:123456789012:stateMachine:other-machine-1234567", arnPattern(pattern));
    });

    it("grants the state machine lambda:InvokeFunction on exactly its two functions (and their versions)", () => {
      const policy = rolePolicies(resources).get("callback-sfn-invoke")!;
      assert.equal(policy.role, role("callback-sfn-role").id);
      const split = fn("split-doc").state.arn;
      const handler = fn("wait-for-completion-receiver").state.arn;
      assert.deepEqual(policy.document.Statement, [
        {
          Sid: "InvokeWorkflowFunctions",
          Effect: "Allow",
          Action: ["lambda:InvokeFunction"],
          Resource: [split, `${split}:*`, handler, `${handler}:*`],
        },
      ]);
    });

    it("grants SendTaskSuccess/Failure/Heartbeat only on this state machine, to the token receiver only", () => {
      const policies = rolePolicies(resources);
      const taskResponse = [...policies].filter(([, policy]) =>
        policy.document.Statement.some((statement) => asList(statement.Action).some((action) => action.startsWith("states:SendTask"))),
      );
      assert.deepEqual(
        taskResponse.map(([name]) => name),
        ["callback-wait-for-completion-receiver-task-response"],
      );
      const [, policy] = taskResponse[0];
      assert.equal(policy.role, role("callback-wait-for-completion-receiver-role").id);
      assert.deepEqual(policy.document.Statement, [
        {
          Sid: "AnswerTaskTokens",
          Effect: "Allow",
          Action: ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
          Resource: machine.state.arn,
        },
      ]);
    });

    for (const step of ["split-doc", "wait-for-completion-receiver"]) {
      it(`${step}: trusts lambda.amazonaws.com and may write logs to its own log group only`, () => {
        const trust = parsePolicy(role(`callback-${step}-role`).inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement, [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]);
        const policy = rolePolicies(resources).get(`callback-${step}-logs-policy`)!;
        assert.equal(policy.role, role(`callback-${step}-role`).id);
        const logGroupArn = findOne(resources, LOG_GROUP, `callback-${step}-logs`).state.arn;
        assert.deepEqual(policy.document.Statement, [
          {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [`${logGroupArn}:log-stream:*`],
          },
        ]);
      });
    }

    it("lets the API role only start executions of this state machine", () => {
      const trust = parsePolicy(role("callback-api-role").inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement, [
        { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      const policy = rolePolicies(resources).get("callback-api-start-execution")!;
      assert.equal(policy.role, role("callback-api-role").id);
      assert.deepEqual(policy.document.Statement, [
        { Sid: "StartWorkflow", Effect: "Allow", Action: ["states:StartExecution"], Resource: machine.state.arn },
      ]);
    });

    it("gives the state machine the documented log-delivery actions, exactly", () => {
      const policy = rolePolicies(resources).get("callback-sfn-log-delivery")!;
      assert.equal(policy.role, role("callback-sfn-role").id);
      assert.deepEqual(asList(policy.document.Statement[0].Action), [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ]);
    });
  });

  describe("start API", () => {
    it("is an HTTP API whose GET /start route calls StartExecution through the API role, input from ?input=", () => {
      const api = findOne(resources, "aws:apigatewayv2/api:Api");
      assert.equal(api.inputs.protocolType, "HTTP");
      const integration = findOne(resources, "aws:apigatewayv2/integration:Integration");
      assert.equal(integration.inputs.apiId, api.id);
      assert.equal(integration.inputs.integrationType, "AWS_PROXY");
      assert.equal(integration.inputs.integrationSubtype, "StepFunctions-StartExecution");
      assert.equal(integration.inputs.payloadFormatVersion, "1.0");
      assert.equal(integration.inputs.credentialsArn, role("callback-api-role").state.arn);
      assert.deepEqual(integration.inputs.requestParameters, { StateMachineArn: machine.state.arn, Input: "$request.querystring.input" });
      const route = findOne(resources, "aws:apigatewayv2/route:Route");
      assert.equal(route.inputs.apiId, api.id);
      assert.equal(route.inputs.routeKey, "GET /start");
      assert.equal(route.inputs.target, `integrations/${integration.id}`);
      assert.equal(route.inputs.authorizationType, "NONE");
    });

    it("serves the route on an auto-deployed $default stage with throttling", () => {
      const stage = findOne(resources, "aws:apigatewayv2/stage:Stage");
      assert.equal(stage.inputs.apiId, findOne(resources, "aws:apigatewayv2/api:Api").id);
      assert.equal(stage.inputs.name, "$default");
      assert.equal(stage.inputs.autoDeploy, true);
      assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 10, throttlingRateLimit: 5 });
    });
  });

  describe("stack outputs", () => {
    it("exports startUrl as the API endpoint plus the route path", async () => {
      const api = findOne(resources, "aws:apigatewayv2/api:Api");
      assert.equal(await promiseOf(program.value.startUrl), `${api.state.apiEndpoint}/start`);
      assert.match(await promiseOf(program.value.startUrl), /^https:\/\/[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com\/start$/);
    });

    it("exports the state machine ARN and name, and the function names by step", async () => {
      assert.equal(await promiseOf(program.value.stateMachineArn), machine.state.arn);
      assert.equal(await promiseOf(program.value.stateMachineName), machine.state.name);
      assert.deepEqual(await promiseOf(program.value.functionNames), {
        split: fn("split-doc").state.name,
        handler: fn("wait-for-completion-receiver").state.name,
      });
    });

    it("exports the demo's outputs under the names the docs give", () => {
      for (const name of ["functionNames", "startUrl", "stateMachineArn", "stateMachineName"]) assert.ok(name in program.value, name);
    });
  });

  it("tags every taggable resource with the project and stack", () => {
    const taggable = resources.filter((resource) =>
      [ROLE, FUNCTION, LOG_GROUP, SFN, "aws:apigatewayv2/api:Api", "aws:apigatewayv2/stage:Stage"].includes(resource.type),
    );
    assert.ok(taggable.length >= 10);
    for (const resource of taggable) assert.deepEqual(resource.inputs.tags, { project: "sfn-callback", stack: "test" }, resource.name);
  });
});

describe("deploy: stack config (Pulumi.yaml keys passed to the component)", function () {
  this.timeout(180_000);
  it("sets TimeoutSeconds and HeartbeatSeconds from timeoutSeconds and heartbeatSeconds", async () => {
    const resources = demoWorkflow((await loadProgram({ config: { timeoutSeconds: "120", heartbeatSeconds: "20" } })).resources);
    const wait = JSON.parse(findOne(resources, SFN).inputs.definition).States.WaitForCompletion;
    assert.equal(wait.TimeoutSeconds, 120);
    assert.equal(wait.HeartbeatSeconds, 20);
  });

  it("uses failureRate 0.5 when it is not set", async () => {
    const resources = demoWorkflow((await loadProgram()).resources);
    assert.deepEqual(findOne(resources, FUNCTION, "callback-wait-for-completion-receiver").inputs.environment, {
      variables: { FAILURE_RATE: "0.5" },
    });
  });

  it("rejects a heartbeat that is not less than the timeout, with the component's message", async () => {
    await assert.rejects(loadProgram({ config: { timeoutSeconds: "60", heartbeatSeconds: "60" } }), {
      message: "Invalid CallbackWorkflow args:\n- steps[1] (WaitForCompletion).heartbeatSeconds (60) must be less than timeoutSeconds (60)",
    });
  });

  it("rejects a failureRate outside 0..1", async () => {
    await assert.rejects(loadProgram({ config: { failureRate: "1.5" } }), {
      message: "Configuration 'sfn-callback:failureRate' value '1.5' is outside of the legal range (max 1, inclusive)",
    });
  });
});

describe("deploy: the stack's four workflows", function () {
  this.timeout(180_000);
  let program: Declaration<Record<string, any>>;
  let stack: RecordedResource[];
  const definitionOf = (workflow: string) =>
    JSON.parse(findOne(stack, SFN, `${workflow}-state-machine`).inputs.definition) as { StartAt: string; States: Record<string, any> };

  before(async () => {
    program = await loadProgram();
    stack = program.resources;
  });

  it("deploys the demo, the pipeline, the SQS workflow and the approval workflow, each with a start URL of its own", async () => {
    assert.deepEqual(
      findAll(stack, SFN)
        .map((machine) => machine.name)
        .sort(),
      ["approval-state-machine", "callback-state-machine", "pipeline-workflow-state-machine", "sqs-state-machine"],
    );
    const urls = await Promise.all(
      ["startUrl", "pipelineStartUrl", "sqsStartUrl", "approvalStartUrl"].map((name) => promiseOf(program.value[name])),
    );
    assert.deepEqual(
      urls.map((url) => new URL(url).pathname),
      ["/start", "/documents", "/sqs/start", "/approval/start"],
    );
  });

  it("catches the demo's timeouts under both names AWS uses, States.Timeout and States.HeartbeatTimeout", () => {
    assert.deepEqual(definitionOf("callback").States.WaitForCompletion.Catch[2], {
      ErrorEquals: ["States.Timeout", "States.HeartbeatTimeout"],
      Next: "TimedOut",
    });
  });

  it("SQS workflow: the token goes to the queue whose URL is an output; ProcessingFailed and timeouts are caught", async () => {
    const queue = findOne(stack, "aws:sqs/queue:Queue", "sqs-dispatch-work-queue");
    assert.equal(await promiseOf(program.value.sqsQueueUrl), queue.state.url);
    assert.equal(
      await promiseOf(program.value.sqsDeadLetterQueueUrl),
      findOne(stack, "aws:sqs/queue:Queue", "sqs-dispatch-work-dlq").state.url,
    );
    const definition = definitionOf("sqs");
    assert.equal(definition.StartAt, "DispatchWork");
    assert.deepEqual(definition.States.DispatchWork.Parameters.QueueUrl, queue.state.url);
    assert.deepEqual(
      definition.States.DispatchWork.Catch.map((catcher: any) => catcher.Next),
      ["ProcessingFailed", "UnexpectedFailure", "TimedOut"],
    );
    assert.equal(definition.States.DispatchWork.Next, "WorkDone");
    assert.deepEqual(JSON.parse(queue.inputs.redrivePolicy).maxReceiveCount, 3);
    assert.ok(findOne(stack, "aws:lambda/eventSourceMapping:EventSourceMapping"));
  });

  it("approval workflow: Rejected is caught into a Fail state; the topic's ARN and the links' URL are outputs; no email by default", async () => {
    const definition = definitionOf("approval");
    assert.deepEqual(definition.States.RequestApproval.Catch[0], { ErrorEquals: ["Rejected"], Next: "RequestRejected" });
    assert.deepEqual(definition.States.RequestRejected, { Type: "Fail", Error: "Rejected", CausePath: "$.Cause" });
    assert.equal(definition.States.RequestApproval.Next, "Approved");
    assert.equal(
      await promiseOf(program.value.approvalTopicArn),
      findOne(stack, "aws:sns/topic:Topic", "approval-request-approval-topic").state.arn,
    );
    assert.match(await promiseOf(program.value.approvalLinksUrl), /\/approval-request-approval$/);
    assert.deepEqual(findAll(stack, "aws:sns/topicSubscription:TopicSubscription"), []);
  });

  it("lets pulumi destroy the pipeline's bucket even when jobs wrote objects to it (forceDestroy)", () => {
    assert.equal(findOne(stack, "aws:s3/bucket:Bucket").inputs.forceDestroy, true);
  });

  it("names every state machine's log group under /aws/vendedlogs/states/", () => {
    const groups = findAll(stack, LOG_GROUP).filter((group) => group.name.endsWith("-sfn-logs"));
    assert.equal(groups.length, 4);
    for (const group of groups) assert.match(group.state.name, /^\/aws\/vendedlogs\/states\//, group.name);
  });

  it("opts into public start endpoints explicitly (publicStartEndpoints, default true), each throttled to 5/s with bursts of 10", () => {
    const startRoutes = findAll(stack, "aws:apigatewayv2/route:Route").filter((route) => /-start-route$/.test(route.name));
    assert.equal(startRoutes.length, 4);
    for (const route of startRoutes) assert.equal(route.inputs.authorizationType, "NONE", route.name);
    for (const stage of findAll(stack, "aws:apigatewayv2/stage:Stage"))
      assert.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 10, throttlingRateLimit: 5 }, stage.name);
  });

  it("with publicStartEndpoints false every start route requires SigV4, and approvalEmail subscribes that address", async () => {
    const configured = (await loadProgram({ config: { publicStartEndpoints: "false", approvalEmail: "approver@example.com" } })).resources;
    const startRoutes = findAll(configured, "aws:apigatewayv2/route:Route").filter((route) => /-start-route$/.test(route.name));
    assert.deepEqual(
      startRoutes.map((route) => route.inputs.authorizationType),
      ["AWS_IAM", "AWS_IAM", "AWS_IAM", "AWS_IAM"],
    );
    const subscription = findOne(configured, "aws:sns/topicSubscription:TopicSubscription");
    assert.deepEqual([subscription.inputs.protocol, subscription.inputs.endpoint], ["email", "approver@example.com"]);
  });
});
