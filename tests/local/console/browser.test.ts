/**
 * The console in a real headless Chromium against `npm start`'s runtime: every state drawn, live executions,
 * a failure's error and cause, the token buttons and the API's errors, and the origin's Host/Origin checks.
 * Screenshots of each page are written to a temporary folder (printed at the end) for people to look at.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeStateMachineCommand, ListStateMachinesCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import type { Browser, Page } from "playwright-core";
import { allStateNames } from "../../../local/console/model/diagram";
import { launchBrowser } from "../../support/browser";
import { start, startRuntime, waitForEnd, type RuntimeProcess } from "../e2e/runtimeProcess";

const AWS_CLI = "/usr/bin/aws";

function aws(runtime: RuntimeProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      ["--endpoint-url", runtime.origin, "--region", "us-east-1", "--output", "json", ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: os.tmpdir(),
          AWS_ACCESS_KEY_ID: "AKIDCONSOLE",
          AWS_SECRET_ACCESS_KEY: "console",
          AWS_PAGER: "",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A raw request with any Host header (fetch always sends the URL's own). */
function requestWithHost(origin: string, host: string, method: string, pathname: string, headers: Record<string, string> = {}, body = "") {
  const url = new URL(origin);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: pathname, headers: { ...headers, Host: host } }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Holds the page's live event streams until `release`; `stop` lets later ones through at once. */
async function holdLiveStream(page: Page): Promise<{ release(): void; stop(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/console/api/live?*", async (route) => {
    await held;
    await route.continue();
  });
  return { release, stop: () => page.unroute("**/console/api/live?*") };
}

const executionLink = (runtime: RuntimeProcess, arn: string) => `${runtime.origin}/console/executions/${encodeURIComponent(arn)}`;
const machineLink = (runtime: RuntimeProcess, arn: string) => `${runtime.origin}/console/state-machines/${encodeURIComponent(arn)}`;

