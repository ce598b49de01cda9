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

  // Expressions are parsed once and reused (local/dynamodb/expressionCache.ts): a repeat must behave as a first parse.
  describe("a repeated expression (parsed once)", () => {
    const update = (sk: string, expression: string, values: Record<string, { N: string }>, names?: Record<string, string>) =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: JOBS,
          Key: key("repeat", sk),
          UpdateExpression: expression,
          ExpressionAttributeValues: values,
          ExpressionAttributeNames: names,
          ReturnValues: "ALL_NEW",
        }),
      );

    it("applies each request's own values", async () => {
      const first = await update("values", "ADD tally :n", { ":n": { N: "2" } });
      const second = await update("values", "ADD tally :n", { ":n": { N: "5" } });
      assert.equal(first.Attributes?.tally.N, "2");
      assert.equal(second.Attributes?.tally.N, "7");
    });

    it("resolves a path in SET against each item, not the first one it was applied to", async () => {
      await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("repeat", "a"), baseValue: { N: "10" } } }));
      await dynamodb.send(new PutItemCommand({ TableName: JOBS, Item: { ...key("repeat", "b"), baseValue: { N: "20" } } }));
      const a = await update("a", "SET doubled = baseValue + :n", { ":n": { N: "1" } });
      const b = await update("b", "SET doubled = baseValue + :n", { ":n": { N: "1" } });
      assert.equal(a.Attributes?.doubled.N, "11");
      assert.equal(b.Attributes?.doubled.N, "21");
    });

    it("still refuses a value the expression does not use, each time", async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        await assert.rejects(update("unused", "ADD tally :n", { ":n": { N: "1" }, ":spare": { N: "1" } }), (error: Error) => {
          assert.equal(error.name, "ValidationException");
          assert.match(error.message, /Value provided in ExpressionAttributeValues unused in expressions: keys: \{:spare\}/);
          return true;
        });
      }
    });

    it("counts a name as used by the condition even when the update used it first in an earlier request", async () => {
      // The condition alone, after a request whose update expression had used #count before the condition was parsed.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: JOBS,
          Key: key("repeat", "names"),
          UpdateExpression: "SET #count = :n",
          ConditionExpression: "attribute_not_exists(#count)",
          ExpressionAttributeNames: { "#count": "count" },
          ExpressionAttributeValues: { ":n": { N: "1" } },
        }),
      );
      await assert.rejects(
        dynamodb.send(
          new PutItemCommand({
            TableName: JOBS,
            Item: key("repeat", "names"),
            ConditionExpression: "attribute_not_exists(#count)",
            ExpressionAttributeNames: { "#count": "count" },
          }),
        ),
        (error: Error) => error.name === "ConditionalCheckFailedException",
      );
    });

    it("refuses an invalid expression with the same message each time", async () => {
      const messages: string[] = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        await assert.rejects(update("invalid", "ADD tally :n, ADD", { ":n": { N: "1" } }), (error: Error) => {
          assert.equal(error.name, "ValidationException");
          messages.push(error.message);
          return true;
        });
      }
      assert.match(messages[0], /^Invalid UpdateExpression: Syntax error/);
      assert.equal(messages[1], messages[0]);
    });
  });
});
