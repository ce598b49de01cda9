/**
 * The local SNS: topics and subscriptions declared by the program (and made through the API), served in the
 * query protocol on the runtime's origin, plus the email outbox at `GET /_local/sns/messages`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseQueryForm, sendQueryError, sendQueryResult } from "../common/awsQuery";
import type { ResourcePolicyReader } from "../common/access";
import { sendJson } from "../common/http";
import { MessagingError, type QueueSender } from "../common/messaging";
import type { DeclaredResource, LocalContext, LocalService } from "../common/service";
import { SnsApi } from "./api";
import { Deliverer, SIGNING_KEY_PATH } from "./delivery";
import { Outbox, OUTBOX_PATH } from "./outbox";
import { SnsPersistence } from "./persistence";
import { TopicRegistry } from "./topics";
import { queryInput, queryResult, SNS_NAMESPACE } from "./wire";

const TOPIC = "aws:sns/topic:Topic";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy";

/** Paths under which the local SNS answers unsigned requests (the outbox and the envelope signing key). */
export const SNS_LOCAL_PATH_PREFIX = "/_local/sns/";

export class SnsService implements LocalService {
  readonly signingNames = ["sns"] as const;
  readonly resourceTypes = [TOPIC, SUBSCRIPTION, TOPIC_POLICY] as const;
  readonly topics: TopicRegistry;
  readonly outbox: Outbox;
  readonly api: SnsApi;
  private readonly deliverer: Deliverer;

  /** `readPolicy`: IAM's reading of a Policy set through the API (local/iam's readResourcePolicy, wired by the runtime). */
  constructor(
    private readonly context: LocalContext,
    sqs: QueueSender | undefined,
    readPolicy: ResourcePolicyReader,
  ) {
    const persistence = context.store ? new SnsPersistence(context.store) : undefined;
    this.topics = new TopicRegistry(context.region, context.accountId, persistence);
    this.outbox = new Outbox(context.store?.collection("sns.outbox"));
    const log = (line: string) => context.log("sns", line);
    this.deliverer = new Deliverer({
      origin: context.origin,
      region: context.region,
      lambda: context.lambda,
      sqs,
      outbox: this.outbox,
      log,
    });
    this.api = new SnsApi(this.topics, this.deliverer, context.accountId, log, readPolicy);
  }

  /** Topics a reload changed but kept by ARN, by the urn of their new declaration: the previous one (see deprovision). */
  private readonly updatedInPlace = new Map<string, DeclaredResource>();

  /**
   * Watch mode, as `pulumi up` would apply the edit: a removed topic is deleted with its subscriptions; a
   * changed topic that keeps its ARN is updated in place (its subscriptions stay); a removed topic policy leaves
   * the topic without one; a changed or removed subscription is unsubscribed (a changed one then subscribes
   * again, with its declared ARN). Deliveries already under way finish.
   */
  async deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void> {
    const { inputs, state } = resource;
    switch (resource.type) {
      case TOPIC: {
        if (replacedBy && replacedBy.state.arn === state.arn) {
          this.updatedInPlace.set(replacedBy.urn, resource);
          return;
        }
        const topic = this.topics.all.find((candidate) => candidate.arn === state.arn);
        if (!topic) return;
        const subscriptions = topic.subscriptions.size;
        this.topics.delete(topic.arn);
        this.context.log(
          "sns",
          `topic ${topic.name} ${replacedBy ? "replaced" : "removed"}: deleted${subscriptions > 0 ? ` with its ${subscriptions} subscriptions` : ""}`,
        );
        return;
      }
      case TOPIC_POLICY: {
        const topic = this.topics.all.find((candidate) => candidate.arn === inputs.arn);
        if (topic && !replacedBy) this.topics.removeTopicAttribute(topic, "Policy");
        return;
      }
      case SUBSCRIPTION: {
        const subscription = this.declaredSubscription(resource);
        if (subscription) this.topics.unsubscribe(subscription.arn);
      }
    }
  }

