/** The channels' functions as plain functions: the approval links, the approval page, the notifier's message, the SQS worker. */
import { strict as assert } from "node:assert";
import { answerApproval } from "../../handlers/approval/answer";
import { approvalLinks, decodeToken, encodeToken } from "../../handlers/approval/links";
import { approvalMessage } from "../../handlers/approval/notify";
import type { SignalResult, TaskFailure, TaskSignaller } from "../../handlers/signal";
import { handleTokenMessages } from "../../handlers/sqsWorker";

/** A token as Step Functions mints them: base64 with `+`, `/` and `=`, which a URL would mangle. */
const TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAZTL+z2uJd4n/Z1rjRkCHW6JCIXg==";
const OTHER_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAZTL+z2uJd4n/Z1rjRkCHW6JCIXh==";

/** Records every signal; `closed` tokens answer as Step Functions does for a closed task (TaskTimedOut). */
function recordingSignaller(closed = new Set<string>(), unknown = new Set<string>()) {
  const calls: { kind: string; taskToken: string; output?: unknown; failure?: TaskFailure }[] = [];
  const answer = async (kind: "success" | "failure" | "heartbeat", taskToken: string): Promise<SignalResult> => {
    if (unknown.has(taskToken)) throw Object.assign(new Error("Invalid Token: 'Invalid token'"), { name: "InvalidToken" });
    if (closed.has(taskToken))
      return { signal: kind, delivered: false, reason: "TaskTimedOut", message: "Provided task does not exist anymore" };
    closed.add(taskToken);
    return { signal: kind, delivered: true };
  };
  const signaller: TaskSignaller = {
    success: async (taskToken, output) => (calls.push({ kind: "success", taskToken, output }), answer("success", taskToken)),
    failure: async (taskToken, failure) => (calls.push({ kind: "failure", taskToken, failure }), answer("failure", taskToken)),
    heartbeat: async (taskToken) => (calls.push({ kind: "heartbeat", taskToken }), answer("heartbeat", taskToken)),
  };
  return { signaller, calls, closed };
}

const NOW = () => new Date("2026-11-27T08:00:00.000Z");
const linkEvent = (link: string) => {
  const url = new URL(link);
  return { rawPath: url.pathname, queryStringParameters: Object.fromEntries(url.searchParams) };
};

describe("handlers: approval links", () => {
  it("carry the token URL-safely (base64url) and give it back unchanged", () => {
    const links = approvalLinks("https://abc.execute-api.us-east-1.amazonaws.com/approval-request/", TOKEN);
    assert.equal(links.approve, `https://abc.execute-api.us-east-1.amazonaws.com/approval-request/approve?token=${encodeToken(TOKEN)}`);
    assert.match(links.reject, /\/reject\?token=[A-Za-z0-9_-]+$/);
    assert.equal(decodeToken(new URL(links.approve).searchParams.get("token")!), TOKEN);
  });

  it("refuse a token parameter that is missing, not base64url, or altered", () => {
    assert.equal(decodeToken(undefined), undefined);
    assert.equal(decodeToken(""), undefined);
    assert.equal(decodeToken("abc+/="), undefined);
    assert.equal(decodeToken(`${encodeToken(TOKEN)}x`), undefined);
  });
});

