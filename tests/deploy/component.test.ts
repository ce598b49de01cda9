/** The CallbackWorkflow component's options, each declared under mocks and read back from the recorded resources. */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import { CALLBACK_WORKFLOW_TYPE, CallbackWorkflow, type CallbackWorkflowArgs } from "../../components/callbackWorkflow";
import { requirePackageRoots } from "../../components/lambdaStep";
import { startExecutionTemplate } from "../../components/startApi";
import { declare, findAll, findOne, promiseOf, type RecordedResource } from "../mocks";
import { asList, rolePolicies } from "./policyAssertions";

const factory = () => async () => ({ done: true });
const waitStep = (tokenReceiver: Record<string, unknown> = {}) => ({
  type: "callback" as const,
  name: "Wait",
  channel: { type: "lambda" as const, tokenReceiver: { callbackFactory: factory, ...tokenReceiver } },
});
const handlerOnly: CallbackWorkflowArgs = { steps: [waitStep()] };
/** The demo's shape: a lambda step before the wait and one after it. */
const threeSteps: CallbackWorkflowArgs = {
  steps: [
    { type: "lambda", name: "Split", function: { callbackFactory: factory } },
    waitStep(),
    { type: "lambda", name: "Continue", function: { callbackFactory: factory, memorySize: 512, timeoutSeconds: 120 } },
  ],
};

async function declareWorkflow(args: CallbackWorkflowArgs, name = "wf") {
  return declare(() => new CallbackWorkflow(name, args));
}

const definitionOf = (resources: RecordedResource[]) =>
  JSON.parse(findOne(resources, "aws:sfn/stateMachine:StateMachine").inputs.definition);

