/**
 * The local S3 alone on a state folder, served on port 0 and driven by the unmodified AWS SDK v3: a spec starts it,
 * stops it (the service closed, the store closed, as a clean stop) and starts it again on the same folder.
 */
import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import type { LocalContext } from "../../../local/common/service";
import { S3Service } from "../../../local/s3/service";
import { SqliteStore } from "../../../local/store/sqliteStore";

export const BUCKET = "kept-bucket";

export interface Running {
  store: SqliteStore;
  s3: S3Service;
  client: S3Client;
  logs: string[];
  restored: string[];
  stop(): Promise<void>;
}

/** Opens the store in `directory`, restores S3 from it and serves S3 on port 0. */
export async function start(directory: string): Promise<Running> {
  const store = SqliteStore.open(directory);
  const logs: string[] = [];
  let origin = "";
  const context = {
    get origin() {
      return origin;
    },
    region: "us-east-1",
    accountId: "123456789012",
    lambda: { invoke: () => Promise.reject(new Error("no functions here")) },
    log: (source: string, line: string) => logs.push(`[${source}] ${line}`),
    store,
  } as unknown as LocalContext;
  const s3 = new S3Service(context);
  const restored = await s3.restore();
  s3.createBucket(BUCKET);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => void s3.handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // One attempt: the SDK retries a 500, and the error is what these tests look at.
  const client = new S3Client({
    endpoint: origin,
    region: "us-east-1",
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
  });
  return {
    store,
    s3,
    client,
    logs,
    restored,
    async stop() {
      client.destroy();
      await s3.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
    },
  };
}

export function contentFiles(directory: string): string[] {
  const root = path.join(directory, "files", "s3");
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
