/** Serves a LocalService's `handle()` on 127.0.0.1 (ephemeral port), as the runtime's one origin does. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalService } from "../../../../local/common/service";

export async function serve(service: LocalService): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await service.handle(req, res, Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
