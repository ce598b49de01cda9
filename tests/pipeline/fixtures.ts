/**
 * A document pipeline on the local S3 and DynamoDB services, in-process: the bucket, the table and the
 * bucket notification are provisioned from resource declarations like the ones the program makes, chunk
 * events are captured from the S3 service's real notifications, and tests deliver them as they like
 * (twice, shuffled, concurrently, through clients that crash).
 *
 * Step Functions is a stand-in applying AWS's token rules (first answer wins, later ones get TaskTimedOut,
 * unknown tokens InvalidToken), so tests can count accepted and rejected answers exactly.
 */
import type { S3Event } from "aws-lambda";
import type { DeclaredResource } from "../../local/common/service";
import { countDoneChunks } from "../../handlers/pipeline/jobStore";
import { receiveToken, type TokenReport } from "../../handlers/pipeline/receiveToken";
import type { PipelineClients } from "../../handlers/pipeline/resume";
import { PIPELINE_DEFAULTS, type PipelineSettings } from "../../handlers/pipeline/settings";
import { type SplitEvent, splitDocument } from "../../handlers/pipeline/splitDocument";
import { type LocalAws, startLocalAws } from "./localAws";

export const BUCKET = "pipeline-docs-1234567";
export const TABLE = "pipeline-jobs-1234567";
export const PROCESSOR_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pipeline-processor-1234567";

export function declaredResource(
  type: string,
  name: string,
  id: string,
  inputs: Record<string, any>,
  state: Record<string, any> = {},
): DeclaredResource {
  return { urn: `urn:pulumi:test::pipeline::${type}::${name}`, type, name, id, inputs, state: { ...inputs, ...state } };
}

/** The declarations of the pipeline's bucket, table, processor permission and notification. */
export function pipelineDeclarations(chunkPrefix: string = PIPELINE_DEFAULTS.chunkPrefix): DeclaredResource[] {
  return [
    declaredResource("aws:s3/bucket:Bucket", "pipeline-docs", BUCKET, {}, { bucket: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }),
    declaredResource(
      "aws:dynamodb/table:Table",
      "pipeline-jobs",
      TABLE,
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
      { name: TABLE },
    ),
    declaredResource(
      "aws:lambda/function:Function",
      "pipeline-processor",
      "pipeline-processor-1234567",
      {},
      { arn: PROCESSOR_ARN, name: "pipeline-processor-1234567" },
    ),
    declaredResource("aws:lambda/permission:Permission", "pipeline-processor-s3", "allow-s3", {
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      function: "pipeline-processor-1234567",
      sourceArn: `arn:aws:s3:::${BUCKET}`,
    }),
    declaredResource("aws:s3/bucketNotification:BucketNotification", "pipeline-chunks", BUCKET, {
      bucket: BUCKET,
      lambdaFunctions: [{ events: ["s3:ObjectCreated:*"], filterPrefix: chunkPrefix, lambdaFunctionArn: PROCESSOR_ARN }],
    }),
  ];
}

export interface SignalRecord {
  kind: "success" | "failure";
  taskToken: string;
  accepted: boolean;
  output?: any;
  error?: string;
  cause?: string;
  /** For accepted successes: how many chunk records were done at that moment (proves nothing resumed early). */
  doneChunksAtSignal?: number;
}

/** Step Functions' token rules, for SendTaskSuccess/SendTaskFailure. */
export class FakeStepFunctions {
  readonly signals: SignalRecord[] = [];
  private readonly tokens = new Map<string, "waiting" | "closed">();
  constructor(private readonly onSuccess?: (output: any) => Promise<number>) {}

  newToken(): string {
    const token = `AQB${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`.padEnd(64, "x");
    this.tokens.set(token, "waiting");
    return token;
  }

  /** What a timed-out wait leaves behind: the token is closed. */
  timeOut(token: string): void {
    this.tokens.set(token, "closed");
  }

  accepted(token?: string): SignalRecord[] {
    return this.signals.filter((signal) => signal.accepted && (token === undefined || signal.taskToken === token));
  }

