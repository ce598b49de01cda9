/**
 * What an AWS API request asks IAM for: the action, the resource ARN(s) and the request's own condition keys,
 * per operation the local services serve (Service Authorization Reference; where AWS behaves otherwise, AWS's
 * behaviour, said where it applies). Requests this file does not recognize are left to the service, which answers
 * them with its own error (UnknownOperation, NotImplemented).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import type { IncomingMessage } from "node:http";
import { isQueryRequest, parseQueryForm } from "../common/awsQuery";
import { copySourceTarget, s3Target } from "../s3/target";

export interface OperationCall {
  action: string;
  resource: string;
  context?: Record<string, string[]>;
  executionArn?: string;
}

export interface DescribedRequest {
  calls: OperationCall[];
  /** GetObject/HeadObject: S3 answers a missing key with 403 instead of 404 when the caller may not s3:ListBucket. */
  object?: { bucket: string; key: string };
}

/** What the describers need to know about the running system. */
export interface ResourceDirectory {
  region: string;
  accountId: string;
  /** The execution a task token belongs to, if the token is known. */
  executionArnOfToken(token: string): string | undefined;
}

export function describeRequest(
  signingName: string,
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  directory: ResourceDirectory,
): DescribedRequest | undefined {
  switch (signingName) {
    case "states":
      return jsonOperation(req, body, "AWSStepFunctions.", (operation, input) => stepFunctionsCalls(operation, input, directory));
    case "dynamodb":
      return jsonOperation(req, body, "DynamoDB_20120810.", (operation, input) => dynamoDbCalls(operation, input, directory));
    case "lambda":
      return lambdaCalls(req, url, directory);
    case "s3":
      return s3Calls(req, url, body);
    case "sqs":
      return sqsRequest(req, url, body, directory);
    case "sns":
      return snsRequest(url, body, directory);
    default:
      return undefined;
  }
}

function jsonOperation(
  req: IncomingMessage,
  body: Buffer,
  prefix: string,
  describe: (operation: string, input: Record<string, any>) => OperationCall[] | undefined,
): DescribedRequest | undefined {
  const target = String(req.headers["x-amz-target"] ?? "");
  if (!target.startsWith(prefix)) return undefined;
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    return undefined; // the service answers SerializationException
  }
  if (!input || typeof input !== "object") return undefined;
  const calls = describe(target.slice(prefix.length), input as Record<string, any>);
  return calls && { calls };
}

// ---- Step Functions --------------------------------------------------------------------------------------

const EXECUTION_OPERATIONS = new Set([
  "DescribeExecution",
  "GetExecutionHistory",
  "StopExecution",
  "DescribeStateMachineForExecution",
  "RedriveExecution",
]);
const TASK_RESPONSE_OPERATIONS = new Set(["SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"]);

function stepFunctionsCalls(operation: string, input: Record<string, any>, directory: ResourceDirectory): OperationCall[] | undefined {
  const action = `states:${operation}`;
  if (operation === "StartExecution" || operation === "ListExecutions" || operation === "DescribeStateMachine")
    return typeof input.stateMachineArn === "string" ? [{ action, resource: input.stateMachineArn }] : undefined;
  if (EXECUTION_OPERATIONS.has(operation))
    return typeof input.executionArn === "string"
      ? [{ action, resource: input.executionArn, executionArn: input.executionArn }]
      : undefined;
  if (TASK_RESPONSE_OPERATIONS.has(operation)) {
    // The reference lists SendTask* with no resource type, yet AWS checks them against the state machine whose
    // execution issued the token (the AWS CDK's grantTaskResponse scopes them there). An unknown token names no
    // state machine: the service answers InvalidToken, as AWS does.
    const executionArn = typeof input.taskToken === "string" ? directory.executionArnOfToken(input.taskToken) : undefined;
    return executionArn ? [{ action, resource: stateMachineOfExecution(executionArn), executionArn }] : undefined;
  }
  if (operation === "ListStateMachines") return [{ action, resource: "*" }];
  if (operation === "TestState") {
    // The reference lists TestState without a resource type; the role it runs as is passed to Step Functions, and
    // revealSecrets needs states:RevealSecrets.
    const calls: OperationCall[] = [{ action, resource: "*" }];
    if (input.revealSecrets === true) calls.push({ action: "states:RevealSecrets", resource: "*" });
    if (typeof input.roleArn === "string")
      calls.push({ action: "iam:PassRole", resource: input.roleArn, context: { "iam:passedtoservice": ["states.amazonaws.com"] } });
    return calls;
  }
  if (operation === "CreateStateMachine" && typeof input.name === "string") {
    const calls: OperationCall[] = [
      { action, resource: `arn:aws:states:${directory.region}:${directory.accountId}:stateMachine:${input.name}` },
    ];
    if (typeof input.roleArn === "string")
      calls.push({ action: "iam:PassRole", resource: input.roleArn, context: { "iam:passedtoservice": ["states.amazonaws.com"] } });
    return calls;
  }
  return undefined;
}

