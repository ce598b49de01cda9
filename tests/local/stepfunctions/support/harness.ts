/** A StepFunctionsService wired to a fake Lambda and (optionally) a virtual clock, for engine and API tests. */
import type { LocalContext } from "../../../../local/common/service";
import type { Clock } from "../../../../local/stepfunctions/clock";
import { StepFunctionsService } from "../../../../local/stepfunctions/service";
import { FakeLambda } from "./fakeLambda";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/sfn-role`;

export function functionArn(name: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
}

export interface Harness {
  service: StepFunctionsService;
  lambda: FakeLambda;
  logs: string[];
  /** Registers a STANDARD machine and returns its ARN. */
  machine(definition: object, name?: string): string;
  /** Starts an execution and returns its ARN. */
  start(machineArn: string, input?: unknown, name?: string): Promise<string>;
  /** Waits for the execution to close (real time) and describes it. */
  finish(executionArn: string): Promise<any>;
  describe(executionArn: string): Promise<any>;
  /** The history's event types, in order. */
  eventTypes(executionArn: string): Promise<string[]>;
  history(executionArn: string): Promise<any[]>;
}

let machineCounter = 0;

export function createHarness(options: { clock?: Clock; random?: () => number } = {}): Harness {
  const lambda = new FakeLambda();
  const logs: string[] = [];
  const context: LocalContext = {
    origin: "http://127.0.0.1:0",
    region: REGION,
    accountId: ACCOUNT,
    lambda,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  };
  const service = new StepFunctionsService(context, { clock: options.clock, random: options.random });
  const harness: Harness = {
    service,
    lambda,
    logs,
    machine(definition, name = `machine-${++machineCounter}`) {
      return service.createStateMachine({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }).arn;
    },
    async start(machineArn, input = {}, name) {
      const response = await service.call("StartExecution", { stateMachineArn: machineArn, input: JSON.stringify(input), name });
      return response.executionArn;
    },
    async finish(executionArn) {
      await service.execution(executionArn)!.done;
      return harness.describe(executionArn);
    },
    describe: (executionArn) => service.call("DescribeExecution", { executionArn }),
    async history(executionArn) {
      const { events } = await service.call("GetExecutionHistory", { executionArn, maxResults: 1000 });
      return events;
    },
    async eventTypes(executionArn) {
      return (await harness.history(executionArn)).map((event: any) => event.type);
    },
  };
  return harness;
}

/** Polls until `predicate` holds (real time), failing after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