describe("deploy: CallbackWorkflow component options", function () {
  this.timeout(30_000);

  it("names every child from the component's name and parents it to the component", async () => {
    const { value: workflow, resources } = await declareWorkflow(threeSteps, "orders");
    const children = resources.filter((resource) => resource.type !== CALLBACK_WORKFLOW_TYPE);
    assert.ok(children.length > 15);
    for (const child of children) assert.ok(child.name.startsWith("orders-"), child.name);
    const urns = await Promise.all(
      [
        workflow.functions["Wait.receiver"].function,
        workflow.functions.Split.function,
        workflow.functions.Continue.function,
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

  it("runs a lambda step after the wait as its own function, invoked by the state machine, without token rights", async () => {
    const { value: workflow, resources } = await declareWorkflow(threeSteps);
    const continueFunction = findOne(resources, "aws:lambda/function:Function", "wf-continue");
    assert.equal(continueFunction.inputs.memorySize, 512);
    assert.equal(continueFunction.inputs.timeout, 120);
    assert.equal(definitionOf(resources).States.Continue.Parameters.FunctionName, continueFunction.state.arn);
    const invoke = rolePolicies(resources).get("wf-sfn-invoke")!;
    assert.ok(asList(invoke.document.Statement[0].Resource).includes(continueFunction.state.arn));
    assert.equal(rolePolicies(resources).get("wf-continue-task-response"), undefined);
    assert.deepEqual(await promiseOf(workflow.functionNames), {
      Split: findOne(resources, "aws:lambda/function:Function", "wf-split").state.name,
      "Wait.receiver": findOne(resources, "aws:lambda/function:Function", "wf-wait-receiver").state.name,
      Continue: continueFunction.state.name,
    });
  });

  it("invokes an existing token receiver given by ARN, declaring no function and granting nothing to it", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:existing-receiver";
    const { resources } = await declareWorkflow({
      steps: [{ type: "callback", name: "Wait", channel: { type: "lambda", tokenReceiver: { arn } } }],
    });
    assert.deepEqual(findAll(resources, "aws:lambda/function:Function"), []);
    assert.deepEqual(asList(rolePolicies(resources).get("wf-sfn-invoke")!.document.Statement[0].Resource), [arn, `${arn}:*`]);
    assert.deepEqual(
      [...rolePolicies(resources).keys()].filter((name) => name.endsWith("-task-response")),
      [],
    );
    assert.equal(definitionOf(resources).States.Wait.Parameters.FunctionName, arn);
  });

  it("grants the task response to a token receiver it defines, on this state machine only", async () => {
    const { resources } = await declareWorkflow(handlerOnly);
    const grant = rolePolicies(resources).get("wf-wait-receiver-task-response")!;
    assert.equal(grant.role, findOne(resources, "aws:iam/role:Role", "wf-wait-receiver-role").id);
    assert.deepEqual(grant.document.Statement, [
      {
        Sid: "AnswerTaskTokens",
        Effect: "Allow",
        Action: ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
        Resource: findOne(resources, "aws:sfn/stateMachine:StateMachine").state.arn,
      },
    ]);
  });

  it("names the execution log group under /aws/vendedlogs/states/, as Step Functions advises", async () => {
    const { resources } = await declareWorkflow(handlerOnly);
    const logGroup = findOne(resources, "aws:cloudwatch/logGroup:LogGroup", "wf-sfn-logs");
    assert.equal(logGroup.inputs.namePrefix, "/aws/vendedlogs/states/wf-");
    assert.match(logGroup.state.name, /^\/aws\/vendedlogs\/states\/wf-[0-9a-f]{7}$/);
  });

  it("adds a function's extra statements as their own policy on that function's role only, and its environment", async () => {
    const statement: aws.iam.PolicyStatement = { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::documents/chunks/*" };
    const { resources } = await declareWorkflow({
      steps: [waitStep({ policyStatements: [statement], environment: { BUCKET: "documents" } })],
    });
    const extra = rolePolicies(resources).get("wf-wait-receiver-extra-policy")!;
    assert.equal(extra.role, findOne(resources, "aws:iam/role:Role", "wf-wait-receiver-role").id);
    assert.deepEqual(extra.document.Statement, [statement]);
    assert.deepEqual(findOne(resources, "aws:lambda/function:Function", "wf-wait-receiver").inputs.environment, {
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
    assert.deepEqual(findOne(resources, "aws:lambda/function:Function", "wf-wait-receiver").inputs.tracingConfig, { mode: "Active" });
    const policies = rolePolicies(resources);
    for (const name of ["wf-sfn-xray", "wf-wait-receiver-xray"]) {
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
      ["wf-wait-receiver-logs"],
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

  it("with an HTTP API on POST and the default authorization: the body is the input and the route requires SigV4 (AWS_IAM)", async () => {
    const { value, resources } = await declareWorkflow({
      ...handlerOnly,
      api: { method: "POST", path: "/jobs", throttle: { burstLimit: 10, rateLimit: 2 } },
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
        ["wf-wait-receiver"],
      );
    });
  });

  it("with authorization NONE: the route is public, as the demo stack opts into explicitly", async () => {
    const { resources } = await declareWorkflow({ ...handlerOnly, api: { authorization: "NONE" } });
    assert.equal(findOne(resources, "aws:apigatewayv2/route:Route").inputs.authorizationType, "NONE");
  });

  describe("the REST template turns a request into valid StartExecution JSON", () => {
    const arn = "arn:aws:states:us-east-1:123456789012:stateMachine:wf-1";
    const input = { note: "it's Bob's \"draft\"\nline two", path: "a/b", accent: "café" };

    it("keeps apostrophes, quotes, slashes and non-ASCII text of a POST body, which escapeJavaScript alone would break", () => {
      const body = renderTemplate(startExecutionTemplate(arn, "POST"), { body: JSON.stringify(input) });
      const parsed = JSON.parse(body);
      assert.equal(parsed.stateMachineArn, arn);
      assert.deepEqual(JSON.parse(parsed.input), input);
    });

    it("takes a GET's ?input= as the execution input, and {} when there is none", () => {
      assert.deepEqual(
        JSON.parse(JSON.parse(renderTemplate(startExecutionTemplate(arn, "GET"), { query: JSON.stringify(input) })).input),
        input,
      );
      assert.equal(JSON.parse(renderTemplate(startExecutionTemplate(arn, "GET"), { query: "" })).input, "{}");
    });
  });

  it("rewrites a require of an SDK package's main file to the package root, and nothing else", () => {
    const mains = { "@aws-sdk/client-sfn": "dist-cjs/index.js" };
    assert.equal(
      requirePackageRoots(
        'const a = require("@aws-sdk/client-sfn/dist-cjs/index.js"); const b = require("@aws-sdk/client-sfn/dist-cjs/commands/x.js");',
        mains,
      ),
      'const a = require("@aws-sdk/client-sfn"); const b = require("@aws-sdk/client-sfn/dist-cjs/commands/x.js");',
    );
    assert.equal(
      requirePackageRoots('require("crypto"); require("@aws-sdk/client-s3/dist-cjs/index.js")', mains),
      'require("crypto"); require("@aws-sdk/client-s3/dist-cjs/index.js")',
    );
  });

  it("reads each SDK package's main file from its own package.json", () => {
    assert.equal(requirePackageRoots('require("@aws-sdk/client-sqs/dist-cjs/index.js")'), 'require("@aws-sdk/client-sqs")');
  });

  it("rejects invalid args before declaring anything, the component itself included", async () => {
    const declared = await declare(() => {
      try {
        return new CallbackWorkflow("wf", { steps: [{ ...waitStep(), timeoutSeconds: 30, heartbeatSeconds: 30 }] });
      } catch (error) {
        return error as Error;
      }
    });
    assert.ok(declared.value instanceof Error);
    assert.equal(
      declared.value.message,
      "Invalid CallbackWorkflow args:\n- steps[0] (Wait).heartbeatSeconds (30) must be less than timeoutSeconds (30)",
    );
    assert.deepEqual(declared.resources, []);
  });
});

/**
 * Renders the start template the way API Gateway does, for the three things it uses: `$input.params('input')`,
 * `$input.json('$')` and `$util.escapeJavaScript(...)` (Apache Commons Lang's escapeJavaScript: `"`, `'`, `\`
 * and `/` get a backslash, control and non-ASCII characters become \uXXXX), followed by the template's own
 * `.replaceAll(regex, replacement)` as Java applies it. Written here because no VTL engine with API Gateway's
 * `$util` is available; it reads the template's replaceAll arguments instead of assuming them.
 */
function renderTemplate(template: string, request: { body?: string; query?: string }): string {
  const escapeJavaScript = (text: string) =>
    text.replace(/["'\\/]|[^\x20-\x7e]/g, (c) => {
      if (`"'\\/`.includes(c)) return `\\${c}`;
      const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f" };
      return named[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    });
  let executionInput = request.query ?? "";
  const lines = template.split("\n").filter((line) => {
    if (line.startsWith("#set($executionInput = $input.params('input'))")) return false;
    if (line.startsWith('#if($executionInput == "")')) {
      if (executionInput === "") executionInput = "{}";
      return false;
    }
    return true;
  });
  return lines
    .join("\n")
    .replace(
      /\$util\.escapeJavaScript\((.*?)\)\.replaceAll\("((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\)/g,
      (_, source: string, regex: string, replacement: string) => {
        const value =
          source === "$executionInput" ? executionInput : source === "$input.json('$')" ? (request.body ?? "{}") : assert.fail(source);
        // VTL string literals keep backslashes as written; Java reads the first argument as a regex.
        return escapeJavaScript(value).replace(new RegExp(regex, "g"), replacement);
      },
    );
}
