/**
 * The local SQS: queues declared by the program (and created through the API), served in both protocols
 * on the runtime's origin, and the Lambda event source mappings that read them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isQueryRequest, parseQueryForm } from "../common/awsQuery";
import { MessagingError } from "../common/messaging";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { SqsApi } from "./api";
import type { Principal, ResourcePolicyReader } from "../common/access";
import { SqsEventSourceMapping, type PollerAccess } from "./eventSourceMapping";
import { SqsPersistence } from "./persistence";
import { QueueRegistry } from "./queues";
import {
  JSON_TARGET_PREFIX,
  queryInput,
  queryResult,
  sendJsonError,
  sendJsonResult,
  sendQueryError,
  sendQueryResult,
  SQS_NAMESPACE,
} from "./wire";

const QUEUE = "aws:sqs/queue:Queue";
const QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy";
const REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy";
const EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";

/** Pulumi's queue inputs → SQS attribute names. */
const QUEUE_INPUTS: ReadonlyArray<[input: string, attribute: string]> = [
  ["visibilityTimeoutSeconds", "VisibilityTimeout"],
  ["messageRetentionSeconds", "MessageRetentionPeriod"],
  ["delaySeconds", "DelaySeconds"],
  ["receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"],
  ["maxMessageSize", "MaximumMessageSize"],
  ["redrivePolicy", "RedrivePolicy"],
  ["policy", "Policy"],
  ["kmsMasterKeyId", "KmsMasterKeyId"],
  ["fifoQueue", "FifoQueue"],
];

export class SqsService implements LocalService {
  readonly signingNames = ["sqs"] as const;
  readonly resourceTypes = [QUEUE, QUEUE_POLICY, REDRIVE_POLICY, EVENT_SOURCE_MAPPING] as const;
  readonly queues: QueueRegistry;
  private readonly api: SqsApi;
  private readonly mappings: SqsEventSourceMapping[] = [];

  /** `readPolicy`: IAM's reading of a Policy set through the API (local/iam's readResourcePolicy, wired by the runtime). */
  constructor(
    private readonly context: LocalContext,
    readPolicy: ResourcePolicyReader,
  ) {
    const persistence = context.store ? new SqsPersistence(context.store) : undefined;
    this.queues = new QueueRegistry(context.origin, context.region, context.accountId, Date.now, persistence);
    this.api = new SqsApi(this.queues, context.accountId, readPolicy, (line) => context.log("sqs", line, "warn"));
  }

  /** Queues a reload changed but kept by name, by the urn of their new declaration: the previous one (see deprovision). */
  private readonly updatedInPlace = new Map<string, DeclaredResource>();