/** `arn:aws:states:r:a:execution:MACHINE:NAME` → `arn:aws:states:r:a:stateMachine:MACHINE`. */
export function stateMachineOfExecution(executionArn: string): string {
  const parts = executionArn.split(":");
  return [...parts.slice(0, 5), "stateMachine", parts[6]].join(":");
}

// ---- SQS -----------------------------------------------------------------------------------------------------

/** The batch operations are authorized as their single-message actions (the reference lists no *Batch actions). */
const SQS_ACTIONS: Record<string, string> = {
  SendMessage: "SendMessage",
  SendMessageBatch: "SendMessage",
  ReceiveMessage: "ReceiveMessage",
  DeleteMessage: "DeleteMessage",
  DeleteMessageBatch: "DeleteMessage",
  ChangeMessageVisibility: "ChangeMessageVisibility",
  ChangeMessageVisibilityBatch: "ChangeMessageVisibility",
  GetQueueAttributes: "GetQueueAttributes",
  SetQueueAttributes: "SetQueueAttributes",
  PurgeQueue: "PurgeQueue",
  DeleteQueue: "DeleteQueue",
};

/** SQS speaks JSON (`X-Amz-Target: AmazonSQS.<Operation>`, the SDK v3) and the query protocol (the AWS CLI 2.9). */
function sqsRequest(req: IncomingMessage, url: URL, body: Buffer, directory: ResourceDirectory): DescribedRequest | undefined {
  const target = String(req.headers["x-amz-target"] ?? "");
  if (target.startsWith("AmazonSQS."))
    return jsonOperation(req, body, "AmazonSQS.", (operation, input) => sqsCalls(operation, input, directory));
  const form = parseQueryForm(isQueryRequest(req.headers["content-type"], body) ? body.toString("utf8") : "", url.searchParams);
  if (typeof form.Action !== "string") return undefined;
  const input: Record<string, unknown> = { ...form };
  // The query protocol may name the queue by the request path instead of a QueueUrl parameter.
  if (input.QueueUrl === undefined && /^\/\d{12}\/[^/]+$/.test(url.pathname)) input.QueueUrl = `http://local${url.pathname}`;
  const calls = sqsCalls(form.Action, input, directory);
  return calls && { calls };
}

