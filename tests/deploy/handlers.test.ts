import { strict as assert } from "node:assert";
import { TaskTimedOut, InvalidToken } from "@aws-sdk/client-sfn";
import { countWords, parseFailureRate, parseOutcome, processAndCheckCompletion } from "../../handlers/processAndCheckCompletion";
import { createSignaller, MAX_CAUSE_LENGTH, MAX_ERROR_LENGTH, serializeOutput, truncate, type SendsCommands } from "../../handlers/signal";
import { DEFAULT_DOCUMENT, splitDoc } from "../../handlers/splitDoc";

/** A stand-in SFN client recording each command; `answer` decides what each call does. */
function recordingClient(answer: (command: any) => unknown = () => ({})) {
  const sent: { name: string; input: any }[] = [];
  const client: SendsCommands = {
    send: (async (command: any) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const result = answer(command);
      if (result instanceof Error) throw result;
      return result;
    }) as SendsCommands["send"],
  };
  return { client, sent };
}

const TOKEN = "AQB8AAAAKgAAAAMAAAAAAAAAAf0example-token";

describe("deploy: signal helper (handlers/signal.ts)", () => {
  it("sends SendTaskSuccess with the output as JSON text", async () => {
    const { client, sent } = recordingClient();
    const result = await createSignaller(client).success(TOKEN, { status: "COMPLETED", count: 2 });
    assert.deepEqual(result, { signal: "success", delivered: true });
    assert.deepEqual(sent, [{ name: "SendTaskSuccessCommand", input: { taskToken: TOKEN, output: '{"status":"COMPLETED","count":2}' } }]);
  });

  it("cuts error to 256 and cause to 32,768 characters, so SendTaskFailure itself cannot be rejected", async () => {
    const { client, sent } = recordingClient();
    await createSignaller(client).failure(TOKEN, { error: "E".repeat(300), cause: "c".repeat(40_000) });
    assert.equal(sent[0].name, "SendTaskFailureCommand");
    assert.equal(sent[0].input.error.length, MAX_ERROR_LENGTH);
    assert.equal(sent[0].input.cause.length, MAX_CAUSE_LENGTH);
    assert.ok(sent[0].input.cause.endsWith("…"));
  });

  it("sends error and cause unchanged when within the limits, and no cause when none is given", async () => {
    const { client, sent } = recordingClient();
    const signaller = createSignaller(client);
    await signaller.failure(TOKEN, { error: "ProcessingFailed", cause: "chunk 3 failed" });
    await signaller.failure(TOKEN, { error: "ProcessingFailed" });
    assert.deepEqual(
      sent.map((call) => call.input),
      [
        { taskToken: TOKEN, error: "ProcessingFailed", cause: "chunk 3 failed" },
        { taskToken: TOKEN, error: "ProcessingFailed" },
      ],
    );
  });

  it("sends SendTaskHeartbeat with the token only", async () => {
    const { client, sent } = recordingClient();
    assert.deepEqual(await createSignaller(client).heartbeat(TOKEN), { signal: "heartbeat", delivered: true });
    assert.deepEqual(sent, [{ name: "SendTaskHeartbeatCommand", input: { taskToken: TOKEN } }]);
  });

  it("treats TaskTimedOut (a repeated or late signal) as already done, not as a crash", async () => {
    const closed = new TaskTimedOut({ message: "Provided task does not exist anymore", $metadata: {} });
    const { client } = recordingClient(() => closed);
    const signaller = createSignaller(client);
    for (const result of [
      await signaller.success(TOKEN, {}),
      await signaller.failure(TOKEN, { error: "X" }),
      await signaller.heartbeat(TOKEN),
    ]) {
      assert.equal(result.delivered, false);
      assert.deepEqual(result, {
        signal: result.signal,
        delivered: false,
        reason: "TaskTimedOut",
        message: "Provided task does not exist anymore",
      });
    }
  });

  it("rethrows every other error (an unknown token is a bug, not a duplicate)", async () => {
    const { client } = recordingClient(() => new InvalidToken({ message: "Invalid Token: 'Invalid token'", $metadata: {} }));
    await assert.rejects(createSignaller(client).success(TOKEN, {}), { name: "InvalidToken" });
  });

  it("refuses output AWS would answer with InvalidOutput: over 262,144 bytes or not JSON", async () => {
    const { client, sent } = recordingClient();
    await assert.rejects(createSignaller(client).success(TOKEN, { blob: "x".repeat(262_144) }), {
      name: "RangeError",
      message: "SendTaskSuccess output is 262155 bytes of JSON; Step Functions accepts at most 262144",
    });
    assert.throws(() => serializeOutput(undefined), {
      name: "TypeError",
      message: "SendTaskSuccess output must be JSON-serializable; received undefined",
    });
    assert.equal(sent.length, 0);
  });

  it("never splits a surrogate pair when cutting", () => {
    const emoji = "a" + "😀".repeat(10);
    assert.equal(truncate(emoji, 6), "a😀😀…");
    // Cutting at 5 would leave half of the second emoji: it is dropped whole instead.
    assert.equal(truncate(emoji, 5), "a😀…");
    assert.equal(truncate("short", 256), "short");
  });
});

