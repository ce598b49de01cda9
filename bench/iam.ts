/**
 * What IAM enforcement costs end to end: the e2e benchmark's execution (`/start` → Lambda → SendTaskSuccess over
 * HTTP → succeeded) on two runtimes started side by side, one with `--iam enforce` and one with `--iam off`,
 * measured in alternating rounds in one run so both see the same machine load. Prints executions/s of each and
 * the ratio enforce/off (target ≥ 0.9).
 */
import { startRuntime, type RuntimeProcess } from "../tests/local/e2e/runtimeProcess";

const ROUNDS = 4;
const EXECUTIONS_PER_ROUND = 300;
const CONCURRENCY = 10;

interface Driver {
  mode: string;
  runtime: RuntimeProcess;
  run(executions: number, concurrency: number): Promise<number>;
}

async function driver(mode: string): Promise<Driver> {
  const runtime = await startRuntime(["--iam", mode, "-c", "failureRate=0", "-c", "timeoutSeconds=60", "-c", "heartbeatSeconds=0"]);
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
    const response = await fetch(startUrl);
    const { executionArn } = (await response.json()) as { executionArn: string };
    if (!executionArn) throw new Error(`${mode}: start failed with ${response.status}`);
    const name = executionArn.split(":").pop()!;
    const succeeded = endedEarly.get(name) ?? (await new Promise<boolean>((resolve) => waiters.set(name, resolve)));
    endedEarly.delete(name);
    waiters.delete(name);
    if (!succeeded) throw new Error(`${mode}: ${executionArn} did not succeed`);
  };
  return {
    mode,
    runtime,
    /** Seconds for `executions` executions at `concurrency`. */
    async run(executions, concurrency) {
      let remaining = executions;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (remaining > 0) {
            remaining--;
            await oneExecution();
          }
        }),
      );
      return (performance.now() - started) / 1000;
    },
  };
}

async function main(): Promise<void> {
  const enforce = await driver("enforce");
  const off = await driver("off");
  try {
    // Warm-up: every function's processes start cold on both runtimes.
    await enforce.run(40, CONCURRENCY);
    await off.run(40, CONCURRENCY);
    const seconds: Record<string, number> = { enforce: 0, off: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which runtime goes first, so neither always runs right after the other.
      for (const current of round % 2 === 0 ? [enforce, off] : [off, enforce])
        seconds[current.mode] += await current.run(EXECUTIONS_PER_ROUND, CONCURRENCY);
    }
    const total = ROUNDS * EXECUTIONS_PER_ROUND;
    const rate = (mode: string) => total / seconds[mode];
    console.log(`${ROUNDS} alternating rounds of ${EXECUTIONS_PER_ROUND} executions at concurrency ${CONCURRENCY}, per mode`);
    console.log(`IAM enforce: ${rate("enforce").toFixed(0)} executions/s`);
    console.log(`IAM off:     ${rate("off").toFixed(0)} executions/s`);
    console.log(`ratio enforce/off: ${(rate("enforce") / rate("off")).toFixed(2)} (target >= 0.9)`);
  } finally {
    await Promise.all([enforce.runtime.stop(), off.runtime.stop()]);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