function sqsCalls(operation: string, input: Record<string, any>, directory: ResourceDirectory): OperationCall[] | undefined {
  const queue = (account: unknown, name: string) =>
    `arn:aws:sqs:${directory.region}:${typeof account === "string" && account !== "" ? account : directory.accountId}:${name}`;
  switch (operation) {
    case "ListQueues":
      return [{ action: "sqs:ListQueues", resource: "*" }];
    case "CreateQueue":
    case "GetQueueUrl":
      return typeof input.QueueName === "string" && input.QueueName !== ""
        ? [{ action: `sqs:${operation}`, resource: queue(input.QueueOwnerAWSAccountId, input.QueueName) }]
        : undefined;
  }
  const action = SQS_ACTIONS[operation];
  const arn = action ? queueArnOfUrl(input.QueueUrl, directory.region) : undefined;
  // An unknown operation or a URL naming no queue: the service answers (UnknownOperation, QueueDoesNotExist).
  return arn ? [{ action: `sqs:${action}`, resource: arn }] : undefined;
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` (any host: the path names the queue) → the queue's ARN. */
export function queueArnOfUrl(queueUrl: unknown, region: string): string | undefined {
  if (typeof queueUrl !== "string") return undefined;
  let path: string;
  try {
    path = new URL(queueUrl).pathname;
  } catch {
    return undefined;
  }
  const match = /^\/(\d{12})\/([\w.-]{1,80})$/.exec(path);
  return match ? `arn:aws:sqs:${region}:${match[1]}:${match[2]}` : undefined;
}

// ---- SNS ------------------------------------------------------------------------------------------------------

const SNS_TOPIC_OPERATIONS = new Set([
  "DeleteTopic",
  "GetTopicAttributes",
  "SetTopicAttributes",
  "ListSubscriptionsByTopic",
  "ConfirmSubscription",
  "Publish",
]);
const SNS_SUBSCRIPTION_OPERATIONS = new Set(["Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes"]);

/** SNS speaks only the query protocol. */
function snsRequest(url: URL, body: Buffer, directory: ResourceDirectory): DescribedRequest | undefined {
  if (url.pathname.startsWith("/_local/")) return undefined; // the outbox and the signing key: the runtime's own pages
  const form = parseQueryForm(body.toString("utf8"), url.searchParams);
  const operation = form.Action;
  if (typeof operation !== "string") return undefined;
  const text = (name: string) => (typeof form[name] === "string" && form[name] !== "" ? (form[name] as string) : undefined);
  const calls = (action: string, resource: string | undefined, context?: Record<string, string[]>) =>
    resource ? { calls: [{ action: `sns:${action}`, resource, context }] } : undefined;
  if (operation === "ListTopics" || operation === "ListSubscriptions") return calls(operation, "*");
  if (operation === "CreateTopic") {
    const name = text("Name");
    return name ? calls(operation, `arn:aws:sns:${directory.region}:${directory.accountId}:${name}`) : undefined;
  }
  // PublishBatch is authorized as sns:Publish.
  if (operation === "PublishBatch") return calls("Publish", text("TopicArn"));
  if (SNS_TOPIC_OPERATIONS.has(operation)) return calls(operation, text("TopicArn"));
  if (operation === "Subscribe") {
    const context: Record<string, string[]> = {};
    if (text("Protocol")) context["sns:Protocol"] = [text("Protocol")!];
    if (text("Endpoint")) context["sns:Endpoint"] = [text("Endpoint")!];
    return calls(operation, text("TopicArn"), context);
  }
  // A subscription's actions are authorized on its topic: `<topicArn>:<subscription id>`.
  if (SNS_SUBSCRIPTION_OPERATIONS.has(operation)) {
    const subscriptionArn = text("SubscriptionArn");
    const topicArn = subscriptionArn?.split(":").length === 7 ? subscriptionArn.slice(0, subscriptionArn.lastIndexOf(":")) : undefined;
    return calls(operation, topicArn);
  }
  return undefined;
}

// ---- DynamoDB ------------------------------------------------------------------------------------------------

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
  Get: "GetItem",
};

function dynamoDbCalls(operation: string, input: Record<string, any>, directory: ResourceDirectory): OperationCall[] | undefined {
  const table = (name: string) => `arn:aws:dynamodb:${directory.region}:${directory.accountId}:table/${name}`;
  const context: Record<string, string[]> = {};
  for (const [field, key] of [
    ["ReturnValues", "dynamodb:ReturnValues"],
    ["Select", "dynamodb:Select"],
    ["ReturnConsumedCapacity", "dynamodb:ReturnConsumedCapacity"],
  ])
    if (typeof input[field] === "string") context[key] = [input[field]];
  if (operation === "ListTables") return [{ action: "dynamodb:ListTables", resource: "*" }];
  if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
    if (!input.RequestItems || typeof input.RequestItems !== "object") return undefined;
    return Object.keys(input.RequestItems).map((name) => ({ action: `dynamodb:${operation}`, resource: table(name), context }));
  }
  if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
    if (!Array.isArray(input.TransactItems)) return undefined;
    const calls: OperationCall[] = [];
    for (const item of input.TransactItems) {
      for (const [kind, detail] of Object.entries<any>(item ?? {}))
        if (TRANSACT_ACTIONS[kind] && typeof detail?.TableName === "string")
          calls.push({ action: `dynamodb:${TRANSACT_ACTIONS[kind]}`, resource: table(detail.TableName) });
    }
    return calls;
  }
  if (typeof input.TableName !== "string") return undefined;
  const resource = typeof input.IndexName === "string" ? `${table(input.TableName)}/index/${input.IndexName}` : table(input.TableName);
  return [{ action: `dynamodb:${operation}`, resource, context }];
}

// ---- Lambda -----------------------------------------------------------------------------------------------------

function lambdaCalls(req: IncomingMessage, url: URL, directory: ResourceDirectory): DescribedRequest | undefined {
  const route = /^\/2015-03-31\/functions(?:\/([^/]+))?(\/invocations|\/configuration|\/policy)?\/?$/.exec(url.pathname);
  if (!route) return undefined;
  const [, encodedName, suffix] = route;
  if (encodedName === undefined)
    return req.method === "GET" && !suffix ? { calls: [{ action: "lambda:ListFunctions", resource: "*" }] } : undefined;
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    return undefined;
  }
  const qualifier = url.searchParams.get("Qualifier");
  const functionArn = /^arn:/.test(name) ? name : `arn:aws:lambda:${directory.region}:${directory.accountId}:function:${name}`;
  const resource = qualifier ? `${functionArn}:${qualifier}` : functionArn;
  const action =
    req.method === "POST" && suffix === "/invocations"
      ? "lambda:InvokeFunction"
      : req.method === "GET" && suffix === undefined
        ? "lambda:GetFunction"
        : req.method === "GET" && suffix === "/configuration"
          ? "lambda:GetFunctionConfiguration"
          : req.method === "GET" && suffix === "/policy"
            ? "lambda:GetPolicy"
            : undefined;
  return action ? { calls: [{ action, resource }] } : undefined;
}

// ---- S3 -----------------------------------------------------------------------------------------------------------

function s3Calls(req: IncomingMessage, url: URL, body: Buffer): DescribedRequest | undefined {
  const method = req.method ?? "GET";
  // The same split S3 makes (raw target, literal keys), so the object authorized is the object served.
  const target = s3Target(req.url ?? "/");
  if (!target) return undefined;
  const bucket = target.bucket ?? "";
  const key = target.key;
  const query = url.searchParams;
  if (!bucket) return method === "GET" ? { calls: [{ action: "s3:ListAllMyBuckets", resource: "*" }] } : undefined;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const bucketCall = (action: string, context?: Record<string, string[]>) => ({ calls: [{ action, resource: bucketArn, context }] });
  if (key === undefined || key === "") {
    switch (method) {
      case "GET": {
        if (query.has("location")) return bucketCall("s3:GetBucketLocation");
        if (query.has("uploads")) return bucketCall("s3:ListBucketMultipartUploads");
        const context: Record<string, string[]> = {};
        for (const name of ["prefix", "delimiter", "max-keys"]) if (query.has(name)) context[`s3:${name}`] = [query.get(name)!];
        return bucketCall("s3:ListBucket", context);
      }
      case "HEAD":
        return bucketCall("s3:ListBucket"); // HeadBucket is authorized as s3:ListBucket
      case "PUT":
        return bucketCall("s3:CreateBucket");
      case "DELETE":
        return bucketCall("s3:DeleteBucket");
      case "POST": {
        if (!query.has("delete")) return undefined;
        // DeleteObjects is authorized per object, as s3:DeleteObject.
        const keys = [...body.toString("utf8").matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1]));
        return { calls: keys.map((name) => ({ action: "s3:DeleteObject", resource: `${bucketArn}/${name}` })) };
      }
    }
    return undefined;
  }
  const objectArn = `${bucketArn}/${key}`;
  switch (method) {
    case "GET":
      if (query.has("uploadId")) return { calls: [{ action: "s3:ListMultipartUploadParts", resource: objectArn }] };
      return { calls: [{ action: "s3:GetObject", resource: objectArn }], object: { bucket, key } };
    case "HEAD":
      return { calls: [{ action: "s3:GetObject", resource: objectArn }], object: { bucket, key } };
    case "PUT": {
      const calls: OperationCall[] = [{ action: "s3:PutObject", resource: objectArn }];
      const copySource = req.headers["x-amz-copy-source"];
      if (typeof copySource === "string" && !query.has("uploadId")) {
        // The object S3 copies (one reading of the header for both); a header that names none, S3 refuses with its own 400.
        const source = copySourceTarget(copySource);
        if (!("invalid" in source)) calls.push({ action: "s3:GetObject", resource: `arn:aws:s3:::${source.bucket}/${source.key}` });
      }
      return { calls };
    }
    case "DELETE":
      return { calls: [{ action: query.has("uploadId") ? "s3:AbortMultipartUpload" : "s3:DeleteObject", resource: objectArn }] };
    case "POST":
      // CreateMultipartUpload and CompleteMultipartUpload are authorized as s3:PutObject.
      return query.has("uploads") || query.has("uploadId") ? { calls: [{ action: "s3:PutObject", resource: objectArn }] } : undefined;
  }
  return undefined;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}