  /**
   * Watch mode, as `pulumi up` would apply the edit: a removed queue is deleted with its messages (the log
   * counts them); a changed queue that keeps its name is updated in place when provisioned again, its messages
   * kept; a renamed one is a new queue. A removed queue or redrive policy leaves its queue without it; a changed
   * or removed event source mapping stops polling (a batch being handled finishes) before its successor starts.
   */
  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    const { inputs, state } = resource;
    switch (resource.type) {
      case QUEUE: {
        const name = String(state.name ?? resource.name);
        if (replacedBy && String(replacedBy.state.name ?? replacedBy.name) === name) {
          this.updatedInPlace.set(replacedBy.urn, resource);
          return;
        }
        const queue = this.queues.byQueueName(name);
        if (!queue) return;
        const { visible, inFlight, delayed } = queue.counts();
        const messages = visible + inFlight + delayed;
        this.queues.delete(queue);
        this.context.log(
          "sqs",
          `queue ${name} ${replacedBy ? "replaced" : "removed"}: deleted${messages > 0 ? ` with its ${messages} messages` : ""}`,
        );
        return;
      }
      case QUEUE_POLICY:
      case REDRIVE_POLICY: {
        if (replacedBy) return; // provision sets the new one
        const queue = this.queueAt(inputs.queueUrl);
        if (!queue) return;
        queue.attributes.delete(resource.type === QUEUE_POLICY ? "Policy" : "RedrivePolicy");
        this.queues.changed(queue);
        return;
      }
      case EVENT_SOURCE_MAPPING: {
        const uuid = state.uuid ?? resource.id;
        const index = this.mappings.findIndex((mapping) => mapping.config.uuid === uuid);
        if (index < 0) return;
        const [mapping] = this.mappings.splice(index, 1);
        await mapping.close();
        if (!replacedBy)
          this.context.log(
            "sqs",
            `event source mapping ${resource.name} removed: ${mapping.config.functionName} no longer receives from ${mapping.config.eventSourceArn}`,
          );
      }
    }
  }

  async provision(resource: DeclaredResource, all: readonly DeclaredResource[]): Promise<void> {
    const { inputs, state } = resource;
    switch (resource.type) {
      case QUEUE: {
        const attributes = this.declaredAttributes(resource);
        if (attributes.KmsMasterKeyId) {
          this.context.log("sqs", `${state.name}: kmsMasterKeyId is kept but not applied (messages are not encrypted locally)`);
        }
        const previous = this.updatedInPlace.get(resource.urn);
        this.updatedInPlace.delete(resource.urn);
        const existing = previous && this.queues.byQueueName(String(state.name ?? resource.name));
        if (existing) return this.call(() => this.queues.update(existing, attributes, Object.keys(this.declaredAttributes(previous))));
        this.call(() => this.queues.create(state.name ?? resource.name, attributes, true));
        return;
      }
      case QUEUE_POLICY:
        this.call(() => {
          const queue = this.queues.byUrl(inputs.queueUrl);
          queue.attributes.set("Policy", String(inputs.policy));
          this.queues.changed(queue);
        });
        return;
      case REDRIVE_POLICY:
        return void this.call(() =>
          this.api.call("SetQueueAttributes", { QueueUrl: inputs.queueUrl, Attributes: { RedrivePolicy: inputs.redrivePolicy } }),
        );
      case EVENT_SOURCE_MAPPING:
        return this.provisionMapping(resource, all);
    }
  }

  /** The SQS attributes a queue's declaration sets. */
  private declaredAttributes({ inputs, state }: DeclaredResource): Record<string, string> {
    const attributes: Record<string, string> = {};
    for (const [input, attribute] of QUEUE_INPUTS) {
      const value = state[input] ?? inputs[input];
      if (value !== undefined && value !== null && value !== "" && value !== false) attributes[attribute] = String(value);
    }
    return attributes;
  }

  private queueAt(url: unknown) {
    try {
      return this.queues.byUrl(url);
    } catch {
      return undefined; // already gone with its queue
    }
  }

  private provisionMapping(resource: DeclaredResource, all: readonly DeclaredResource[]): void {
    const { inputs, state } = resource;
    const sourceArn = String(inputs.eventSourceArn ?? "");
    if (!/^arn:aws[\w-]*:sqs:/.test(sourceArn)) {
      this.context.log(
        "sqs",
        `event source mapping ${resource.name}: only SQS sources run locally; ${sourceArn || "this source"} is declared only`,
      );
      return;
    }
    const functionName = String(inputs.functionName);
    const declared = all.find(
      (other) => other.type === "aws:lambda/function:Function" && (other.state.name === functionName || other.state.arn === functionName),
    );
    if (!declared) throw new Error(`its function '${functionName}' is not a function this program declares`);
    if (inputs.enabled === false) {
      this.context.log("sqs", `event source mapping ${resource.name} is disabled: ${functionName} does not receive from ${sourceArn}`);
      return;
    }
    const batchSize = inputs.batchSize ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw new Error(`batchSize must be from 1 to 10000, received ${batchSize}`);
    const window = inputs.maximumBatchingWindowInSeconds ?? 0;
    if (batchSize > 10 && window === 0)
      throw new Error(`a batchSize over 10 (${batchSize}) needs maximumBatchingWindowInSeconds of at least 1, as on AWS`);
    const mapping = new SqsEventSourceMapping(
      {
        uuid: state.uuid ?? resource.id,
        eventSourceArn: sourceArn,
        functionName,
        batchSize,
        maximumBatchingWindowInSeconds: window,
        reportBatchItemFailures: (inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
        maximumConcurrency: inputs.scalingConfig?.maximumConcurrency ?? 5,
      },
      this.queues,
      this.context.lambda,
      this.context.region,
      (line, level) => this.context.log("sqs", line, level),
      this.pollerAccess(declared),
    );
    this.mappings.push(mapping);
    mapping.start();
  }

  /** Lambda's pollers act as the function's execution role (a session of it, named after the function). */
  private pollerAccess(fn: DeclaredResource): PollerAccess | undefined {
    const roleArn = fn.state.role ?? fn.inputs.role;
    if (!this.context.access || typeof roleArn !== "string") return undefined;
    const principal: Principal = {
      kind: "role",
      roleArn,
      sessionName: String(fn.state.name ?? fn.name),
      assumedBy: "lambda.amazonaws.com",
    };
    return { control: this.context.access, principal };
  }

  async restore(): Promise<string[]> {
    const { queues, messages } = this.queues.restore((line) => this.context.log("sqs", line, "warn"));
    await this.context.store?.committed();
    const phrases: string[] = [];
    if (queues > 0) phrases.push(`${queues} SQS ${queues === 1 ? "queue" : "queues"}`);
    if (messages > 0) phrases.push(`${messages} SQS ${messages === 1 ? "message" : "messages"}`);
    return phrases;
  }

  /** Provisioning reports SQS's refusal as a plain message (the runtime names the resource). */
  private call<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (error instanceof MessagingError) throw new Error(`${error.queryCode}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    // A client that gives up on a long poll closes the connection; the poll then ends at once.
    const abandoned = new AbortController();
    res.once("close", () => abandoned.abort());
    const target = String(req.headers["x-amz-target"] ?? "");
    if (target.startsWith(JSON_TARGET_PREFIX)) {
      try {
        let input: Record<string, any>;
        try {
          input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
        } catch {
          throw new MessagingError("SerializationException", "The request body is not valid JSON.", "SerializationException");
        }
        const output = await this.api.call(target.slice(JSON_TARGET_PREFIX.length), input, abandoned.signal);
        // Acknowledged means kept: a sent, deleted or received message is on disk before the answer.
        await this.context.store?.committed();
        sendJsonResult(res, output);
      } catch (error) {
        if (!(error instanceof MessagingError)) throw error;
        sendJsonError(res, error);
      }
      return;
    }
    const url = new URL(req.url ?? "/", this.context.origin);
    const form = parseQueryForm(isQueryRequest(req.headers["content-type"], body) ? body.toString("utf8") : "", url.searchParams);
    const action = typeof form.Action === "string" ? form.Action : "";
    try {
      const input = queryInput(form);
      // The query protocol may address the queue by the request path instead of a QueueUrl parameter.
      if (input.QueueUrl === undefined && /^\/\d{12}\/[^/]+$/.test(url.pathname)) input.QueueUrl = `${this.context.origin}${url.pathname}`;
      const output = await this.api.call(action || "(none)", input, abandoned.signal);
      await this.context.store?.committed();
      sendQueryResult(res, SQS_NAMESPACE, action, queryResult(action, output));
    } catch (error) {
      if (!(error instanceof MessagingError)) throw error;
      sendQueryError(res, SQS_NAMESPACE, error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.mappings.map((mapping) => mapping.close()));
    for (const queue of this.queues.all) queue.releaseWaiters();
  }
}
