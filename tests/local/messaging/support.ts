/** Clients, the AWS CLI and polling helpers for the SQS/SNS specs, all pointed at one running fixture program. */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { SNSClient } from "@aws-sdk/client-sns";
import { REPOSITORY, startRuntime, type RuntimeProcess } from "../e2e/runtimeProcess";

export const FIXTURE = path.join(REPOSITORY, "tests/local/messaging/fixture");
const credentials = { accessKeyId: "AKIDMESSAGING", secretAccessKey: "messaging" };

export interface MessagingRuntime extends RuntimeProcess {
  sqs: SQSClient;
  sns: SNSClient;
}

export async function startMessagingRuntime(): Promise<MessagingRuntime> {
  // IAM is enforced, as a user runs it (the default): the SDK and the CLI call as the terminal; what runs on
  // someone's behalf (state machines, SNS deliveries, event source mappings) needs the roles and queue policies
  // AWS would need, declared by the fixture or set by the specs as a user would. A copy with statements taken out
  // runs in tests/local/iam/messagingEnforcement.test.ts.
  const runtime = await startRuntime(["--cwd", FIXTURE], { LOCAL_LAMBDA_NODE: "machine" });
  const options = { endpoint: runtime.origin, region: "us-east-1", credentials, maxAttempts: 1 };
  const sqs = new SQSClient(options);
  const sns = new SNSClient(options);
  return Object.assign(runtime, { sqs, sns });
}

/** Messages drained from each queue but not yet claimed by a test (shared queues hold several tests' messages). */
const drained = new Map<string, Message[]>();

/**
 * Waits until `count` messages matching `accept` have arrived in a queue, and returns them (oldest first).
 * Everything received is deleted at once and kept here, so a message one test waits for is never hidden
 * from it by another's receive.
 */
export async function collect(
  runtime: MessagingRuntime,
  queueUrl: string,
  count: number,
  accept: (message: Message) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<Message[]> {
  const buffer = drained.get(queueUrl) ?? [];
  drained.set(queueUrl, buffer);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = buffer.filter(accept);
    if (found.length >= count) {
      const claimed = found.slice(0, count);
      drained.set(
        queueUrl,
        buffer.filter((message) => !claimed.includes(message)),
      );
      return claimed;
    }
    if (Date.now() > deadline)
      throw new Error(`only ${found.length} of ${count} expected messages arrived in ${queueUrl} within ${timeoutMs} ms`);
    const { Messages = [] } = await runtime.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    for (const message of Messages) {
      await runtime.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      buffer.push(message);
    }
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Debian's AWS CLI 2.9 (query protocol for SQS and SNS), as the README tells users to run it (by default as the terminal). */
export function aws(
  runtime: Pick<RuntimeProcess, "origin">,
  args: string[],
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = { accessKeyId: "AKIDCLI", secretAccessKey: "cli" },
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/aws",
      ["--endpoint-url", runtime.origin, "--region", "us-east-1", "--output", "json", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: os.tmpdir(),
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
          AWS_PAGER: "",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export async function outbox(runtime: RuntimeProcess): Promise<Array<Record<string, any>>> {
  const response = await fetch(`${runtime.origin}/_local/sns/messages`);
  return (await response.json()) as Array<Record<string, any>>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a call was refused with; fails the test if it was not. */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to be refused");
}
