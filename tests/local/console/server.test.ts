import * as assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isLoopbackHost, isSameOrigin } from "../../../local/common/loopback";
import { defaultInputFor } from "../../../local/console/defaultInput";
import { LiveUpdates, LIVE_INTERVAL_MS } from "../../../local/console/liveUpdates";
import type { SourceChange, StepFunctionsSource } from "../../../local/console/source";
import { EventEmitter } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ConsoleService, type DeniedCallView } from "../../../local/console/service";

describe("console: who may call, what the editor starts with, how live pages hear of changes", () => {
  it("accepts only Host 127.0.0.1:<port> or localhost:<port>", () => {
    assert.ok(isLoopbackHost("127.0.0.1:3000", 3000));
    assert.ok(isLoopbackHost("LOCALHOST:3000", 3000));
    for (const host of [
      undefined,
      "127.0.0.1",
      "127.0.0.1:3001",
      "evil.example:3000",
      "localhost.evil.example:3000",
      "[::1]:3000",
      "0.0.0.0:3000",
    ]) {
      assert.equal(isLoopbackHost(host, 3000), false, String(host));
    }
  });

  it("treats a write as same-origin only when Origin is exactly http://<its Host> (or, with no Origin, Sec-Fetch-Site says so)", () => {
    const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    assert.ok(isSameOrigin(request({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" }), 3000));
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:3000" }), 3000), false, "no Origin");
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:3000", origin: "http://localhost:3000" }), 3000), false);
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:3000", origin: "http://evil.example" }), 3000), false);
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:3000", origin: "null" }), 3000), false);
    assert.ok(isSameOrigin(request({ host: "127.0.0.1:3000", "sec-fetch-site": "same-origin" }), 3000));
    assert.equal(isSameOrigin(request({ host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" }), 3000), false);
    assert.equal(
      isSameOrigin(request({ host: "127.0.0.1:3000", origin: "http://evil.example", "sec-fetch-site": "same-origin" }), 3000),
      false,
    );
  });

  it("prefills Start execution with the definition's example input, else the latest input, else {}", () => {
    const withExample = JSON.stringify({ Comment: 'Callback pattern. Example input: {"outcome": "success"}', StartAt: "A", States: {} });
    assert.equal(defaultInputFor(withExample, '{"other":1}'), '{\n  "outcome": "success"\n}');
    const plain = JSON.stringify({ Comment: "no example here", StartAt: "A", States: {} });
    assert.equal(defaultInputFor(plain, '{"other":1}'), '{\n  "other": 1\n}');
    assert.equal(defaultInputFor(plain, undefined), "{}");
  });

  it("listens to the engine only while a page is open, says the change count it subscribed at, and coalesces a burst of events into one message", async () => {
    const listeners = new Set<(change: SourceChange) => void>();
    let changeCount = 7;
    const source: StepFunctionsSource = {
      call: async () => ({}),
      executionCounts: () => ({}),
      waitingTasks: () => [],
      changeCount: () => changeCount,
      subscribe: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    };
    const live = new LiveUpdates(source);
    const written: string[] = [];
    const response = Object.assign(new EventEmitter(), {
      writeHead: () => response,
      write: (text: string) => written.push(text),
      end: () => undefined,
    }) as unknown as ServerResponse;
    assert.equal(listeners.size, 0);
    live.open(response, { kind: "stateMachine", arn: "machine-1" });
    assert.equal(listeners.size, 1);
    assert.deepEqual(written.slice(1), [`event: subscribed\ndata: {"changeCount":7}\n\n`]);
    const change = (executionArn: string, stateMachineArn: string) => {
      changeCount++;
      for (const listener of listeners) listener({ executionArn, stateMachineArn, event: { id: 1, type: "ExecutionStarted" } });
    };
    for (let index = 0; index < 50; index++) change(`execution-${index % 3}`, "machine-1");
    change("execution-other", "machine-2");
    await new Promise((resolve) => setTimeout(resolve, LIVE_INTERVAL_MS + 100));
    const messages = written.filter((text) => text.startsWith("event: change"));
    assert.equal(messages.length, 1);
    assert.deepEqual(JSON.parse(messages[0].split("data: ")[1]).executions, ["execution-0", "execution-1", "execution-2"]);
    (response as unknown as EventEmitter).emit("close");
    assert.equal(listeners.size, 0, "unsubscribed once the last page left");
    live.close();
  });

  it("lists on an execution's page the calls IAM denied during that execution, and only those", async () => {
    const arnA = "arn:aws:states:us-east-1:123456789012:execution:flow:a";
    const denials: Array<DeniedCallView & { executionArn: string }> = [
      {
        executionArn: arnA,
        time: new Date(1_700_000_000_000),
        principal: "arn:aws:sts::123456789012:assumed-role/receiver-role/receiver",
        action: "states:SendTaskSuccess",
        resource: "arn:aws:states:us-east-1:123456789012:stateMachine:flow",
        enforced: true,
        message: "User: ... is not authorized to perform: states:SendTaskSuccess",
      },
      {
        executionArn: `${arnA}-other`,
        time: new Date(0),
        principal: "p",
        action: "s3:GetObject",
        resource: "r",
        enforced: false,
        message: "m",
      },
    ];
    const source: StepFunctionsSource = {
      call: async (operation: string) =>
        operation === "GetExecutionHistory"
          ? { events: [] }
          : {
              executionArn: arnA,
              stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:flow",
              name: "flow",
              definition: "{}",
            },
      executionCounts: () => ({}),
      waitingTasks: () => [],
      changeCount: () => 0,
      subscribe: () => () => undefined,
    };
    const consoleService = new ConsoleService(source, 0, (executionArn) => denials.filter((call) => call.executionArn === executionArn));
    const server = http.createServer((req, res) => void consoleService.handle(req, res, Buffer.alloc(0)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/console/api/execution?arn=${encodeURIComponent(arnA)}`);
      const body = (await response.json()) as { deniedCalls: unknown[] };
      assert.deepEqual(body.deniedCalls, [
        {
          time: 1_700_000_000_000,
          principal: denials[0].principal,
          action: "states:SendTaskSuccess",
          resource: denials[0].resource,
          enforced: true,
          message: denials[0].message,
        },
      ]);
    } finally {
      server.close();
    }
  });
});