  async provision(resource: DeclaredResource): Promise<void> {
    const { inputs, state } = resource;
    try {
      switch (resource.type) {
        case TOPIC: {
          const attributes = this.declaredAttributes(resource);
          if (attributes.KmsMasterKeyId)
            this.context.log("sns", `${state.name}: kmsMasterKeyId is kept but not applied (messages are not encrypted locally)`);
          const previous = this.updatedInPlace.get(resource.urn);
          this.updatedInPlace.delete(resource.urn);
          const existing = previous && this.topics.all.find((candidate) => candidate.arn === state.arn);
          if (existing) {
            if (attributes.FifoTopic !== this.declaredAttributes(previous).FifoTopic)
              throw new Error("fifoTopic cannot change on an existing topic (AWS replaces it; rename the topic)");
            for (const name of Object.keys(this.declaredAttributes(previous)))
              if (!(name in attributes)) this.topics.removeTopicAttribute(existing, name);
            for (const [name, value] of Object.entries(attributes))
              if (name !== "FifoTopic") this.topics.setTopicAttribute(existing, name, value);
            return;
          }
          const topic = this.topics.create(state.name ?? resource.name, attributes, true);
          if (topic.arn !== state.arn) throw new Error(`its ARN ${state.arn} is not the local one (${topic.arn})`);
          return;
        }
        case TOPIC_POLICY:
          this.topics.setTopicAttribute(this.topics.get(inputs.arn), "Policy", inputs.policy);
          return;
        case SUBSCRIPTION: {
          const attributes: Record<string, string> = {};
          if (inputs.rawMessageDelivery !== undefined) attributes.RawMessageDelivery = String(inputs.rawMessageDelivery);
          if (inputs.filterPolicy) attributes.FilterPolicy = String(inputs.filterPolicy);
          if (inputs.filterPolicyScope) attributes.FilterPolicyScope = String(inputs.filterPolicyScope);
          this.topics.subscribe(this.topics.get(inputs.topic), inputs.protocol, inputs.endpoint, attributes, state.arn);
          return;
        }
      }
    } catch (error) {
      if (error instanceof MessagingError) throw new Error(`${error.queryCode}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** The SNS attributes a topic's declaration sets. */
  private declaredAttributes({ inputs }: DeclaredResource): Record<string, string> {
    const attributes: Record<string, string> = {};
    if (inputs.displayName) attributes.DisplayName = String(inputs.displayName);
    if (inputs.policy) attributes.Policy = String(inputs.policy);
    if (inputs.kmsMasterKeyId) attributes.KmsMasterKeyId = String(inputs.kmsMasterKeyId);
    if (inputs.fifoTopic) attributes.FifoTopic = "true";
    return attributes;
  }

  /** The subscription a declaration made (by protocol and endpoint: subscribing twice answers the first one). */
  private declaredSubscription({ inputs }: DeclaredResource) {
    const topic = this.topics.all.find((candidate) => candidate.arn === inputs.topic);
    return [...(topic?.subscriptions.values() ?? [])].find(
      (subscription) => subscription.protocol === inputs.protocol && subscription.endpoint === inputs.endpoint,
    );
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", this.context.origin);
    if (url.pathname.startsWith(SNS_LOCAL_PATH_PREFIX)) return this.handleLocal(req, res, url);
    const form = parseQueryForm(body.toString("utf8"), url.searchParams);
    const action = typeof form.Action === "string" ? form.Action : "";
    try {
      const output = await this.api.call(action, queryInput(form));
      // Acknowledged means kept: a topic or subscription made through the API is on disk before the answer.
      await this.context.store?.committed();
      sendQueryResult(res, SNS_NAMESPACE, action, queryResult(output));
    } catch (error) {
      if (!(error instanceof MessagingError)) throw error;
      sendQueryError(res, SNS_NAMESPACE, error);
    }
  }

  async restore(): Promise<string[]> {
    const { topics, subscriptions } = this.topics.restore((line) => this.context.log("sns", line, "warn"));
    const mails = this.outbox.restored;
    await this.context.store?.committed();
    const phrases: string[] = [];
    if (topics > 0) phrases.push(`${topics} SNS ${topics === 1 ? "topic" : "topics"}`);
    if (subscriptions > 0) phrases.push(`${subscriptions} SNS ${subscriptions === 1 ? "subscription" : "subscriptions"}`);
    if (mails > 0) phrases.push(`${mails} outbox ${mails === 1 ? "mail" : "mails"}`);
    return phrases;
  }

  private handleLocal(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== "GET") return sendJson(res, 405, { message: `${url.pathname} answers GET only` }, { Allow: "GET" });
    if (url.pathname === OUTBOX_PATH) {
      // The outbox only grows, so its length names its content within one run (the run's id tells a restarted or
      // reset outbox apart): a client that has it (the console, on every live change) is answered 304 without the
      // list being built and sent again.
      const headers = { ETag: `"${this.outbox.runId}-${this.outbox.list().length}"`, "Cache-Control": "no-cache" };
      if (req.headers["if-none-match"] === headers.ETag) return void res.writeHead(304, headers).end();
      return sendJson(res, 200, this.outbox.list(), headers);
    }
    if (url.pathname === SIGNING_KEY_PATH) {
      const pem = this.deliverer.publicKeyPem;
      res.writeHead(200, { "Content-Type": "application/x-pem-file", "Content-Length": String(Buffer.byteLength(pem)) }).end(pem);
      return;
    }
    sendJson(res, 404, { message: `No local SNS page at ${url.pathname} (the outbox is ${OUTBOX_PATH})` });
  }

  async close(): Promise<void> {
    await this.api.settled();
  }
}
