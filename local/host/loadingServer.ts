/**
 * Answers the origin while the program loads. Loading blocks the main thread for seconds at a time
 * (requiring @pulumi/aws, compiling the program, serializing closures), so a server on the main thread
 * would accept connections and leave them hanging until it is done; this one runs on a worker thread and
 * answers every request at once with the runtime's 503. When the program is loaded the worker lets go of
 * the port and the main thread binds it (a client in that moment of a few milliseconds is refused, never
 * left waiting).
 */
import { Worker } from "node:worker_threads";
import type { NotReadyAnswer } from "./ownEndpoints";

export interface LoadingServer {
  port: number;
  /** Stops answering and frees the port. */
  close(): Promise<void>;
}

// Plain JavaScript evaluated in the worker: it must not need ts-node (nor take the time to load it).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { answer, port } = workerData;
const server = http.createServer((req, res) => {
  req.resume();
  const health = (req.url || "").split("?")[0] === "/_local/health";
  res.writeHead(503, answer.headers).end(health ? answer.healthBody : answer.errorBody);
});
server.once("error", (error) => parentPort.postMessage({ type: "error", code: error.code, message: error.message }));
server.listen(port, "127.0.0.1", () => parentPort.postMessage({ type: "listening", port: server.address().port }));
parentPort.on("message", (message) => {
  if (message !== "close") return;
  server.close(() => parentPort.postMessage({ type: "closed" }));
  server.closeAllConnections();
});
`;

export function startLoadingServer(port: number, answer: NotReadyAnswer): Promise<LoadingServer> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port, answer }, execArgv: [] });
  worker.unref();
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: { type: string; port?: number; code?: string; message?: string }) => {
      if (message.type === "error") {
        void worker.terminate();
        reject(
          message.code === "EADDRINUSE"
            ? new Error(`Port ${port} is in use: set PORT (or --port) to another port, or 0 for any free one`)
            : new Error(`Cannot listen on 127.0.0.1:${port}: ${message.message}`),
        );
      } else if (message.type === "listening") {
        let closing: Promise<void> | undefined;
        resolve({
          port: message.port!,
          close: () =>
            (closing ??= new Promise<void>((closed) => {
              worker.on("message", (reply: { type: string }) => {
                if (reply.type === "closed") void worker.terminate().then(() => closed());
              });
              worker.postMessage("close");
            })),
        });
      }
    });
  });
}
