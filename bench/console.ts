/**
 * The console's cost and speed, measured side by side in one run on `npm start`'s runtime:
 *  1. e2e executions/s (as bench/e2e.ts drives them) with no console page, with a state machine page open
 *     and subscribed to live updates (headless Chromium), and without again (to show drift). Target: with ≥ 0.9×.
 *  2. A state machine with 10,000 executions: time to list the first page, through the console's JSON API and
 *     as a browser sees it (navigation until the rows are drawn). Target: < 1 s.
 */
import { CreateStateMachineCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { launchBrowser } from "../tests/support/browser";
import { startRuntime } from "../tests/local/e2e/runtimeProcess";

const CONCURRENCY = 10;
const EXECUTIONS_PER_ROUND = 300;
const ROUND_PAIRS = 3;
const LISTED_EXECUTIONS = 10_000;

async function main(): Promise<void> {
  const runtime = await startRuntime(["-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"]);
  const { browser, source } = await launchBrowser();
  try {
    const waiters = new Map<string, (succeeded: boolean) => void>();
    const endedEarly = new Map<string, boolean>();
    runtime.onLine((line) => {
      const match = /^\[states\] (\S+) - (Execution\w+)$/.exec(line);
      if (!match || match[2] === "ExecutionStarted") return;
      const succeeded = match[2] === "ExecutionSucceeded";
      const waiter = waiters.get(match[1]);
      if (waiter) waiter(succeeded);
      else endedEarly.set(match[1], succeeded);
    });
    const startUrl = `${runtime.outputs.startUrl}?input=${encodeURIComponent(JSON.stringify({ outcome: "success" }))}`;
    const oneExecution = async () => {
      const { executionArn } = (await (await fetch(startUrl)).json()) as { executionArn: string };
      const name = executionArn.split(":").pop()!;
      const succeeded = endedEarly.get(name) ?? (await new Promise<boolean>((resolve) => waiters.set(name, resolve)));
      endedEarly.delete(name);
      waiters.delete(name);
      if (!succeeded) throw new Error(`${executionArn} did not succeed`);
    };
    const round = async (executions: number) => {
      let remaining = executions;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (remaining-- > 0) await oneExecution();
        }),
      );
      return executions / ((performance.now() - started) / 1000);
    };

    console.log(`runtime ${runtime.origin}; browser ${source}; ${require("node:os").cpus().length} cores, Node ${process.version}`);
    await round(60); // warm-up: cold function processes
    // Rounds alternate (without, with, without, ...) so that load from elsewhere on the machine falls on both alike.
    const page = await browser.newPage();
    const withoutRates: number[] = [];
    const withRates: number[] = [];
    let rowsShown = 0;
    for (let pair = 0; pair < ROUND_PAIRS; pair++) {
      withoutRates.push(await round(EXECUTIONS_PER_ROUND));
      await page.goto(`${runtime.origin}/console/state-machines/${encodeURIComponent(runtime.outputs.stateMachineArn)}`);
      await page.waitForSelector("#executions");
      withRates.push(await round(EXECUTIONS_PER_ROUND));
      rowsShown = await page.locator("#executions tbody tr").count();
      // Leaving the page closes its event stream (closing the page would end the single-process browser).
      await page.goto("about:blank");
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    console.log(`e2e, ${CONCURRENCY} concurrent, ${ROUND_PAIRS} alternating pairs of rounds of ${EXECUTIONS_PER_ROUND} executions:`);
    console.log(
      `  no console page          ${withoutRates.map((rate) => rate.toFixed(0)).join(", ")} executions/s (mean ${mean(withoutRates).toFixed(0)})`,
    );
    console.log(
      `  state machine page live  ${withRates.map((rate) => rate.toFixed(0)).join(", ")} executions/s (mean ${mean(withRates).toFixed(0)}; ${rowsShown} rows shown)`,
    );
    console.log(`  ratio with / without ${(mean(withRates) / mean(withoutRates)).toFixed(2)}  (target ≥ 0.9)`);

    const { stateMachineArn } = await runtime.sfn.send(
      new CreateStateMachineCommand({
        name: "console-bench-many",
        roleArn: "arn:aws:iam::123456789012:role/bench",
        definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Pass", End: true } } }),
      }),
    );
    let toStart = LISTED_EXECUTIONS;
    const seeding = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (toStart-- > 0) await runtime.sfn.send(new StartExecutionCommand({ stateMachineArn, input: "{}" }));
      }),
    );
    console.log(`${LISTED_EXECUTIONS} executions started in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
    const apiTimes: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const started = performance.now();
      const response = await fetch(`${runtime.origin}/console/api/executions?stateMachineArn=${encodeURIComponent(stateMachineArn!)}`);
      const body = (await response.json()) as { executions: unknown[]; nextToken?: string };
      apiTimes.push(performance.now() - started);
      if (body.executions.length !== 25 || !body.nextToken) throw new Error("first page is not a full page");
    }
    const pageTimes: number[] = [];
    const listPage = page;
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      await listPage.goto(`${runtime.origin}/console/state-machines/${encodeURIComponent(stateMachineArn!)}`);
      await listPage.waitForFunction(() => (globalThis as any).document.querySelectorAll("#executions tbody tr").length === 25);
      pageTimes.push(performance.now() - started);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `first page of ${LISTED_EXECUTIONS} executions: JSON API median ${median(apiTimes).toFixed(1)} ms (max ${Math.max(...apiTimes).toFixed(1)}),`,
    );
    console.log(
      `  browser page until 25 rows drawn median ${median(pageTimes).toFixed(0)} ms (max ${Math.max(...pageTimes).toFixed(0)})  (target < 1000 ms)`,
    );
  } finally {
    await browser.close();
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
