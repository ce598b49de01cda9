/**
 * What a cloud provider would answer when the program declares a resource, for engines that have no
 * cloud: Pulumi unit-test mocks (tests/mocks.ts) and the local runtime (local/program). Both must see
 * the same realistic identifiers (ARNs, physical names, endpoints), so they live in one place.
 *
 * Pure: the same declaration always yields the same state, so ARNs are stable across runs.
 */
import { createHash } from "node:crypto";

export interface FakeCloud {
  /** e.g. "us-east-1" */
  region: string;
  /** 12-digit account id used in every ARN */
  accountId: string;
  /**
   * Where API endpoints live. Undefined: AWS-shaped public endpoints (unit tests). Set: the local
   * origin (e.g. "http://127.0.0.1:3000"), so outputs such as `startUrl` point at the local runtime.
   */
  origin?: string;
  /**
   * KMS aliases (`alias/name` → key id) that `aws.kms.getKey` resolves. An alias not listed resolves to a key id
   * derived from its name (the program may declare the alias itself, which a pure answer cannot see).
   */
  kmsAliases?: Record<string, string>;
}

export const DEFAULT_FAKE_CLOUD: FakeCloud = { region: "us-east-1", accountId: "123456789012" };

/** Pulumi auto-naming: logical name plus a 7-character suffix (deterministic here, random on AWS). */
export function physicalName(logicalName: string, salt = ""): string {
  const suffix = createHash("sha256").update(`${logicalName}\0${salt}`).digest("hex").slice(0, 7);
  return `${logicalName}-${suffix}`;
}