describe("deploy: ProcessAndCheckCompletion (handlers/processAndCheckCompletion.ts)", () => {
  const never = () => assert.fail("random must not be drawn when the input forces the outcome");

  it("forced success: SendTaskSuccess with an output for the next state, counting SplitDoc's chunks", async () => {
    const { client, sent } = recordingClient();
    const result = await processAndCheckCompletion(
      { taskToken: TOKEN, input: { outcome: "success", chunks: ["one two", "three"] } },
      { signaller: createSignaller(client), failureRate: 1, random: never },
    );
    assert.deepEqual(result, { outcome: "success", decidedBy: "input", signal: { signal: "success", delivered: true } });
    assert.deepEqual(sent, [
      {
        name: "SendTaskSuccessCommand",
        input: { taskToken: TOKEN, output: '{"status":"COMPLETED","decidedBy":"input","chunkCount":2,"wordCount":3}' },
      },
    ]);
  });

  it("forced failure: SendTaskFailure with error ProcessingFailed and a cause naming the input", async () => {
    const { client, sent } = recordingClient();
    await processAndCheckCompletion(
      { taskToken: TOKEN, input: { outcome: "failure" } },
      { signaller: createSignaller(client), failureRate: 0, random: never },
    );
    assert.deepEqual(sent, [
      {
        name: "SendTaskFailureCommand",
        input: {
          taskToken: TOKEN,
          error: "ProcessingFailed",
          cause: 'Processing failed because the execution input asked for it (outcome: "failure")',
        },
      },
    ]);
  });

  it("by chance: fails when the draw is below failureRate, naming the draw and the rate in the cause", async () => {
    const { client, sent } = recordingClient();
    const result = await processAndCheckCompletion(
      { taskToken: TOKEN, input: {} },
      { signaller: createSignaller(client), failureRate: 0.3, random: () => 0.29 },
    );
    assert.equal(result.decidedBy, "chance");
    assert.deepEqual(sent, [
      {
        name: "SendTaskFailureCommand",
        input: { taskToken: TOKEN, error: "ProcessingFailed", cause: "Processing failed by chance: draw 0.2900 < failureRate 0.3" },
      },
    ]);
  });

  it("by chance: succeeds when the draw is at or above failureRate, recording the chance in the output", async () => {
    const { client, sent } = recordingClient();
    await processAndCheckCompletion({ taskToken: TOKEN }, { signaller: createSignaller(client), failureRate: 0.3, random: () => 0.3 });
    assert.deepEqual(JSON.parse(sent[0].input.output), {
      status: "COMPLETED",
      decidedBy: "chance",
      chance: { draw: 0.3, failureRate: 0.3 },
      chunkCount: 0,
      wordCount: 0,
    });
  });

  it("crash: throws and sends nothing", async () => {
    const { client, sent } = recordingClient();
    await assert.rejects(
      processAndCheckCompletion(
        { taskToken: TOKEN, input: { outcome: "crash" } },
        { signaller: createSignaller(client), failureRate: 0, random: never },
      ),
      {
        name: "RequestedCrash",
        message: 'The execution input asked this function to crash (outcome: "crash")',
      },
    );
    assert.equal(sent.length, 0);
  });

  it("silence: returns without calling back", async () => {
    const { client, sent } = recordingClient();
    const result = await processAndCheckCompletion(
      { taskToken: TOKEN, input: { outcome: "silence" } },
      { signaller: createSignaller(client), failureRate: 0, random: never },
    );
    assert.deepEqual(result, { outcome: "silence", decidedBy: "input", signal: null });
    assert.equal(sent.length, 0);
  });

  it("rejects an unknown outcome with an error naming the accepted values, sending nothing", async () => {
    const { client, sent } = recordingClient();
    await assert.rejects(
      processAndCheckCompletion(
        { taskToken: TOKEN, input: { outcome: "maybe" } },
        { signaller: createSignaller(client), failureRate: 0, random: never },
      ),
      {
        name: "InvalidOutcome",
        message: 'Unknown outcome "maybe": expected one of "success", "failure", "crash", "silence", or none to leave it to chance',
      },
    );
    assert.equal(sent.length, 0);
    assert.throws(() => parseOutcome(1), {
      message: 'Unknown outcome 1: expected one of "success", "failure", "crash", "silence", or none to leave it to chance',
    });
  });

  it("rejects an event without a task token, pointing at the state's Payload", async () => {
    const { client } = recordingClient();
    await assert.rejects(
      processAndCheckCompletion({ input: {} } as any, { signaller: createSignaller(client), failureRate: 0, random: never }),
      {
        name: "MissingTaskToken",
        message:
          'event.taskToken must be a non-empty string (the state\'s Payload must pass "taskToken.$": "$$.Task.Token"); received {"input":{}}',
      },
    );
  });

  it("reports a repeated delivery whose task already closed as done (TaskTimedOut), not as a failure", async () => {
    const { client } = recordingClient(() => new TaskTimedOut({ message: "Provided task does not exist anymore", $metadata: {} }));
    const result = await processAndCheckCompletion(
      { taskToken: TOKEN, input: { outcome: "success" } },
      { signaller: createSignaller(client), failureRate: 0, random: never },
    );
    assert.deepEqual(result.signal, {
      signal: "success",
      delivered: false,
      reason: "TaskTimedOut",
      message: "Provided task does not exist anymore",
    });
  });

  it("reads FAILURE_RATE as a probability from 0 to 1 (unset: 0.5) and rejects anything else", () => {
    assert.equal(parseFailureRate(undefined), 0.5);
    assert.equal(parseFailureRate("0"), 0);
    assert.equal(parseFailureRate("1"), 1);
    assert.equal(parseFailureRate("0.25"), 0.25);
    assert.throws(() => parseFailureRate("1.5"), {
      name: "InvalidFailureRate",
      message: 'FAILURE_RATE must be a number from 0 to 1; received "1.5"',
    });
    assert.throws(() => parseFailureRate("often"), { message: 'FAILURE_RATE must be a number from 0 to 1; received "often"' });
  });

  it("counts words only in string chunks", () => {
    assert.deepEqual(countWords(["a b  c", 7, " d "]), { chunkCount: 3, wordCount: 4 });
    assert.deepEqual(countWords("a b"), { chunkCount: 0, wordCount: 0 });
  });
});

describe("deploy: SplitDoc (handlers/splitDoc.ts)", () => {
  it("splits the document into chunks of chunkWords words and passes the rest of the input through", () => {
    assert.deepEqual(splitDoc({ document: "one two three four five", chunkWords: 2, outcome: "failure" }), {
      outcome: "failure",
      chunks: ["one two", "three four", "five"],
    });
  });

  it("splits a built-in sample document when the input has none (e.g. a bare GET /start)", () => {
    const { chunks } = splitDoc(undefined);
    assert.equal(chunks.join(" "), DEFAULT_DOCUMENT.split(/\s+/).join(" "));
    assert.ok(chunks.every((chunk) => chunk.split(" ").length <= 8));
  });

  it("rejects a document that is not text and a chunk size that is not a whole number of at least 1", () => {
    assert.throws(() => splitDoc({ document: 42 }), { name: "InvalidDocument", message: "document must be a string of text; received 42" });
    assert.throws(() => splitDoc({ chunkWords: 0 }), {
      name: "InvalidChunkWords",
      message: "chunkWords must be a whole number of at least 1; received 0",
    });
  });
});