  send(command: { constructor: { name: string }; input: any }): Promise<unknown> {
    return this.answer(command.constructor.name.replace(/Command$/, ""), command.input);
  }

  /** Answers one API operation (`SendTaskSuccess`, `SendTaskFailure`) with AWS's token rules; errors carry AWS's names. */
  async answer(operation: string, input: any): Promise<unknown> {
    const kind = operation === "SendTaskSuccess" ? "success" : operation === "SendTaskFailure" ? "failure" : undefined;
    if (!kind) throw new Error(`unexpected Step Functions call ${operation}`);
    const command = { input };
    const { taskToken } = command.input;
    const state = this.tokens.get(taskToken);
    if (!state) throw Object.assign(new Error("Invalid Token: 'Invalid token'"), { name: "InvalidToken" });
    const record: SignalRecord = { kind, taskToken, accepted: state === "waiting", ...command.input };
    if (kind === "success") record.output = JSON.parse(command.input.output);
    if (record.accepted && kind === "success" && this.onSuccess) record.doneChunksAtSignal = await this.onSuccess(record.output);
    this.signals.push(record);
    if (!record.accepted) throw Object.assign(new Error("Provided task does not exist anymore"), { name: "TaskTimedOut" });
    this.tokens.set(taskToken, "closed");
    return {};
  }
}

/** A new execution's SplitDoc event, as the state's payload builds it from the Context Object. */
export function splitEvent(input: SplitEvent["input"]): SplitEvent {
  const name = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return {
    executionId: `arn:aws:states:us-east-1:123456789012:execution:pipeline-workflow-state-machine:${name}`,
    startTime: new Date().toISOString(),
    input,
  };
}

export interface StartedJob {
  jobId: string;
  /** The wait's token (minted by the fake); stored on the job only when `handToken` ran. */
  taskToken: string;
  chunkCount: number;
  events: S3Event[];
}

export interface PipelineFixture {
  aws: LocalAws;
  settings: PipelineSettings;
  clients: PipelineClients;
  sfn: FakeStepFunctions;
  /**
   * Runs SplitDoc on `text` as a new execution and returns the chunk events S3 sent for it. Then, as the
   * WaitForCompletion step would, hands the wait's token to the job, unless `handToken: false` (the test
   * calls `handToken` itself, to store the token after or while chunks finish).
   */
  startJob(text: string, options?: { handToken?: boolean }): Promise<StartedJob>;
  /** The token receiver, as WaitForCompletion invokes it. */
  handToken(job: Pick<StartedJob, "jobId" | "taskToken">, clients?: PipelineClients): Promise<TokenReport>;
  close(): Promise<void>;
}

export async function startPipelineFixture(overrides: Partial<PipelineSettings> = {}): Promise<PipelineFixture> {
  const aws = await startLocalAws({ dynamodb: { ttlSweepIntervalMs: 3_600_000 } });
  const declarations = pipelineDeclarations(overrides.chunkPrefix);
  for (const resource of declarations) {
    if (resource.type.startsWith("aws:s3/")) await aws.s3.provision(resource, declarations);
    if (resource.type.startsWith("aws:dynamodb/")) await aws.dynamodb.provision(resource);
  }
  const settings: PipelineSettings = { ...PIPELINE_DEFAULTS, bucketName: BUCKET, tableName: TABLE, chunkSizeBytes: 64, ...overrides };
  const dynamodb = aws.dynamoDbClient();
  const sfn = new FakeStepFunctions((output) => countDoneChunks(dynamodb, TABLE, output.jobId));
  const clients: PipelineClients = { s3: aws.s3Client(), dynamodb, sfn };
  const handToken: PipelineFixture["handToken"] = (job, through = clients) =>
    receiveToken({ jobId: job.jobId, taskToken: job.taskToken }, through, settings, () => undefined);
  return {
    aws,
    settings,
    clients,
    sfn,
    async startJob(text, options = {}) {
      const before = aws.invocations.length;
      const result = await splitDocument(splitEvent({ document: text }), clients, settings, () => undefined);
      await aws.s3.drainNotifications();
      const events = aws.invocations.slice(before).map((invocation) => JSON.parse(invocation.payload) as S3Event);
      const job = { jobId: result.jobId, taskToken: sfn.newToken(), chunkCount: result.chunkCount, events };
      if (options.handToken !== false) await handToken(job);
      return job;
    },
    handToken,
    close: () => aws.close(),
  };
}

