/**
 * The local DynamoDB (dynalite embedded, plus Time to Live) driven by the unmodified AWS SDK v3: tables from
 * `aws.dynamodb.Table` declarations, the single-item conditional writes and atomic counters the pipeline's
 * exactly-once design rests on, TTL, and clear errors for what is not emulated.
 */
import assert from "node:assert/strict";
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { createTableRequest } from "../../../local/dynamodb/service";
import { declaredResource } from "../../pipeline/fixtures";
import { type LocalAws, startLocalAws } from "../../pipeline/localAws";

const JOBS = "jobs-7f3a2c1";
const PLAIN = "plain-1b2c3d4";

describe("local DynamoDB", function () {
  this.timeout(30_000);
  let aws: LocalAws;
  let dynamodb: DynamoDBClient;

  before(async () => {
    aws = await startLocalAws({ dynamodb: { ttlSweepIntervalMs: 3_600_000 } });
    await aws.dynamodb.provision(
      declaredResource(
        "aws:dynamodb/table:Table",
        "jobs",
        JOBS,
        {
          hashKey: "jobId",
          rangeKey: "sk",
          attributes: [
            { name: "jobId", type: "S" },
            { name: "sk", type: "S" },
          ],
          billingMode: "PAY_PER_REQUEST",
          ttl: { enabled: true, attributeName: "expiresAt" },
        },
        { name: JOBS },
      ),
    );
    await aws.dynamodb.provision(
      declaredResource(
        "aws:dynamodb/table:Table",
        "plain",
        PLAIN,
        { hashKey: "id", attributes: [{ name: "id", type: "S" }], readCapacity: 5, writeCapacity: 5 },
        { name: PLAIN },
      ),
    );
    dynamodb = aws.dynamoDbClient();
  });
  after(async () => aws?.close());

  const key = (jobId: string, sk = "job") => ({ jobId: { S: jobId }, sk: { S: sk } });

  it("creates tables from the declared keys, attributes and billing mode", async () => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: JOBS }));
    assert.equal(Table?.TableStatus, "ACTIVE");
    assert.deepEqual(Table?.KeySchema, [
      { AttributeName: "jobId", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    assert.equal(Table?.BillingModeSummary?.BillingMode, "PAY_PER_REQUEST");
    const plain = await dynamodb.send(new DescribeTableCommand({ TableName: PLAIN }));
    assert.equal(plain.Table?.ProvisionedThroughput?.ReadCapacityUnits, 5);
  });

  it("refuses a table whose key attribute is not declared, naming it", () => {
    assert.throws(
      () =>
        createTableRequest(
          declaredResource(
            "aws:dynamodb/table:Table",
            "broken",
            "broken",
            { hashKey: "id", attributes: [{ name: "other", type: "S" }] },
            { name: "broken" },
          ),
        ),
      /DynamoDB table broken: key attribute "id" is not declared in attributes \(other\)/,
    );
  });

  it("lets exactly one of many concurrent conditional puts create an item", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, writer) =>
        dynamodb.send(
          new PutItemCommand({
            TableName: JOBS,
            Item: { ...key("race", "chunk#000001"), writer: { N: String(writer) } },
            ConditionExpression: "attribute_not_exists(sk)",
          }),
        ),
      ),
    );
    assert.equal(attempts.filter((attempt) => attempt.status === "fulfilled").length, 1);
    assert.ok(
      attempts
        .filter((attempt) => attempt.status === "rejected")
        .every((attempt) => (attempt as PromiseRejectedResult).reason.name === "ConditionalCheckFailedException"),
    );
  });

  it("serializes concurrent atomic ADDs: every caller sees a different count, and one sees the total", async () => {
    await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("counter"), doneCount: { N: "0" } } }));
    const seen = await Promise.all(
      Array.from({ length: 40 }, () =>
        dynamodb.send(
          new UpdateItemCommand({
            TableName: JOBS,
            Key: key("counter"),
            UpdateExpression: "ADD doneCount :one",
            ConditionExpression: "attribute_exists(jobId)",
            ExpressionAttributeValues: { ":one": { N: "1" } },
            ReturnValues: "UPDATED_NEW",
          }),
        ),
      ),
    );
    assert.deepEqual(
      seen.map((result) => Number(result.Attributes!.doneCount.N)).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, index) => index + 1),
    );
  });

  it("reports TTL as declared and deletes expired items only, as DynamoDB's background sweep does", async () => {
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: JOBS }));
    assert.deepEqual(ttl.TimeToLiveDescription, { TimeToLiveStatus: "ENABLED", AttributeName: "expiresAt" });
    const now = Math.floor(Date.now() / 1000);
    await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("expired"), expiresAt: { N: String(now - 10) } } }));
    await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("fresh"), expiresAt: { N: String(now + 3600) } } }));
    await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("forever") } }));
    // Until the sweep, an expired item is still readable (AWS: deletion takes up to a few days).
    assert.ok((await dynamodb.send(new GetItemCommand({ TableName: JOBS, Key: key("expired") }))).Item);
    assert.equal(await aws.dynamodb.sweepExpiredItems(now), 1);
    assert.equal((await dynamodb.send(new GetItemCommand({ TableName: JOBS, Key: key("expired") }))).Item, undefined);
    assert.ok((await dynamodb.send(new GetItemCommand({ TableName: JOBS, Key: key("fresh") }))).Item);
    assert.ok((await dynamodb.send(new GetItemCommand({ TableName: JOBS, Key: key("forever") }))).Item);
  });

  it("enables TTL through UpdateTimeToLive and refuses enabling it twice with ValidationException", async () => {
    assert.deepEqual((await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: PLAIN }))).TimeToLiveDescription, {
      TimeToLiveStatus: "DISABLED",
    });
    const enabled = await dynamodb.send(
      new UpdateTimeToLiveCommand({ TableName: PLAIN, TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true } }),
    );
    assert.deepEqual(enabled.TimeToLiveSpecification, { AttributeName: "ttl", Enabled: true });
    await assert.rejects(
      dynamodb.send(new UpdateTimeToLiveCommand({ TableName: PLAIN, TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true } })),
      (error: Error) => error.name === "ValidationException" && error.message === "TimeToLive is already enabled",
    );
    await assert.rejects(
      dynamodb.send(new DescribeTimeToLiveCommand({ TableName: "missing-table" })),
      (error: Error) => error.name === "ResourceNotFoundException",
    );
  });

  it("answers TransactWriteItems, which it does not emulate, with UnknownOperationException", async () => {
    await assert.rejects(
      dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: JOBS, Item: key("transaction") } }] })),
      (error: Error) => error.name === "UnknownOperationException",
    );
  });

  it("counts requests by operation, for the benchmarks' requests per chunk", () => {
    assert.equal(aws.dynamodb.requestCounts.UpdateItem, 40);
    assert.ok(aws.dynamodb.requestCounts.PutItem >= 21);
  });
});
