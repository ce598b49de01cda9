/**
 * Local Amazon DynamoDB: the tables the program declares (`aws:dynamodb/table:Table`), served on the
 * runtime's one origin by dynalite, a well-kept, faithful implementation of the DynamoDB JSON API
 * (conditions, update expressions, atomic ADD, per-item locking, AWS's validation messages).
 *
 * dynalite runs in-process: its server is a plain `http.Server`, so each request the host has already read
 * is re-emitted to it as a `request` event with a readable copy of the body; no second port, no proxy hop.
 *
 * Gaps filled here: dynalite has no Time to Live (it answers DescribeTimeToLive with DISABLED and has no
 * UpdateTimeToLive), so both operations are answered here and a sweeper deletes expired items, as DynamoDB
 * does in the background (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html).
 * Gaps left: no TransactWriteItems/TransactGetItems/ExecuteStatement/streams (dynalite answers
 * UnknownOperationException), no capacity throttling.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { EventEmitter } from "node:events";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { memoizeDynaliteExpressions } from "./expressionCache";

// dynalite ships no type declarations; this is the one function we use.
const dynalite: (options: Record<string, unknown>) => import("node:http").Server = require("dynalite");

export const TABLE_TYPE = "aws:dynamodb/table:Table";
const TARGET_PREFIX = "DynamoDB_20120810.";

export interface DynamoDbServiceOptions {
  /** How often expired items are swept. @default 60000 (DynamoDB itself takes up to a few days) */
  ttlSweepIntervalMs?: number;
}

interface JsonReply {
  statusCode: number;
  body: any;
}

export class DynamoDbService implements LocalService {
  readonly signingNames = ["dynamodb"] as const;
  readonly resourceTypes = [TABLE_TYPE] as const;

  /** Requests answered, by operation (e.g. `{ UpdateItem: 3 }`): benchmarks divide these by chunk count. */
  readonly requestCounts: Record<string, number> = {};

  private readonly server: import("node:http").Server;
  /** Tables found on disk from an earlier run (durable state), kept with their items. */
  private keptTables = 0;
  /** Table name → TTL attribute name, for tables with TTL enabled. */
  private readonly ttlAttributes = new Map<string, string>();
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;
  /** Tables kept in LevelDB under the state folder, which close() must release. */
  private readonly durable: boolean;

