/**
 * SQS throughput on the local runtime, through the AWS SDK v3 as a user's code drives it: messages per second
 * that go all the way sent → received → deleted, one message per call and in batches of ten, side by side.
 * The runtime is `npm start`'s command (with the messaging test fixture) in its own process.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { startMessagingRuntime } from "../tests/local/messaging/support";

interface Mode {
  name: string;
  messages: number;
  /** Concurrent producers and, separately, concurrent consumers. */
  concurrency: number;
  batch: boolean;
}

const MODES: Mode[] = [
  { name: "one per call", messages: 2000, concurrency: 1, batch: false },
  { name: "one per call", messages: 4000, concurrency: 10, batch: false },
  { name: "batches of 10", messages: 20000, concurrency: 10, batch: true },
];

async function run(sqs: SQSClient, queueUrl: string, mode: Mode): Promise<number> {
  let toSend = mode.messages;
  let received = 0;
  const started = performance.now();
  const producers = Array.from({ length: mode.concurrency }, async () => {
    while (toSend > 0) {
      const count = mode.batch ? Math.min(10, toSend) : 1;
      toSend -= count;
      if (mode.batch) {
        const entries = Array.from({ length: count }, (_, i) => ({ Id: `m${i}`, MessageBody: `message ${toSend + i}` }));
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      } else {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `message ${toSend}` }));
      }
    }
  });
  const consumers = Array.from({ length: mode.concurrency }, async () => {
    while (received < mode.messages) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: mode.batch ? 10 : 1, WaitTimeSeconds: 1 }),
      );
      received += Messages.length;
      if (Messages.length === 0) continue;
      if (mode.batch) {
        const entries = Messages.map((message, i) => ({ Id: `d${i}`, ReceiptHandle: message.ReceiptHandle }));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      } else {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
      }
    }
  });
  await Promise.all([...producers, ...consumers]);
  const seconds = (performance.now() - started) / 1000;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
  const left = Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
  if (received !== mode.messages || left !== 0)
    throw new Error(`${mode.name}: received ${received} of ${mode.messages}, ${left} left in the queue`);
  return mode.messages / seconds;
}

async function main(): Promise<void> {
  const runtime = await startMessagingRuntime();
  try {
    const { sqs } = runtime;
    console.log(`local runtime at ${runtime.origin}; machine: ${require("node:os").cpus().length} cores, Node ${process.version}`);
    // Warm-up: the SDK's and the runtime's first requests pay for lazy loading.
    await run(sqs, (await sqs.send(new CreateQueueCommand({ QueueName: "bench-warm-up" }))).QueueUrl!, {
      name: "warm-up",
      messages: 200,
      concurrency: 4,
      batch: false,
    });
    console.log("mode            concurrency  messages  messages/s (sent → received → deleted)");
    const rates: number[] = [];
    for (const [index, mode] of MODES.entries()) {
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `bench-${index}` }))).QueueUrl!;
      const rate = await run(sqs, queueUrl, mode);
      rates.push(rate);
      console.log(
        `${mode.name.padEnd(14)}  ${String(mode.concurrency).padStart(11)}  ${String(mode.messages).padStart(8)}  ${rate.toFixed(0).padStart(10)}`,
      );
    }
    console.log(`batches of 10 vs one per call at concurrency 10: ${(rates[2] / rates[1]).toFixed(1)}x`);
    sqs.destroy();
    runtime.sns.destroy();
  } finally {
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