export interface FakeResourceArgs {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

export interface FakeResourceResult {
  id: string;
  state: Record<string, any>;
}

/**
 * Returns the id and output state a provider would report for a new resource. Inputs are echoed (as a
 * provider does), then the computed outputs of the types this project uses are filled in. Unknown types
 * still get an `arn` and `id` shaped after their type, so nothing resolves to `undefined` silently.
 */
export function fakeResource(args: FakeResourceArgs, cloud: FakeCloud = DEFAULT_FAKE_CLOUD): FakeResourceResult {
  const { type, name, inputs } = args;
  const { region, accountId } = cloud;
  const state: Record<string, any> = { ...inputs };
  const named = (key = "name") => (state[key] = inputs[key] ?? physicalName(name));

  switch (type) {
    case "aws:iam/role:Role": {
      const roleName = named();
      return withId(roleName, { ...state, arn: `arn:aws:iam::${accountId}:role/${roleName}`, uniqueId: `AROA${hashId(name, 17)}` });
    }
    case "aws:iam/policy:Policy": {
      const policyName = named();
      return withId(`arn:aws:iam::${accountId}:policy/${policyName}`, { ...state, arn: `arn:aws:iam::${accountId}:policy/${policyName}` });
    }
    case "aws:iam/rolePolicy:RolePolicy":
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
      const policyName = named();
      return withId(`${inputs.role}:${policyName}`, state);
    }
    case "aws:lambda/function:Function": {
      const functionName = named();
      const arn = `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
      return withId(functionName, {
        ...state,
        arn,
        qualifiedArn: `${arn}:$LATEST`,
        version: "$LATEST",
        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
      });
    }
    case "aws:lambda/permission:Permission":
      return withId(inputs.statementId ?? physicalName(name), state);
    case "aws:sfn/stateMachine:StateMachine": {
      const machineName = named();
      const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${machineName}`;
      return withId(arn, { ...state, arn, status: "ACTIVE", creationDate: "2026-01-01T00:00:00Z" });
    }
    case "aws:cloudwatch/logGroup:LogGroup": {
      const logGroupName = (state.name =
        inputs.name ?? (inputs.namePrefix ? physicalName(inputs.namePrefix.replace(/-$/, "")) : physicalName(name)));
      return withId(logGroupName, { ...state, arn: `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}` });
    }
    case "aws:apigatewayv2/api:Api": {
      const apiId = hashId(name, 10).toLowerCase();
      const apiEndpoint = cloud.origin ?? `https://${apiId}.execute-api.${region}.amazonaws.com`;
      return withId(apiId, {
        ...state,
        apiEndpoint,
        arn: `arn:aws:apigateway:${region}::/apis/${apiId}`,
        executionArn: `arn:aws:execute-api:${region}:${accountId}:${apiId}`,
      });
    }
    case "aws:apigatewayv2/stage:Stage": {
      const stageName = inputs.name ?? "$default";
      const base = cloud.origin ?? `https://${inputs.apiId}.execute-api.${region}.amazonaws.com`;
      return withId(stageName, { ...state, name: stageName, invokeUrl: stageName === "$default" ? base : `${base}/${stageName}` });
    }
    case "aws:apigateway/restApi:RestApi": {
      const apiId = hashId(name, 10).toLowerCase();
      return withId(apiId, {
        ...state,
        rootResourceId: hashId(`${name}/`, 10).toLowerCase(),
        arn: `arn:aws:apigateway:${region}::/restapis/${apiId}`,
        executionArn: `arn:aws:execute-api:${region}:${accountId}:${apiId}`,
      });
    }
    case "aws:apigateway/stage:Stage": {
      const base = cloud.origin ?? `https://${inputs.restApi}.execute-api.${region}.amazonaws.com`;
      return withId(`ags-${inputs.restApi}-${inputs.stageName}`, {
        ...state,
        invokeUrl: `${base}/${inputs.stageName}`,
        executionArn: `arn:aws:execute-api:${region}:${accountId}:${inputs.restApi}/${inputs.stageName}`,
      });
    }
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = (state.bucket = inputs.bucket ?? physicalName(name).toLowerCase());
      return withId(bucket, {
        ...state,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        region,
      });
    }
    case "aws:dynamodb/table:Table": {
      const tableName = named();
      const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${tableName}`;
      return withId(tableName, { ...state, arn, streamArn: inputs.streamEnabled ? `${arn}/stream/2026-01-01T00:00:00.000` : undefined });
    }
    case "aws:sqs/queue:Queue": {
      const queueName = (state.name = inputs.name ?? autoName(name, inputs.namePrefix, inputs.fifoQueue ? ".fifo" : ""));
      // The URL is where clients send: the local origin when there is one, so a program's output reaches this runtime.
      const url = cloud.origin
        ? `${cloud.origin}/${accountId}/${queueName}`
        : `https://sqs.${region}.amazonaws.com/${accountId}/${queueName}`;
      return withId(url, { ...state, url, arn: `arn:aws:sqs:${region}:${accountId}:${queueName}` });
    }
    case "aws:sqs/queuePolicy:QueuePolicy":
    case "aws:sqs/redrivePolicy:RedrivePolicy":
      return withId(String(inputs.queueUrl), state);
    case "aws:sns/topic:Topic": {
      const topicName = (state.name = inputs.name ?? autoName(name, inputs.namePrefix, inputs.fifoTopic ? ".fifo" : ""));
      const arn = `arn:aws:sns:${region}:${accountId}:${topicName}`;
      return withId(arn, { ...state, arn, owner: accountId });
    }
    case "aws:sns/topicPolicy:TopicPolicy":
      return withId(String(inputs.arn), { ...state, owner: accountId });
    case "aws:sns/topicSubscription:TopicSubscription": {
      const arn = `${inputs.topic}:${uuidFrom(name)}`;
      return withId(arn, { ...state, arn, ownerId: accountId, pendingConfirmation: false, confirmationWasAuthenticated: true });
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping": {
      const uuid = uuidFrom(name);
      const functionName = String(inputs.functionName);
      const functionArn = functionName.startsWith("arn:") ? functionName : `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
      return withId(uuid, {
        ...state,
        uuid,
        functionArn,
        arn: `arn:aws:lambda:${region}:${accountId}:event-source-mapping:${uuid}`,
        state: inputs.enabled === false ? "Disabled" : "Enabled",
      });
    }
    default: {
      // aws:<module>/<kind>:<Type> → arn:aws:<module>:region:account:<kind>/<physical name>
      const match = /^aws:([a-z0-9]+)\/([A-Za-z0-9]+):/.exec(type);
      const id = physicalName(name);
      if (match && !state.arn) state.arn = `arn:aws:${match[1]}:${region}:${accountId}:${match[2].toLowerCase()}/${id}`;
      return withId(id, state);
    }
  }
}

/** `namePrefix` + a suffix (Pulumi's prefix naming), else the logical name auto-named; FIFO names end in ".fifo". */
function autoName(logicalName: string, prefix: string | undefined, ending: string): string {
  const base = prefix ? `${prefix}${hashId(`${logicalName}/prefix`, 26).toLowerCase()}` : physicalName(logicalName);
  return `${base}${ending}`;
}

/** A stable UUID-shaped id (event source mappings and subscriptions are named by UUIDs on AWS). */
function uuidFrom(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function withId(id: string, state: Record<string, any>): FakeResourceResult {
  return { id, state };
}

function hashId(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length).toUpperCase();
}

/**
 * What a provider function (data source) would answer, e.g. `aws.getCallerIdentity()`; unknown functions echo
 * their inputs, as Pulumi's own mock examples do.
 */
export function fakeInvoke(token: string, inputs: Record<string, any>, cloud: FakeCloud = DEFAULT_FAKE_CLOUD): Record<string, any> {
  const { region, accountId } = cloud;
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId, arn: `arn:aws:iam::${accountId}:user/local`, userId: "AIDALOCAL", id: accountId };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: region, endpoint: `${region}.amazonaws.com` };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws", reverseDnsPrefix: "com.amazonaws" };
    case "aws:kms/getKey:getKey":
      return fakeKey(String(inputs.keyId), cloud);
    default:
      return inputs;
  }
}

/**
 * What `aws.kms.getKey` (KMS DescribeKey) answers for a key id, key ARN, alias name or alias ARN: the key's
 * metadata, whose `arn` is always the key's ARN, never the alias's. A key behind an `alias/aws/...` alias is AWS
 * managed. https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 */
function fakeKey(keyReference: string, cloud: FakeCloud): Record<string, any> {
  // An ARN names its own region and account (a key may live in another account); a bare id or alias is the caller's.
  const arn = /^arn:([^:]+):kms:([^:]*):(\d{12}):(.+)$/.exec(keyReference);
  const [partition, region, accountId, resource] = arn
    ? [arn[1], arn[2], arn[3], arn[4]]
    : ["aws", cloud.region, cloud.accountId, keyReference];
  const aliases = cloud.kmsAliases ?? {};
  const keyId = resource.startsWith("alias/")
    ? (aliases[resource] ?? uuidFrom(`${accountId}:${resource}`))
    : resource.replace(/^key\//, "");
  const awsManaged =
    resource.startsWith("alias/aws/") || Object.entries(aliases).some(([alias, id]) => alias.startsWith("alias/aws/") && id === keyId);
  const keyArn = `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`;
  return {
    id: keyArn,
    arn: keyArn,
    keyId,
    awsAccountId: accountId,
    keyManager: awsManaged ? "AWS" : "CUSTOMER",
    keyState: "Enabled",
    enabled: true,
    keyUsage: "ENCRYPT_DECRYPT",
    keySpec: "SYMMETRIC_DEFAULT",
    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    origin: "AWS_KMS",
    multiRegion: keyId.startsWith("mrk-"),
    description: "",
  };
}