/** A document of `lines` numbered lines, about 30 bytes each. */
export function sampleDocument(lines: number): string {
  return Array.from({ length: lines }, (_, index) => `line ${index + 1} has some words in it\n`).join("");
}

/** What `wc -l -w -c` prints for `text`. */
export function wc(text: string): { lines: number; words: number; bytes: number } {
  return {
    lines: (text.match(/\n/g) ?? []).length,
    words: text.split(/[ \t\n\v\f\r]+/).filter(Boolean).length,
    bytes: Buffer.byteLength(text),
  };
}

/** Fisher-Yates with a seeded generator, so a failing order can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

/**
 * Wraps the clients so that the `crashAfter`-th call (1-based, counted across S3, DynamoDB and Step Functions)
 * takes effect and then the "process" dies: the call throws SimulatedCrash, as if the function was killed
 * right after the request reached AWS. Returns the wrapped clients and the calls made, in order.
 */
export function crashingClients(clients: PipelineClients, crashAfter: number): { clients: PipelineClients; calls: string[] } {
  const calls: string[] = [];
  const wrap = <C extends { send: (...args: any[]) => Promise<any> }>(client: C): C =>
    ({
      send: async (command: any, ...rest: any[]) => {
        calls.push(command.constructor.name.replace(/Command$/, ""));
        const callNumber = calls.length;
        try {
          return await client.send(command, ...rest);
        } finally {
          // The crash comes after the call took effect, as a process dying after the SDK call returned would.
          // eslint-disable-next-line no-unsafe-finally
          if (callNumber === crashAfter) throw new SimulatedCrash(`crashed after call ${callNumber} (${calls[callNumber - 1]})`);
        }
      },
    }) as unknown as C;
  return { clients: { s3: wrap(clients.s3), dynamodb: wrap(clients.dynamodb), sfn: wrap(clients.sfn) }, calls };
}

/**
 * Wraps the clients so a test can order calls across concurrent handlers: `hold(n, until)` keeps the n-th call
 * (1-based, across S3, DynamoDB and Step Functions) from being sent until `until` settles, and `finished(n)`
 * resolves once the n-th call has taken effect. Calls not held go straight through.
 */
export class CallSequencer {
  readonly calls: string[] = [];
  readonly clients: PipelineClients;
  private readonly holds = new Map<number, Promise<unknown>>();
  private readonly finishes = new Map<number, { promise: Promise<void>; resolve: () => void }>();

  constructor(inner: PipelineClients) {
    const wrap = <C extends { send: (...args: any[]) => Promise<any> }>(client: C): C =>
      ({
        send: async (command: any, ...rest: any[]) => {
          this.calls.push(command.constructor.name.replace(/Command$/, ""));
          const callNumber = this.calls.length;
          await this.holds.get(callNumber);
          try {
            return await client.send(command, ...rest);
          } finally {
            this.finishEntry(callNumber).resolve();
          }
        },
      }) as unknown as C;
    this.clients = { s3: wrap(inner.s3), dynamodb: wrap(inner.dynamodb), sfn: wrap(inner.sfn) };
  }

  hold(callNumber: number, until: Promise<unknown>): this {
    this.holds.set(callNumber, until);
    return this;
  }

  finished(callNumber: number): Promise<void> {
    return this.finishEntry(callNumber).promise;
  }

  private finishEntry(callNumber: number) {
    let entry = this.finishes.get(callNumber);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      entry = { promise, resolve };
      this.finishes.set(callNumber, entry);
    }
    return entry;
  }
}