describe("local console in a browser (headless Chromium, playwright-core)", function () {
  // Generous: on a loaded 2-core machine an execution's Lambda round trips alone can take seconds.
  this.timeout(120_000);
  let runtime: RuntimeProcess;
  let browser: Browser;
  let page: Page;
  const screenshots = fs.mkdtempSync(path.join(os.tmpdir(), "console-screens-"));
  const shoot = (name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

  before(async function () {
    this.timeout(180_000);
    assert.ok(fs.existsSync(AWS_CLI), `${AWS_CLI} is missing: install Debian's awscli package, as .ci/run does`);
    runtime = await startRuntime(["-c", "failureRate=0", "-c", "heartbeatSeconds=120"]);
    ({ browser } = await launchBrowser());
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  after(async () => {
    await browser?.close();
    if (runtime) await runtime.stop();
    console.log(`      console screenshots: ${screenshots}`);
  });

  it("GET / lists every state machine of the stack with its type and counts by status", async () => {
    await page.goto(`${runtime.origin}/`);
    await page.waitForSelector("#state-machines");
    const { stateMachines } = await runtime.sfn.send(new ListStateMachinesCommand({}));
    assert.ok(stateMachines!.length >= 2);
    for (const machine of stateMachines!) {
      const row = page.locator(`tr[data-arn="${machine.stateMachineArn}"]`);
      assert.equal(await row.locator("a").textContent(), machine.name);
      assert.equal(await row.locator("td").nth(1).textContent(), "STANDARD");
    }
    await shoot("overview");
  });

  it("opens a page on an idle runtime with one load of its data; a change while the live stream connects loads it again", async () => {
    // The page the last test left open is live: it would load again on this execution's changes.
    await page.goto("about:blank");
    const { body } = await start(runtime, { outcome: "success" });
    await waitForEnd(runtime, body.executionArn);
    const changeCount = async () =>
      ((await (await fetch(`${runtime.origin}/console/api/state-machines`)).json()) as { changeCount: number }).changeCount;
    const loads: string[] = [];
    const count = (request: { url(): string }) => {
      if (/\/console\/api\/(execution|state-machines)\?|\/console\/api\/state-machines$/.test(request.url())) loads.push(request.url());
    };
    page.on("request", count);
    try {
      const before = await changeCount();
      for (const link of [executionLink(runtime, body.executionArn), `${runtime.origin}/`]) {
        loads.length = 0;
        const subscribed = page.waitForResponse((response) => response.url().includes("/console/api/live?"));
        await page.goto(link);
        await subscribed;
        await page.waitForTimeout(500);
        assert.equal(loads.length, 1, `${link} loaded ${loads.length} times: ${loads.join(", ")}`);
      }
      assert.equal(await changeCount(), before, "nothing ran meanwhile");

      // Held until a new execution has recorded events: the page's load is older than its subscription.
      loads.length = 0;
      const outboxAnswers: number[] = [];
      const countOutbox = (response: { url(): string; status(): number }) => {
        if (response.url().endsWith("/_local/sns/messages")) outboxAnswers.push(response.status());
      };
      page.on("response", countOutbox);
      const stream = await holdLiveStream(page);
      try {
        await page.goto(`${runtime.origin}/`);
        const cell = `tr[data-arn="${runtime.outputs.stateMachineArn}"] td[data-status="SUCCEEDED"]`;
        const shown = Number(await page.locator(cell).textContent());
        const other = await start(runtime, { outcome: "success" });
        await waitForEnd(runtime, other.body.executionArn);
        stream.release();
        await page.locator(cell, { hasText: new RegExp(`^${shown + 1}$`) }).waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        assert.equal(loads.length, 2, "loaded again once the stream said what it subscribed at");
        assert.deepEqual(outboxAnswers, [200, 304], "the reload found no new mail: the outbox answered 304, not the list again");
      } finally {
        page.off("response", countOutbox);
        stream.release();
        await stream.stop();
      }
    } finally {
      page.off("request", count);
    }
  });

  it("draws every state of every state machine of the stack in its diagram, by name", async () => {
    const { stateMachines } = await runtime.sfn.send(new ListStateMachinesCommand({}));
    for (const machine of stateMachines!) {
      const { definition } = await runtime.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machine.stateMachineArn }));
      const names = allStateNames(JSON.parse(definition!));
      assert.ok(names.length >= 2);
      await page.goto(machineLink(runtime, machine.stateMachineArn!));
      await page.waitForSelector("svg.diagram");
      const drawn = await page
        .locator("svg.diagram [data-state]")
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-state")));
      assert.deepEqual(drawn.sort(), [...names].sort(), machine.name);
      for (const name of names) assert.equal(await page.locator(`[data-state="${name}"] .state-name`).textContent(), name);
      if (machine.stateMachineArn === runtime.outputs.stateMachineArn)
        assert.equal(await page.locator("svg.diagram .edge-catch").count(), 3, "the demo's three Catch edges");
      await shoot(`state-machine-${machine.name}`);
    }
  });

  it("shows an execution started with the AWS CLI in the open executions list without a reload", async () => {
    const stateMachineArn = runtime.outputs.stateMachineArn;
    await page.goto(machineLink(runtime, stateMachineArn));
    await page.waitForSelector("svg.diagram");
    await page.evaluate(() => ((globalThis as any).notReloaded = true));
    const { code, stdout, stderr } = await aws(runtime, [
      "stepfunctions",
      "start-execution",
      "--state-machine-arn",
      stateMachineArn,
      "--name",
      "started-by-cli",
      "--input",
      '{"outcome":"success"}',
    ]);
    assert.equal(code, 0, stderr);
    const { executionArn } = JSON.parse(stdout);
    await page.waitForSelector(`tr[data-arn="${executionArn}"]`, { timeout: 15_000 });
    assert.equal(await page.locator(`tr[data-arn="${executionArn}"] a`).textContent(), "started-by-cli");
    await page.waitForSelector(`tr[data-arn="${executionArn}"] .status-succeeded`, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => (globalThis as any).notReloaded), true, "the page was not reloaded");
    await shoot("state-machine-live");
  });

  it("Start execution: prefilled with the latest input, invalid JSON shown inline, then starts and opens the execution", async () => {
    await page.goto(machineLink(runtime, runtime.outputs.stateMachineArn));
    const editor = page.locator("textarea[name=input]");
    assert.deepEqual(JSON.parse(await editor.inputValue()), { outcome: "success" });
    await editor.fill('{"outcome": ');
    assert.match((await page.locator(".start-form .json-status").textContent())!, /^Invalid JSON: /);
    await page.click("#start-execution");
    assert.match((await page.locator(".start-form .action-result").textContent())!, /^Not started: the input is not valid JSON/);
    await editor.fill('{"outcome": "success"}');
    assert.equal(await page.locator(".start-form .json-status").textContent(), "Valid JSON");
    await Promise.all([page.waitForURL(/\/console\/executions\//), page.click("#start-execution")]);
    await page.waitForSelector("h1 .status-succeeded", { timeout: 30_000 });
    assert.equal(await page.locator('[data-state="ContinueProcess"]').getAttribute("data-fate"), "succeeded");
  });

  it("shows an execution's end that came after the page loaded but before its live stream opened", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    // Hold the page's event stream until the execution has ended: no change notice can reach the page for it.
    const stream = await holdLiveStream(page);
    try {
      await page.goto(executionLink(runtime, body.executionArn));
      await page.waitForSelector("h1 .status-running");
      await runtime.sfn.send(new StopExecutionCommand({ executionArn: body.executionArn, error: "Stopped", cause: "by the test" }));
      stream.release();
      await page.waitForSelector("h1 .status-aborted", { timeout: 15_000 });
    } finally {
      stream.release();
      await stream.stop();
    }
  });

  it("a failed execution shows ProcessingFailed and its cause, and the failed state's exception on click", async () => {
    const { body } = await start(runtime, { outcome: "failure" });
    const ended = await waitForEnd(runtime, body.executionArn, 60_000);
    assert.equal(ended.status, "FAILED");
    await page.goto(executionLink(runtime, body.executionArn));
    await page.waitForSelector("#execution-error");
    assert.equal(await page.locator("#execution-error .error-name").textContent(), "ProcessingFailed");
    assert.equal(await page.locator("#execution-error .cause").textContent(), ended.cause);
    assert.equal(await page.locator('[data-state="WaitForCompletion"]').getAttribute("data-fate"), "caught");
    assert.equal(await page.locator('[data-state="ProcessingFailed"]').getAttribute("data-fate"), "failed");
    assert.equal(await page.locator('[data-state="ContinueProcess"]').getAttribute("data-fate"), "notReached");
    await page.click('[data-state="WaitForCompletion"]');
    assert.equal(await page.locator(".state-detail [data-field=exception] .error-name").textContent(), "ProcessingFailed");
    await page.click('[data-state="ProcessingFailed"]');
    assert.equal(await page.locator(".state-detail [data-field=exception] .error-name").textContent(), "ProcessingFailed");
    assert.equal(await page.locator(".state-detail [data-field=exception] .cause").textContent(), ended.cause);
    assert.ok((await page.locator("#history tbody tr").count()) >= 12);
    await shoot("execution-failed");
  });

  it("the token buttons: heartbeat and failure are accepted, an invalid output shows the API's InvalidOutput", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    await page.goto(executionLink(runtime, body.executionArn));
    const panel = page.locator('.token-card[data-token-state="WaitForCompletion"]');
    await panel.waitFor({ timeout: 30_000 });
    await page.waitForSelector('[data-state="WaitForCompletion"][data-fate="waiting"]', { timeout: 30_000 });
    assert.match((await panel.locator("input.token").inputValue())!, /^AQ/);
    await shoot("execution-waiting");

    await panel.locator("[data-action=heartbeat]").click();
    await page.waitForFunction(
      () => (globalThis as any).document.querySelector("[data-role=token-result]")?.textContent === "Send heartbeat: accepted",
    );

    await panel.locator("textarea[name=output]").fill("{not json");
    await panel.locator("[data-action=success]").click();
    await page.waitForFunction(() =>
      /^Send task success refused — InvalidOutput: /.test(
        (globalThis as any).document.querySelector("[data-role=token-result]")?.textContent ?? "",
      ),
    );
    await shoot("execution-invalid-output");

    await panel.locator("input[name=error]").fill("ProcessingFailed");
    await panel.locator("input[name=cause]").fill("declined in the console");
    await panel.locator("[data-action=failure]").click();
    await page.waitForSelector("h1 .status-failed", { timeout: 30_000 });
    assert.equal(await page.locator(".token-card").count(), 0, "no task waits any more");
    assert.equal(await page.locator("#execution-error .cause").textContent(), "declined in the console");
  });

  it("Send task success resumes the execution with exactly the given output", async () => {
    const { body } = await start(runtime, { outcome: "silence" });
    await page.goto(executionLink(runtime, body.executionArn));
    const panel = page.locator(".token-card");
    await panel.waitFor({ timeout: 30_000 });
    await panel.locator("textarea[name=output]").fill('{"approved": true}');
    await panel.locator("[data-action=success]").click();
    await page.waitForSelector("h1 .status-succeeded", { timeout: 30_000 });
    const ended = await waitForEnd(runtime, body.executionArn, 60_000);
    assert.deepEqual(JSON.parse(ended.output!), { approved: true });
    await shoot("execution-succeeded");
  });

  it("refuses a foreign Host on every route (GET /start, the AWS APIs, the console) and cross-origin console writes", async () => {
    const port = new URL(runtime.origin).port;
    const foreign = `evil.example:${port}`;
    const before = (await runtime.sfn.send(new ListStateMachinesCommand({}))).stateMachines!.length;
    for (const [method, pathname, headers, body] of [
      ["GET", `/start?input=${encodeURIComponent('{"outcome":"success"}')}`, {}, ""],
      ["GET", "/", {}, ""],
      ["GET", "/console/api/state-machines", {}, ""],
      ["POST", "/", { "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0" }, "{}"],
    ] as const) {
      const answer = await requestWithHost(runtime.origin, foreign, method, pathname, headers, body);
      assert.equal(answer.status, 403, `${method} ${pathname}`);
      assert.match(answer.body, /answers only requests for 127\.0\.0\.1:\d+ or localhost:\d+/);
      assert.equal(answer.headers["access-control-allow-origin"], undefined);
    }
    assert.equal(
      (await requestWithHost(runtime.origin, `localhost:${port}`, "GET", "/")).status,
      200,
      "localhost:<port> is the origin too",
    );
    const crossOrigin = await fetch(`${runtime.origin}/console/api/executions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: "http://evil.example" },
      body: JSON.stringify({ stateMachineArn: runtime.outputs.stateMachineArn, input: "{}" }),
    });
    assert.equal(crossOrigin.status, 403);
    const crossSite = await fetch(`${runtime.origin}/console/api/task/heartbeat`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site" },
      body: JSON.stringify({ taskToken: "AQ" }),
    });
    assert.equal(crossSite.status, 403);
    assert.equal(crossOrigin.headers.get("access-control-allow-origin"), null);
    assert.equal((await runtime.sfn.send(new ListStateMachinesCommand({}))).stateMachines!.length, before);
  });

  it("the runtime log prints each new execution's console link, which opens it", async () => {
    const { body } = await start(runtime, { outcome: "success" });
    const name = body.executionArn.split(":").pop();
    const link = executionLink(runtime, body.executionArn);
    const deadline = Date.now() + 15_000;
    while (!runtime.output().includes(`[console] ${name} ${link}`)) {
      assert.ok(Date.now() < deadline, "console link not printed");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await page.goto(link);
    await page.waitForSelector("h1");
    assert.match((await page.locator("h1").textContent())!, new RegExp(name));
  });
});
