/** The CallbackWorkflow component's options, each declared under mocks and read back from the recorded resources. */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import { CALLBACK_WORKFLOW_TYPE, CallbackWorkflow, type CallbackWorkflowArgs } from "../../components/callbackWorkflow";
import { startExecutionTemplate } from "../../components/startApi";
import { declare, findAll, findOne, promiseOf, type RecordedResource } from "../mocks";
import { asList, rolePolicies } from "./policyAssertions";

const factory = () => async () => ({ done: true });
const handlerOnly: CallbackWorkflowArgs = { handler: { callbackFactory: factory } };

async function declareWorkflow(args: CallbackWorkflowArgs, name = "wf") {
  return declare(() => new CallbackWorkflow(name, args));
}

const definitionOf = (resources: RecordedResource[]) =>
  JSON.parse(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.definition);

describe("deploy: CallbackWorkflow component options", function () {
  this.timeout(30_000);

  it("names every child from the component's name and parents it to the component", async () => {
    const { value: workflow, resources } = await declareWorkflow(
      { ...handlerOnly, split: { callbackFactory: factory }, continueWith: { callbackFactory: factory } },
      "orders",
    );
    const children = resources.filter((resource) => resource.type !== CALLBACK_WORKFLOW_TYPE);
    assert.ok(children.length > 15);
    for (const child of children) assert.ok(child.name.startsWith("orders-"), child.name);
    const urns = await Promise.all(
      [
        workflow.handlerFunction,
        workflow.splitFunction!,
        workflow.continueFunction!,
        workflow.stateMachine,
        workflow.stateMachineRole,
        workflow.httpApi!,
      ].map((resource) => promiseOf(resource.urn)),
    );
    for (const urn of urns) assert.match(urn, new RegExp(`::${CALLBACK_WORKFLOW_TYPE.replace(/\./g, "\\.")}\\$`), urn);
  });

  it("lets two workflows live in one stack without name clashes", async () => {
    const { resources } = await declare(() => [new CallbackWorkflow("first", handlerOnly), new CallbackWorkflow("second", handlerOnly)]);
    const keys = resources.map((resource) => `${resource.type}::${resource.name}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  it("runs ContinueProcess as its own function, invoked by the state machine, without token rights", async () => {
    const { value: workflow, resources } = await declareWorkflow({
      ...handlerOnly,
      continueWith: { callbackFactory: factory, memorySize: 512, timeoutSeconds: 120 },
    });
    const continueFunction = findOne(resources, "aws:lambda/function:Function", "wf-continue");
    assert.equal(continueFunction.inputs.memorySize, 512);
    assert.equal(continueFunction.inputs.timeout, 120);
    assert.equal(definitionOf(resources).States.ContinueProcess.Parameters.FunctionName, continueFunction.state.arn);
    const invoke = rolePolicies(resources).get("wf-sfn-invoke")!;
    assert.ok(asList(invoke.document.Statement[0].Resource).includes(continueFunction.state.arn));
    assert.equal(rolePolicies(resources).get("wf-continue-task-response"), undefined);
    assert.deepEqual(await promiseOf(workflow.functionNames), {
      handler: findOne(resources, "aws:lambda/function:Function", "wf-handler").state.name,
      continue: continueFunction.state.name,
    });
  });

  it("adds a function's extra statements as their own policy on that function's role only, and its environment", async () => {
    const statement: aws.iam.PolicyStatement = { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::documents/chunks/*" };
    const { resources } = await declareWorkflow({
      handler: { callbackFactory: factory, policyStatements: [statement], environment: { BUCKET: "documents" } },
    });
    const extra = rolePolicies(resources).get("wf-handler-extra-policy")!;
    assert.equal(extra.role, findOne(resources, "aws:iam/role:Role", "wf-handler-role").id);
    assert.deepEqual(extra.document.Statement, [statement]);
    assert.deepEqual(findOne(resources, "aws:lambda/function:Function", "wf-handler").inputs.environment, {
      variables: { BUCKET: "documents" },
    });
  });

  it("grantTaskResponse lets another role answer this workflow's tokens, on this state machine only", async () => {
    const { value, resources } = await declare(() => {
      const workflow = new CallbackWorkflow("wf", handlerOnly);
      const worker = new aws.iam.Role("worker", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) });
      workflow.grantTaskResponse("worker", worker);
      return workflow;
    });
    const grant = rolePolicies(resources).get("wf-worker-task-response")!;
    assert.equal(grant.role, findOne(resources, "aws:iam/role:Role", "worker").id);
    assert.deepEqual(grant.document.Statement, [
      {
        Sid: "AnswerTaskTokens",
        Effect: "Allow",
        Action: ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
        Resource: await promiseOf(value.stateMachineArn),
      },
    ]);
  });

  it("with tracing: X-Ray on the state machine and every function, with trace-writing rights", async () => {
    const { resources } = await declareWorkflow({ ...handlerOnly, tracing: true });
    assert.deepEqual(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.tracingConfiguration, { enabled: true });
    assert.deepEqual(findOne(resources, "aws:lambda/function:Function", "wf-handler").inputs.tracingConfig, { mode: "Active" });
    const policies = rolePolicies(resources);
    for (const name of ["wf-sfn-xray", "wf-handler-xray"]) {
      assert.deepEqual(asList(policies.get(name)!.document.Statement[0].Action), [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ]);
    }
  });

  it("with logging OFF: no execution log group and no log-delivery rights", async () => {
    const { value, resources } = await declareWorkflow({ ...handlerOnly, logging: { level: "OFF" } });
    assert.deepEqual(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.loggingConfiguration, { level: "OFF" });
    assert.deepEqual(
      findAll(resources, "aws:cloudwatch/logGroup:LogGroup").map((resource) => resource.name),
      ["wf-handler-logs"],
    );
    assert.equal(rolePolicies(resources).get("wf-sfn-log-delivery"), undefined);
    assert.equal(value.logGroup, undefined);
  });

  it("with logging ALL and a retention: applies both", async () => {
    const { resources } = await declareWorkflow({
      ...handlerOnly,
      logging: { level: "ALL", includeExecutionData: false, retentionInDays: 90 },
    });
    const logGroup = findOne(resources, "aws:cloudwatch/logGroup:LogGroup", "wf-sfn-logs");
    assert.deepEqual(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.loggingConfiguration, {
      level: "ALL",
      includeExecutionData: false,
      logDestination: `${logGroup.state.arn}:*`,
    });
    for (const group of findAll(resources, "aws:cloudwatch/logGroup:LogGroup")) assert.equal(group.inputs.retentionInDays, 90, group.name);
  });

  it("with api none: no API resources, no API role, and no startUrl", async () => {
    const { value, resources } = await declareWorkflow({ ...handlerOnly, api: { type: "none" } });
    assert.deepEqual(
      resources.filter((resource) => resource.type.startsWith("aws:apigateway")),
      [],
    );
    assert.throws(() => findOne(resources, "aws:iam/role:Role", "wf-api-role"));
    assert.equal(await promiseOf(value.startUrl), undefined);
  });

  it("with an HTTP API on POST and IAM auth: the body is the input and the route requires SigV4", async () => {
    const { value, resources } = await declareWorkflow({
      ...handlerOnly,
      api: { method: "POST", path: "/jobs", authorization: "AWS_IAM", throttle: { burstLimit: 10, rateLimit: 2 } },
    });
    assert.deepEqual(findOne(resources, "aws:apigatewayv2/integration:Integration").inputs.requestParameters.Input, "$request.body");
    const route = findOne(resources, "aws:apigatewayv2/route:Route");
    assert.equal(route.inputs.routeKey, "POST /jobs");
    assert.equal(route.inputs.authorizationType, "AWS_IAM");
    assert.deepEqual(findOne(resources, "aws:apigatewayv2/stage:Stage").inputs.defaultRouteSettings, {
      throttlingBurstLimit: 10,
      throttlingRateLimit: 2,
    });
    assert.equal(await promiseOf(value.startUrl), `${findOne(resources, "aws:apigatewayv2/api:Api").state.apiEndpoint}/jobs`);
  });

  describe("REST API variant (awsx) with an API key and IAM auth", () => {
    let declared: Awaited<ReturnType<typeof declareWorkflow>>;
    let swagger: any;
    let operation: any;
    before(async () => {
      declared = await declareWorkflow({
        ...handlerOnly,
        api: { type: "rest", apiKeyRequired: true, authorization: "AWS_IAM", throttle: { burstLimit: 20, rateLimit: 5 } },
      });
      swagger = JSON.parse(findOne(declared.resources, "aws:apigateway/restApi:RestApi").inputs.body);
      operation = swagger.paths["/start"].get;
    });

    it("integrates GET /start with states:action/StartExecution through the API role", () => {
      const integration = operation["x-amazon-apigateway-integration"];
      assert.equal(integration.type, "aws");
      assert.equal(integration.httpMethod, "POST");
      assert.equal(integration.uri, "arn:aws:apigateway:us-east-1:states:action/StartExecution");
      assert.equal(integration.credentials, findOne(declared.resources, "aws:iam/role:Role", "wf-api-role").state.arn);
      const machineArn = findOne(declared.resources, "aws:sfn/stateMachine:StateMachine").state.arn;
      assert.equal(integration.requestTemplates["application/json"], startExecutionTemplate(machineArn, "GET"));
      assert.deepEqual(integration.responses, { default: { statusCode: "200" }, "4\\d{2}": { statusCode: "400" } });
    });

    it("requires SigV4 and an API key on the route", () => {
      assert.deepEqual(operation["x-amazon-apigateway-auth"], { type: "AWS_IAM" });
      assert.deepEqual(operation.security, [{ api_key: [] }]);
      assert.deepEqual(swagger.securityDefinitions, { api_key: { type: "apiKey", name: "x-api-key", in: "header" } });
      assert.equal(findOne(declared.resources, "aws:apigateway/restApi:RestApi").inputs.apiKeySource, "HEADER");
    });

    it("creates a usage plan with the throttle on the stage, a key, and ties them together", () => {
      const restApi = findOne(declared.resources, "aws:apigateway/restApi:RestApi");
      const stage = findOne(declared.resources, "aws:apigateway/stage:Stage");
      const plan = findOne(declared.resources, "aws:apigateway/usagePlan:UsagePlan");
      assert.deepEqual(plan.inputs.apiStages, [{ apiId: restApi.id, stage: stage.inputs.stageName }]);
      assert.deepEqual(plan.inputs.throttleSettings, { burstLimit: 20, rateLimit: 5 });
      const key = findOne(declared.resources, "aws:apigateway/apiKey:ApiKey");
      const planKey = findOne(declared.resources, "aws:apigateway/usagePlanKey:UsagePlanKey");
      assert.deepEqual([planKey.inputs.keyId, planKey.inputs.usagePlanId, planKey.inputs.keyType], [key.id, plan.id, "API_KEY"]);
      const settings = findOne(declared.resources, "aws:apigateway/methodSettings:MethodSettings");
      assert.deepEqual(settings.inputs.settings, { throttlingBurstLimit: 20, throttlingRateLimit: 5 });
      assert.equal(settings.inputs.methodPath, "*/*");
    });

    it("exports startUrl as the stage URL plus the path", async () => {
      const stage = findOne(declared.resources, "aws:apigateway/stage:Stage");
      assert.equal(stage.inputs.stageName, "v1");
      assert.equal(await promiseOf(declared.value.startUrl), `${stage.state.invokeUrl}/start`);
    });

    it("creates no HTTP API resources and no Lambda for the API", () => {
      assert.deepEqual(
        declared.resources.filter((resource) => resource.type.startsWith("aws:apigatewayv2")),
        [],
      );
      assert.deepEqual(
        findAll(declared.resources, "aws:lambda/function:Function").map((resource) => resource.name),
        ["wf-handler"],
      );
    });
  });

  it("maps a GET's ?input= to the execution input ({} when absent) and a POST's body, in the REST template", () => {
    const arn = "arn:aws:states:us-east-1:123456789012:stateMachine:wf-1";
    assert.equal(
      startExecutionTemplate(arn, "GET"),
      `#set($executionInput = $input.params('input'))\n#if($executionInput == "")#set($executionInput = "{}")#end\n{"stateMachineArn": "${arn}", "input": "$util.escapeJavaScript($executionInput)"}`,
    );
    assert.equal(startExecutionTemplate(arn, "POST"), `{"stateMachineArn": "${arn}", "input": "$util.escapeJavaScript($input.json('$'))"}`);
  });

  it("rejects invalid args before declaring anything", async () => {
    await assert.rejects(declareWorkflow({ ...handlerOnly, timeoutSeconds: 30, heartbeatSeconds: 30 }), {
      message: "Invalid CallbackWorkflow args:\n- heartbeatSeconds (30) must be less than timeoutSeconds (30)",
    });
  });
});
