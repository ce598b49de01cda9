/**
 * The local S3 and DynamoDB services on one in-process HTTP origin, routed by SigV4 signing name the way the
 * local runtime's host routes them, so tests drive them with the unmodified AWS SDK v3 clients.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { LocalContext, LocalService } from "../../local/common/service";
import type { InvokeRequest, InvokeResult, LambdaInvoker } from "../../local/common/invoker";
import { DynamoDbService, type DynamoDbServiceOptions } from "../../local/dynamodb/service";
import { S3Service } from "../../local/s3/service";

export const TEST_REGION = "us-east-1";
export const TEST_CREDENTIALS = { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" };

export interface LocalAws {
  origin: string;
  s3: S3Service;
  dynamodb: DynamoDbService;
  /** Every invocation the services asked the (recording) Lambda invoker for. */
  invocations: InvokeRequest[];
  logs: string[];
  s3Client(config?: ConstructorParameters<typeof S3Client>[0]): S3Client;
  dynamoDbClient(): DynamoDBClient;
  close(): Promise<void>;
}

/** `invoke` answers the services' Lambda invocations (default: record and accept, as an Event invoke does). */
export async function startLocalAws(
  options: { invoke?: (request: InvokeRequest) => Promise<void>; dynamodb?: DynamoDbServiceOptions; extraServices?: LocalService[] } = {},
): Promise<LocalAws> {
  const invocations: InvokeRequest[] = [];
  const logs: string[] = [];
  const lambda: LambdaInvoker = {
    async invoke(request): Promise<InvokeResult> {
      invocations.push(request);
      await options.invoke?.(request);
      return { statusCode: 202, payload: "", executedVersion: "$LATEST", requestId: "local" };
    },
  };
  let origin = "";
  const context: LocalContext = {
    get origin() {
      return origin;
    },
    region: TEST_REGION,
    accountId: "123456789012",
    lambda,
    log: (source, line) => logs.push(`[${source}] ${line}`),
  };
  const s3 = new S3Service(context);
  const dynamodb = new DynamoDbService(context, options.dynamodb);
  const services: LocalService[] = [s3, dynamodb, ...(options.extraServices ?? [])];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const signingName = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ""))?.[1];
      const service = services.find((candidate) => signingName && candidate.signingNames.includes(signingName));
      if (!service) {
        res.writeHead(400).end(`no local service signs as ${signingName}`);
        return;
      }
      service.handle(req, res, Buffer.concat(chunks)).catch((error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: { destroy(): void }[] = [];
  return {
    origin,
    s3,
    dynamodb,
    invocations,
    logs,
    s3Client(config = {}) {
      const client = new S3Client({ endpoint: origin, region: TEST_REGION, credentials: TEST_CREDENTIALS, ...config });
      clients.push(client);
      return client;
    },
    dynamoDbClient() {
      const client = new DynamoDBClient({ endpoint: origin, region: TEST_REGION, credentials: TEST_CREDENTIALS });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await Promise.all(services.map((service) => service.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