  constructor(
    private readonly context: LocalContext,
    private readonly options: DynamoDbServiceOptions = {},
  ) {
    // With durable state, dynalite keeps its tables in LevelDB (classic-level, whose prebuilt binary needs no
    // install script) under the state folder; every write reaches LevelDB's log before it is answered.
    const path = context.store?.filesFor("dynamodb");
    this.durable = path !== undefined;
    memoizeDynaliteExpressions();
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) });
  }

  async restore(): Promise<string[]> {
    return this.keptTables > 0 ? [`${this.keptTables} DynamoDB table${this.keptTables === 1 ? "" : "s"} (items kept)`] : [];
  }

  async provision(resource: DeclaredResource): Promise<void> {
    const request = createTableRequest(resource);
    let created = await this.call("CreateTable", request);
    if (created.statusCode !== 200 && String(created.body.__type).endsWith("ResourceInUseException")) {
      // Kept from an earlier run, or through a reload (deprovision below): reuse it if its key schema is still the declared one, else start it afresh.
      const described = await this.call("DescribeTable", { TableName: request.TableName });
      const keptSchema = JSON.stringify(described.body.Table?.KeySchema);
      if (keptSchema === JSON.stringify(request.KeySchema)) {
        this.keptTables++;
        created = described;
      } else {
        this.context.log("dynamodb", `table ${request.TableName}: key schema changed since the last run; its kept items are dropped`);
        await this.call("DeleteTable", { TableName: request.TableName });
        created = await this.call("CreateTable", request);
      }
    }
    if (created.statusCode !== 200) {
      throw new Error(
        `DynamoDB table ${resource.name}: CreateTable failed: ${created.body.__type?.split("#").pop()}: ${created.body.message ?? ""}`,
      );
    }
    const ttl = resource.inputs.ttl;
    if (ttl?.enabled && ttl.attributeName) this.enableTtl(request.TableName, String(ttl.attributeName));
    this.context.log(
      "dynamodb",
      `table ${request.TableName} (${request.KeySchema.map((k: any) => `${k.AttributeName} ${k.KeyType}`).join(", ")}${ttl?.enabled ? `, TTL on ${ttl.attributeName}` : ""})`,
    );
  }

  /**
   * A removed table is deleted with its items, as `pulumi up` would. A changed one keeps its items unless its
   * key schema changed (a replacement on AWS too); its TTL setting follows the new declaration.
   */
  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    const request = createTableRequest(resource);
    const keyOf = (table: ReturnType<typeof createTableRequest>) => JSON.stringify([table.TableName, table.KeySchema]);
    this.ttlAttributes.delete(request.TableName);
    if (replacedBy && keyOf(request) === keyOf(createTableRequest(replacedBy))) return;
    await this.call("DeleteTable", { TableName: request.TableName });
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    this.requestCounts[operation] = (this.requestCounts[operation] ?? 0) + 1;
    if (operation === "UpdateTimeToLive" || operation === "DescribeTimeToLive") {
      const reply = await this.answerTimeToLive(operation, body);
      return sendJson(res, reply);
    }
    await new Promise<void>((resolve) => {
      res.once("finish", resolve);
      res.once("close", resolve);
      this.server.emit("request", readableRequest(req, body), res);
    });
  }

  /**
   * Deletes every item whose TTL attribute (epoch seconds) is in the past, like DynamoDB's background
   * process; returns how many it deleted. Each delete is conditional, so an item updated since the scan
   * (TTL moved forward) survives.
   */
  async sweepExpiredItems(nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = (async () => {
      let deleted = 0;
      for (const [tableName, attributeName] of this.ttlAttributes) {
        const described = await this.call("DescribeTable", { TableName: tableName });
        if (described.statusCode !== 200) continue;
        const keyNames: string[] = described.body.Table.KeySchema.map((key: any) => key.AttributeName);
        let exclusiveStartKey: unknown;
        do {
          const page = await this.call("Scan", {
            TableName: tableName,
            FilterExpression: "#ttl < :now",
            ExpressionAttributeNames: { "#ttl": attributeName },
            ExpressionAttributeValues: { ":now": { N: String(nowSeconds) } },
            ExclusiveStartKey: exclusiveStartKey,
          });
          if (page.statusCode !== 200) break;
          for (const item of page.body.Items ?? []) {
            const key = Object.fromEntries(keyNames.map((name) => [name, item[name]]));
            const removed = await this.call("DeleteItem", {
              TableName: tableName,
              Key: key,
              ConditionExpression: "#ttl < :now",
              ExpressionAttributeNames: { "#ttl": attributeName },
              ExpressionAttributeValues: { ":now": { N: String(nowSeconds) } },
            });
            if (removed.statusCode === 200) deleted++;
          }
          exclusiveStartKey = page.body.LastEvaluatedKey;
        } while (exclusiveStartKey);
      }
      return deleted;
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping?.catch(() => undefined);
    if (this.durable) await this.closeDatabase();
  }

  /**
   * Releases dynalite's LevelDB (and its lock), so that a later runtime in this process can open the same state
   * folder. dynalite closes it only from its server's close(), which Node refuses for a server that never
   * listened (requests reach it through emit, not a socket): it listens on a loopback port for that moment.
   */
  private async closeDatabase(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private enableTtl(tableName: string, attributeName: string): void {
    this.ttlAttributes.set(tableName, attributeName);
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(() => {
        this.sweepExpiredItems().catch((error) => this.context.log("dynamodb", `TTL sweep failed: ${error.message}`));
      }, this.options.ttlSweepIntervalMs ?? 60_000);
      this.sweepTimer.unref();
    }
  }

  /** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html */
  private async answerTimeToLive(operation: "UpdateTimeToLive" | "DescribeTimeToLive", body: Buffer): Promise<JsonReply> {
    let request: any;
    try {
      request = JSON.parse(body.toString("utf8") || "{}");
    } catch {
      return { statusCode: 400, body: { __type: "com.amazon.coral.service#SerializationException" } };
    }
    const tableName = String(request.TableName ?? "");
    const described = await this.call("DescribeTable", { TableName: tableName });
    if (described.statusCode !== 200) return described;
    if (operation === "DescribeTimeToLive") {
      const attributeName = this.ttlAttributes.get(tableName);
      return {
        statusCode: 200,
        body: {
          TimeToLiveDescription: attributeName
            ? { TimeToLiveStatus: "ENABLED", AttributeName: attributeName }
            : { TimeToLiveStatus: "DISABLED" },
        },
      };
    }
    const specification = request.TimeToLiveSpecification ?? {};
    if (typeof specification.AttributeName !== "string" || !specification.AttributeName || typeof specification.Enabled !== "boolean") {
      return {
        statusCode: 400,
        body: {
          __type: "com.amazon.coral.validate#ValidationException",
          message: "TimeToLiveSpecification needs AttributeName (a non-empty string) and Enabled (a boolean)",
        },
      };
    }
    const current = this.ttlAttributes.get(tableName);
    if (specification.Enabled === Boolean(current)) {
      return {
        statusCode: 400,
        body: {
          __type: "com.amazon.coral.validate#ValidationException",
          message: `TimeToLive is already ${current ? "enabled" : "disabled"}`,
        },
      };
    }
    if (specification.Enabled) this.enableTtl(tableName, specification.AttributeName);
    else this.ttlAttributes.delete(tableName);
    return { statusCode: 200, body: { TimeToLiveSpecification: specification } };
  }

  /** Calls dynalite without HTTP, for provisioning and the TTL sweeper. */
  private call(operation: string, payload: unknown): Promise<JsonReply> {
    const body = Buffer.from(JSON.stringify(payload));
    const headers = {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `${TARGET_PREFIX}${operation}`,
      "x-amz-date": new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, ""),
      authorization: `AWS4-HMAC-SHA256 Credential=local/${new Date().toISOString().slice(0, 10).replace(/-/g, "")}/${this.context.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
    };
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      // The subset of ServerResponse dynalite writes to.
      const response = {
        statusCode: 200,
        setHeader() {},
        end(data?: string | Buffer) {
          if (data) chunks.push(Buffer.from(data));
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ statusCode: response.statusCode, body: text ? JSON.parse(text) : {} });
        },
      };
      this.server.emit("request", readableRequest({ method: "POST", url: "/", headers } as unknown as IncomingMessage, body), response);
    });
  }
}

/**
 * A request carrying a body the host has already consumed, as dynalite reads one (its `data` and `end` events,
 * on the next tick, once its listeners are on). A plain emitter rather than a stream: every DynamoDB call of a
 * busy pipeline passes here, and a stream per request costs several ticks and objects for one buffer.
 */
function readableRequest(req: Pick<IncomingMessage, "method" | "url" | "headers">, body: Buffer): IncomingMessage {
  const request = Object.assign(new EventEmitter(), { method: req.method, url: req.url, headers: req.headers });
  process.nextTick(() => {
    if (body.length > 0) request.emit("data", body);
    request.emit("end");
  });
  return request as unknown as IncomingMessage;
}

function sendJson(res: ServerResponse, reply: JsonReply): void {
  const text = JSON.stringify(reply.body);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/x-amz-json-1.0",
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": randomBytes(26).toString("base64url").toUpperCase(),
  };
  if (reply.statusCode !== 200 && reply.body.__type) headers["x-amzn-ErrorType"] = String(reply.body.__type).split("#").pop()!;
  res.writeHead(reply.statusCode, headers);
  res.end(text);
}

/**
 * The CreateTable request a provider would send for an `aws.dynamodb.Table` (Pulumi input names:
 * hashKey, rangeKey, attributes, billingMode, globalSecondaryIndexes, localSecondaryIndexes).
 */
export function createTableRequest(resource: DeclaredResource): any {
  const inputs = resource.inputs;
  const tableName = String(resource.state.name ?? resource.id);
  if (!inputs.hashKey) throw new Error(`DynamoDB table ${resource.name}: hashKey is required`);
  const attributes: { name: string; type: string }[] = inputs.attributes ?? [];
  for (const keyName of [inputs.hashKey, inputs.rangeKey].filter(Boolean)) {
    if (!attributes.some((attribute) => attribute.name === keyName)) {
      throw new Error(
        `DynamoDB table ${resource.name}: key attribute "${keyName}" is not declared in attributes (${attributes.map((a) => a.name).join(", ") || "none"})`,
      );
    }
  }
  const onDemand = (inputs.billingMode ?? "PROVISIONED") === "PAY_PER_REQUEST";
  const keySchema = (hashKey: string, rangeKey?: string) => [
    { AttributeName: hashKey, KeyType: "HASH" },
    ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" }] : []),
  ];
  const throughput = (read?: number, write?: number) =>
    onDemand ? undefined : { ReadCapacityUnits: read ?? 1, WriteCapacityUnits: write ?? 1 };
  const projection = (index: any) => ({
    ProjectionType: index.projectionType ?? "ALL",
    ...(index.nonKeyAttributes?.length ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
  });
  const request: any = {
    TableName: tableName,
    AttributeDefinitions: attributes.map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type })),
    KeySchema: keySchema(inputs.hashKey, inputs.rangeKey),
    BillingMode: onDemand ? "PAY_PER_REQUEST" : "PROVISIONED",
    ProvisionedThroughput: throughput(inputs.readCapacity, inputs.writeCapacity),
  };
  if (inputs.globalSecondaryIndexes?.length) {
    request.GlobalSecondaryIndexes = inputs.globalSecondaryIndexes.map((index: any) => ({
      IndexName: index.name,
      KeySchema: keySchema(index.hashKey, index.rangeKey),
      Projection: projection(index),
      ProvisionedThroughput: throughput(index.readCapacity, index.writeCapacity),
    }));
  }
  if (inputs.localSecondaryIndexes?.length) {
    request.LocalSecondaryIndexes = inputs.localSecondaryIndexes.map((index: any) => ({
      IndexName: index.name,
      KeySchema: keySchema(inputs.hashKey, index.rangeKey),
      Projection: projection(index),
    }));
  }
  return request;
}
