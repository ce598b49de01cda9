/**
 * Memory with 10,000 executions waiting on task tokens (target < 500 MB RSS), then the time to release
 * them all through SendTaskSuccess. The function that receives each token is answered in-process, so the
 * figure is the Step Functions engine's own footprint: executions, histories, tokens and timers.
 */
import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { LambdaInvoker } from "../local/common/invoker";
import { StepFunctionsService } from "../local/stepfunctions/service";

const EXECUTIONS = Number(process.env.WAITING_EXECUTIONS ?? 10_000);
const MB = 1024 * 1024;

setFlagsFromString("--expose-gc");
const collectGarbage: () => void = runInNewContext("gc");

function memory(label: string): number {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`${label.padEnd(44)} RSS ${(rss / MB).toFixed(0).padStart(5)} MB   heap used ${(heapUsed / MB).toFixed(0).padStart(5)} MB`);
  return rss;
}

async function main() {
  const tokens: string[] = [];
  const lambda: LambdaInvoker = {
    async invoke(request) {
      tokens.push(JSON.parse(request.payload).taskToken);
      return { statusCode: 200, payload: '{"accepted":true}', executedVersion: "$LATEST", requestId: randomUUID() };
    },
  };
  const service = new StepFunctionsService({
    origin: "http://127.0.0.1:0",
    region: "us-east-1",
    accountId: "123456789012",
    lambda,
    log: () => {},
  });
  const machineArn = service.createStateMachine({
    name: "waiting",
    roleArn: "arn:aws:iam::123456789012:role/bench",
    definition: JSON.stringify({
      StartAt: "WaitForCompletion",
      States: {
        WaitForCompletion: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
          Parameters: { FunctionName: "worker", Payload: { "taskToken.$": "$$.Task.Token", "input.$": "$" } },
          HeartbeatSeconds: 3600,
          TimeoutSeconds: 86400,
          Next: "ContinueProcess",
        },
        ContinueProcess: { Type: "Pass", End: true },
      },
    }),
  }).arn;

  const baseline = memory("before any execution");
  let started = process.hrtime.bigint();
  const executionArns: string[] = [];
  for (let index = 0; index < EXECUTIONS; index++) {
    const input = JSON.stringify({ document: `documents/${index}.txt`, requestedBy: "bench" });
    executionArns.push((await service.call("StartExecution", { stateMachineArn: machineArn, input })).executionArn);
  }
  while (tokens.length < EXECUTIONS) await new Promise((resolve) => setImmediate(resolve));
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`started ${EXECUTIONS} executions, all waiting on a token, in ${startSeconds.toFixed(2)} s`);
  const waiting = memory(`${EXECUTIONS} executions waiting`);
  console.log(`per waiting execution: ${((waiting - baseline) / EXECUTIONS / 1024).toFixed(1)} KB RSS (target: total < 500 MB)`);

  started = process.hrtime.bigint();
  for (const token of tokens) await service.call("SendTaskSuccess", { taskToken: token, output: '{"done":true}' });
  await Promise.all(executionArns.map((arn) => service.execution(arn)!.done));
  const releaseSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const succeeded = executionArns.filter((arn) => service.execution(arn)!.status === "SUCCEEDED").length;
  console.log(
    `released all in ${releaseSeconds.toFixed(2)} s (${(EXECUTIONS / releaseSeconds).toFixed(0)} callbacks/s); ${succeeded} SUCCEEDED`,
  );
  memory("after release (histories kept)");
  console.log(`tokens still waiting: ${service.tokens.waitingCount}`);
  await service.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