describe("handlers: the approval page (answerApproval)", () => {
  const links = approvalLinks("https://example.com/approval", TOKEN);

  it("approve: SendTaskSuccess on the link's token with the decision, and a 200 page", async () => {
    const { signaller, calls } = recordingSignaller();
    const response = await answerApproval(linkEvent(links.approve), signaller, NOW);
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /<h1>Approved<\/h1>/);
    assert.equal(response.headers["content-type"], "text/html; charset=utf-8");
    assert.deepEqual(calls, [{ kind: "success", taskToken: TOKEN, output: { approved: true, decidedAt: "2026-11-27T08:00:00.000Z" } }]);
  });

  it("reject: SendTaskFailure with the named error Rejected", async () => {
    const { signaller, calls } = recordingSignaller();
    const response = await answerApproval(linkEvent(links.reject), signaller, NOW);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(calls, [
      {
        kind: "failure",
        taskToken: TOKEN,
        failure: { error: "Rejected", cause: "Rejected through the approval link at 2026-11-27T08:00:00.000Z" },
      },
    ]);
  });

  it("answers a second click, or one after the wait expired, with 409 'Already decided' and changes nothing", async () => {
    const { signaller } = recordingSignaller();
    assert.equal((await answerApproval(linkEvent(links.approve), signaller, NOW)).statusCode, 200);
    const second = await answerApproval(linkEvent(links.reject), signaller, NOW);
    assert.equal(second.statusCode, 409);
    assert.match(second.body, /Already decided/);
  });

  it("answers 400 for a damaged link or a token Step Functions does not know, without calling it for the damaged one", async () => {
    const { signaller, calls } = recordingSignaller(new Set(), new Set([OTHER_TOKEN]));
    const damaged = await answerApproval({ rawPath: "/approval/approve", queryStringParameters: { token: "not a token" } }, signaller);
    assert.equal(damaged.statusCode, 400);
    assert.deepEqual(calls, []);
    const unknown = await answerApproval(linkEvent(approvalLinks("https://example.com/approval", OTHER_TOKEN).approve), signaller);
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /Unknown request/);
  });

  it("answers only the token its link carries: one request's link cannot decide another", async () => {
    const { signaller, calls } = recordingSignaller();
    await answerApproval(linkEvent(approvalLinks("https://example.com/approval", OTHER_TOKEN).approve), signaller, NOW);
    assert.deepEqual(
      calls.map((call) => call.taskToken),
      [OTHER_TOKEN],
    );
  });

  it("answers 404 for a path that is neither approve nor reject", async () => {
    const { signaller } = recordingSignaller();
    assert.equal(
      (await answerApproval({ rawPath: "/approval/maybe", queryStringParameters: { token: encodeToken(TOKEN) } }, signaller)).statusCode,
      404,
    );
  });
});

describe("handlers: the approval notifier's message", () => {
  it("names the execution and carries both links, under SNS's subject limits", () => {
    const { subject, message } = approvalMessage(
      { taskToken: TOKEN, executionId: "arn:aws:states:us-east-1:123456789012:execution:approval-sm:order-42", input: { order: 42 } },
      { topicArn: "arn:aws:sns:us-east-1:123456789012:t", apiUrl: "https://example.com/approval" },
    );
    assert.equal(subject, "Approval requested: order-42");
    const links = approvalLinks("https://example.com/approval", TOKEN);
    assert.ok(message.includes(`Approve: ${links.approve}`), message);
    assert.ok(message.includes(`Reject: ${links.reject}`), message);
    assert.ok(message.includes("arn:aws:states:us-east-1:123456789012:execution:approval-sm:order-42"));
    assert.ok(message.includes('"order": 42'));
  });

  it("fails with MissingTaskToken when the payload carries no token", () => {
    assert.throws(() => approvalMessage({ executionId: "x" } as never, { topicArn: "t", apiUrl: "u" }), { name: "MissingTaskToken" });
  });
});

describe("handlers: the demo's SQS worker (handleTokenMessages)", () => {
  const message = (messageId: string, body: unknown) => ({ messageId, body: typeof body === "string" ? body : JSON.stringify(body) });
  const quiet = () => undefined;

  it("answers success for {} input, ProcessingFailed for outcome failure, one signal per message", async () => {
    const { signaller, calls } = recordingSignaller();
    const response = await handleTokenMessages(
      {
        Records: [message("m1", { taskToken: TOKEN, input: {} }), message("m2", { taskToken: OTHER_TOKEN, input: { outcome: "failure" } })],
      },
      signaller,
      quiet,
    );
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(calls, [
      { kind: "success", taskToken: TOKEN, output: { status: "DONE", messageId: "m1" } },
      {
        kind: "failure",
        taskToken: OTHER_TOKEN,
        failure: { error: "ProcessingFailed", cause: 'The execution input asked for failure (outcome: "failure")' },
      },
    ]);
  });

  it("reports only the messages it could not handle, so SQS redelivers them (and in the end moves them to the DLQ)", async () => {
    const { signaller } = recordingSignaller();
    const response = await handleTokenMessages(
      {
        Records: [
          message("ok", { taskToken: TOKEN, input: {} }),
          message("crash", { taskToken: OTHER_TOKEN, input: { outcome: "crash" } }),
          message("garbled", "{not json"),
          message("tokenless", { input: {} }),
        ],
      },
      signaller,
      quiet,
    );
    assert.deepEqual(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort(), ["crash", "garbled", "tokenless"]);
  });

  it("treats a redelivered message whose task already closed as handled, not failed", async () => {
    const { signaller } = recordingSignaller(new Set([TOKEN]));
    assert.deepEqual(await handleTokenMessages({ Records: [message("again", { taskToken: TOKEN, input: {} })] }, signaller, quiet), {
      batchItemFailures: [],
    });
  });
});
