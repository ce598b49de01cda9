/**
 * How an emulated AWS service plugs into the local runtime. The runtime evaluates the Pulumi program
 * under mocks, hands every declared resource to the service that emulates its type, and routes each
 * request on the one local origin to a service by the SigV4 signing name in its Authorization header
 * (the same name the AWS SDK signs with: "states", "lambda", "s3", "dynamodb", ...).
 *
 * When the program is edited (watch mode), the runtime evaluates it again and hands each service the
 * difference: `deprovision` for what is gone or changed (then `provision` for what is new or changed), in
 * that order, while requests keep being served.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessControl } from "./access";
import type { LambdaInvoker } from "./invoker";
import type { QueueSender, TopicPublisher } from "./messaging";
import type { StateStore } from "./store";

/** One resource as the program declared it, with the state the fake cloud answered (local/cloud/fakeState.ts). */
export interface DeclaredResource {
  urn: string;
  /** Pulumi type token, e.g. "aws:lambda/function:Function" */
  type: string;
  /** Logical name, as given to the constructor */
  name: string;
  /** Physical id, as the provider would report it */
  id: string;
  /** Inputs with every Output resolved (assets and archives kept as Pulumi asset objects) */
  inputs: Record<string, any>;
  /** Outputs: the inputs plus computed properties (arn, name, apiEndpoint, ...) */
  state: Record<string, any>;
  /** URN of the parent resource, if any */
  parent?: string;
}

/**
 * How much a log line matters: `--log-level warn` (or `--quiet`) shows only warnings and errors. Lines
 * without a level are "info".
 */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** What every local service may use from the runtime. */
export interface LocalContext {
  /** "http://127.0.0.1:PORT" */
  origin: string;
  region: string;
  accountId: string;
  /** Invokes local functions (implemented by local/lambda). */
  lambda: LambdaInvoker;
  /** Sends to local queues (implemented by local/sqs); absent where no SQS runs (unit tests of other services). */
  sqs?: QueueSender;
  /** Publishes to local topics (implemented by local/sns); absent where no SNS runs. */
  sns?: TopicPublisher;
  /** Live log line, shown by the runtime as `[source] line`. */
  log(source: string, line: string, level?: LogLevel): void;
  /**
   * Where services keep state across restarts (local/store: SQLite under `.local/<stack>/state`, or memory).
   * Absent (some tests): nothing is kept.
   */
  store?: StateStore;
  /** IAM, for calls a service makes on someone's behalf (local/iam); absent: everything is allowed. */
  access?: AccessControl;
}

export interface LocalService {
  /** SigV4 service (signing) names whose requests this service answers. */
  readonly signingNames: readonly string[];
  /** Pulumi resource types this service turns into local equivalents. */
  readonly resourceTypes: readonly string[];
  /**
   * Called once per declared resource of one of `resourceTypes`, in declaration order, before any request
   * is served. `all` is every declared resource, for looking up references (e.g. a function by ARN).
   * Throws with a clear message when the resource uses a feature the emulation cannot honour.
   */
  provision(resource: DeclaredResource, all: readonly DeclaredResource[]): Promise<void>;
  /**
   * Undoes `provision` for a resource a reloaded program no longer declares (`replacedBy` undefined), or
   * declares differently (`replacedBy` is the new declaration, handed to `provision` right after: state the
   * resource holds, such as a bucket's objects or a state machine's executions, is kept for it). Work already
   * under way finishes as it began: an invocation on the old code, an execution on its old definition.
   */
  deprovision(resource: DeclaredResource, replacedBy?: DeclaredResource): Promise<void>;
  /** Answers one request. `body` is the whole request body, already read. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
  /**
   * Called once after every resource is provisioned and before requests are served: picks up the state
   * kept in `context.store` (running executions, queued messages, ...). Resolves with what it restored, as
   * phrases for the start banner ("3 running executions"); nothing restored: an empty list.
   */
  restore?(): Promise<string[]>;
  /** Ends everything the service started (processes, timers, servers). */
  close(): Promise<void>;
}
