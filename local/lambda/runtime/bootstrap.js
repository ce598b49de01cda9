"use strict";
/**
 * The local stand-in for the Lambda Node.js runtime, run in each function process (plain JS so it runs
 * unchanged on whichever Node major the function's runtime names). It plays the runtime interface client:
 * init loads the handler module once, then each "invoke" message from the parent runs the handler with a
 * Lambda `context`, one invocation at a time, as one Lambda execution environment does.
 * Log format follows the managed runtime: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 *
 * Protocol (IPC, JSON): parent → {type:"invoke", requestId, payload, deadline, clientContext?};
 * child → {type:"ready"} | {type:"initError", error} | {type:"result", requestId, payload} |
 * {type:"error", requestId, error:{errorType, errorMessage, trace}}.
 */
const path = require("node:path");
const util = require("node:util");

const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const handlerSetting = process.env._HANDLER || "index.handler";
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
const memoryLimitInMB = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || "128";

let currentRequestId;

// console.* → "<ISO time>\t<requestId>\t<LEVEL>\t<message>", as the managed runtime writes them.
for (const [method, level] of [
  ["log", "INFO"],
  ["info", "INFO"],
  ["warn", "WARN"],
  ["error", "ERROR"],
  ["debug", "DEBUG"],
  ["trace", "TRACE"],
]) {
  const stream = level === "ERROR" || level === "WARN" ? process.stderr : process.stdout;
  console[method] = (...args) => {
    const message = util.format(...args).replace(/\n/g, "\r");
    stream.write(`${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${message}\n`);
  };
}

function toErrorObject(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name === "Error" && error.constructor && error.constructor.name !== "Error" ? error.constructor.name : error.name,
      errorMessage: error.message,
      trace: typeof error.stack === "string" ? error.stack.split("\n") : [],
    };
  }
  return { errorType: typeof error, errorMessage: typeof error === "string" ? error : JSON.stringify(error), trace: [] };
}

function loadHandler() {
  // "__index.handler" → module "__index" in the task root, export "handler" (nested names allowed: "a/b.c.d").
  const match = /^(.*?)\.([^/]+)$/.exec(handlerSetting);
  if (!match) {
    const error = new Error(`Bad handler ${handlerSetting}: should be of the form module.function`);
    error.name = "Runtime.MalformedHandlerName";
    throw error;
  }
  const [, modulePath, exportPath] = match;
  let moduleExports;
  try {
    moduleExports = require(path.resolve(taskRoot, modulePath));
  } catch (cause) {
    const error = new Error(`${cause && cause.name ? cause.name : "Error"}: ${cause && cause.message}`);
    error.name = cause instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
    error.stack = cause && cause.stack;
    throw error;
  }
  let handler = moduleExports;
  for (const key of exportPath.split(".")) handler = handler == null ? undefined : handler[key];
  if (typeof handler !== "function") {
    const error = new Error(`${modulePath}.${exportPath} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  return handler;
}

let handler;
try {
  handler = loadHandler();
  process.send({ type: "ready" });
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.send({ type: "initError", error: toErrorObject(error) });
}

function buildContext(message) {
  return {
    awsRequestId: message.requestId,
    functionName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION || "$LATEST",
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: message.clientContext,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    // Legacy completion methods, still offered by the managed runtime.
    done: (error, result) => settle(message.requestId, error, result),
    succeed: (result) => settle(message.requestId, null, result),
    fail: (error) => settle(message.requestId, error),
  };
}

/** Peak resident memory of this process in bytes (process.resourceUsage() from Node 12.6; older: current RSS). */
function maxRssBytes() {
  return typeof process.resourceUsage === "function" ? process.resourceUsage().maxRSS * 1024 : process.memoryUsage().rss;
}

const invocationStarts = new Map();
function settle(requestId, error, result) {
  // Only the first completion counts (a handler may both return and call its callback).
  if (!invocationStarts.has(requestId)) return;
  const started = invocationStarts.get(requestId);
  invocationStarts.delete(requestId);
  const durationMs = started === undefined ? 0 : Number(process.hrtime.bigint() - started) / 1e6;
  let reply;
  if (error !== null && error !== undefined) {
    const errorObject = toErrorObject(error);
    // The managed runtime logs an unhandled error before reporting it.
    process.stderr.write(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(errorObject)}\n`);
    reply = { type: "error", requestId, error: errorObject };
  } else {
    let payload;
    try {
      payload = result === undefined ? "null" : JSON.stringify(result);
    } catch (cause) {
      reply = {
        type: "error",
        requestId,
        error: { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${cause.message}`, trace: [] },
      };
    }
    if (!reply) reply = { type: "result", requestId, payload: payload === undefined ? "null" : payload };
  }
  // "Max Memory Used" is the environment's peak, as Lambda reports it (getrusage: no /proc read per invocation).
  const usedMb = Math.round(maxRssBytes() / 1048576);
  // END and REPORT in one write: one pipe write per invocation fewer, for the runtime to read.
  process.stdout.write(
    `END RequestId: ${requestId}\n` +
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${memoryLimitInMB} MB\tMax Memory Used: ${usedMb} MB\t\n`,
  );
  currentRequestId = undefined;
  process.send(reply);
}

process.on("message", (message) => {
  if (!message || message.type !== "invoke") return;
  const { requestId } = message;
  currentRequestId = requestId;
  invocationStarts.set(requestId, process.hrtime.bigint());
  process.stdout.write(`START RequestId: ${requestId} Version: ${process.env.AWS_LAMBDA_FUNCTION_VERSION || "$LATEST"}\n`);
  let event;
  try {
    event = JSON.parse(message.payload);
  } catch (error) {
    settle(requestId, Object.assign(new Error(`Unexpected payload: ${error.message}`), { name: "Runtime.UnmarshalError" }));
    return;
  }
  const context = buildContext(message);
  try {
    const callback = (error, result) => settle(requestId, error, result);
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === "function") {
      returned.then(
        (result) => settle(requestId, null, result),
        (error) => settle(requestId, error === undefined ? new Error("undefined") : error),
      );
    } else if (handler.length < 3) {
      // A synchronous handler without a callback parameter: its return value is the response.
      settle(requestId, null, returned);
    }
  } catch (error) {
    settle(requestId, error);
  }
});

// An error nobody handled ends the execution environment, as on Lambda: the parent reports Runtime.ExitError.
process.on("uncaughtException", (error) => {
  process.stderr.write(
    `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\tUncaught Exception \t${JSON.stringify(toErrorObject(error))}\n`,
  );
  process.exit(129);
});
process.on("unhandledRejection", (reason) => {
  process.stderr.write(
    `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\tUnhandled Promise Rejection \t${JSON.stringify(toErrorObject(reason))}\n`,
  );
  process.exit(128);
});
// The parent going away ends the function process too (no orphans after a crash of the runtime).
process.on("disconnect", () => process.exit(0));
