/**
 * Engine cost per state transition: this project's Step Functions engine against aws-local-stepfunctions,
 * running the same definition (a chain of Pass, Choice and Task states, tasks answered in-process), side
 * by side in one process, alternating rounds so all see the same machine load. Our engine runs it twice:
 * written in JSONPath and written in JSONata (the same states with Output and Condition expressions).
 *
 * Our engine also records the full AWS-shaped history and goes through the StartExecution API; the
 * Lambda boundary costs it a JSON round trip per task (as the real integration does). Figures printed only.
 *
 * Each round is timed twice: wall clock, and the process's CPU time (user + system). On a machine shared with
 * other jobs the wall clock also counts the time this process waited for a core; CPU time does not, so its
 * ratio moves less from run to run. Both are printed.
 */
import { randomUUID } from "node:crypto";
import type { LambdaInvoker } from "../local/common/invoker";
import { StepFunctionsService } from "../local/stepfunctions/service";

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks.
if (!(Promise as any).withResolvers) {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

const { StateMachine } = require("aws-local-stepfunctions");

const SEGMENTS = 7; // Pass → Choice → Task per segment: 21 states, then Succeed
const EXECUTIONS_PER_ROUND = 200;
const ROUNDS = 11;
const FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:step";

function definition() {
  const states: Record<string, unknown> = {};
  for (let index = 0; index < SEGMENTS; index++) {
    const next = index + 1 < SEGMENTS ? `Shape${index + 1}` : "Done";
    states[`Shape${index}`] = {
      Type: "Pass",
      Parameters: { "count.$": "$.count", "label.$": "$.label", step: index },
      Next: `Route${index}`,
    };
    states[`Route${index}`] = {
      Type: "Choice",
      Choices: [{ Variable: "$.count", NumericLessThan: 0, Next: "Done" }],
      Default: `Work${index}`,
    };
    states[`Work${index}`] = { Type: "Task", Resource: FUNCTION_ARN, Next: next };
  }
  states.Done = { Type: "Succeed" };
  return { StartAt: "Shape0", States: states };
}

/** The same machine in JSONata: Output instead of Parameters, a Condition instead of a comparison rule. */
function jsonataDefinition() {
  const states: Record<string, unknown> = {};
  for (let index = 0; index < SEGMENTS; index++) {
    const next = index + 1 < SEGMENTS ? `Shape${index + 1}` : "Done";
    states[`Shape${index}`] = {
      Type: "Pass",
      Output: { count: "{% $states.input.count %}", label: "{% $states.input.label %}", step: index },
      Next: `Route${index}`,
    };
    states[`Route${index}`] = {
      Type: "Choice",
      Choices: [{ Condition: "{% $states.input.count < 0 %}", Next: "Done" }],
      Default: `Work${index}`,
    };
    states[`Work${index}`] = { Type: "Task", Resource: FUNCTION_ARN, Next: next };
  }
  states.Done = { Type: "Succeed" };
  return { QueryLanguage: "JSONata", StartAt: "Shape0", States: states };
}

const TRANSITIONS_PER_EXECUTION = SEGMENTS * 3 + 1;
const step = (input: any) => ({ count: input.count + 1, label: input.label });

interface RoundTime {
  wallMs: number;
  cpuMs: number;
}

/** Times `work`: wall clock and this process's CPU time (user + system), in ms. */
async function timed(work: () => Promise<void>): Promise<RoundTime> {
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuStarted);
  return { wallMs: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function timeOurs(service: StepFunctionsService, machineArn: string): Promise<RoundTime> {
  return timed(async () => {
    for (let index = 0; index < EXECUTIONS_PER_ROUND; index++) {
      const { executionArn } = await service.call("StartExecution", { stateMachineArn: machineArn, input: '{"count":0,"label":"bench"}' });
      const execution = service.execution(executionArn)!;
      await execution.done;
      if (execution.status !== "SUCCEEDED")
        throw new Error(`our execution ended ${execution.status}: ${execution.error} ${execution.cause}`);
    }
  });
}

function timeTheirs(machine: any, handlers: Record<string, (input: any) => unknown>): Promise<RoundTime> {
  return timed(async () => {
    for (let index = 0; index < EXECUTIONS_PER_ROUND; index++) {
      const output = await machine.run({ count: 0, label: "bench" }, { overrides: { taskResourceLocalHandlers: handlers } }).result;
      if (output.count !== SEGMENTS) throw new Error(`aws-local-stepfunctions returned ${JSON.stringify(output)}`);
    }
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const lambda: LambdaInvoker = {
    async invoke(request) {
      return {
        statusCode: 200,
        payload: JSON.stringify(step(JSON.parse(request.payload))),
        executedVersion: "$LATEST",
        requestId: randomUUID(),
      };
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
    name: "bench",
    definition: JSON.stringify(definition()),
    roleArn: "arn:aws:iam::123456789012:role/bench",
  }).arn;
  const jsonataMachineArn = service.createStateMachine({
    name: "bench-jsonata",
    definition: JSON.stringify(jsonataDefinition()),
    roleArn: "arn:aws:iam::123456789012:role/bench",
  }).arn;
  const theirs = new StateMachine(definition(), { validationOptions: { checkArn: false } });
  const handlers = Object.fromEntries(Array.from({ length: SEGMENTS }, (_, index) => [`Work${index}`, step]));

  await timeOurs(service, machineArn); // warm-up (JIT, module caches)
  await timeOurs(service, jsonataMachineArn);
  await timeTheirs(theirs, handlers);
  const ours: RoundTime[] = [];
  const oursJsonata: RoundTime[] = [];
  const reference: RoundTime[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await timeOurs(service, machineArn));
    oursJsonata.push(await timeOurs(service, jsonataMachineArn));
    reference.push(await timeTheirs(theirs, handlers));
  }
  const transitions = EXECUTIONS_PER_ROUND * TRANSITIONS_PER_EXECUTION;
  const perTransition = (rounds: RoundTime[], clock: keyof RoundTime) => (median(rounds.map((round) => round[clock])) * 1000) / transitions;
  const oursPerTransition = perTransition(ours, "wallMs");
  const jsonataPerTransition = perTransition(oursJsonata, "wallMs");
  const theirsPerTransition = perTransition(reference, "wallMs");
  const oursCpu = perTransition(ours, "cpuMs");
  const jsonataCpu = perTransition(oursJsonata, "cpuMs");
  const theirsCpu = perTransition(reference, "cpuMs");
  console.log(
    `definition: ${SEGMENTS * 3 + 1} states (Pass/Choice/Task chain), ${EXECUTIONS_PER_ROUND} executions per round, ${ROUNDS} rounds, median round`,
  );
  console.log(`this engine, JSONPath:            ${oursPerTransition.toFixed(1)} µs per state transition (with AWS-shaped history)`);
  console.log(`this engine, JSONata:             ${jsonataPerTransition.toFixed(1)} µs per state transition (the same machine in JSONata)`);
  console.log(`aws-local-stepfunctions, JSONPath: ${theirsPerTransition.toFixed(1)} µs per state transition`);
  console.log(`ratio JSONPath (ours / theirs):   ${(oursPerTransition / theirsPerTransition).toFixed(2)} (target ≤ 0.5)`);
  console.log(`ratio JSONata / JSONPath (ours):  ${(jsonataPerTransition / oursPerTransition).toFixed(2)} (target ≤ 2.0)`);
  console.log(
    `CPU time per transition:           ours ${oursCpu.toFixed(1)} µs, JSONata ${jsonataCpu.toFixed(1)} µs, aws-local-stepfunctions ${theirsCpu.toFixed(1)} µs`,
  );
  console.log(
    `ratio by CPU time (ours / theirs): ${(oursCpu / theirsCpu).toFixed(2)}; JSONata / JSONPath ${(jsonataCpu / oursCpu).toFixed(2)}`,
  );
  await service.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
