import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Loopback {
  /** http://127.0.0.1:<port>, no trailing slash. */
  origin: string;
  /** Drops every open connection (hung requests included), then stops listening. */
  close(): Promise<void>;
}

/**
 * Serves `handle` on 127.0.0.1 at a free port for a fake provider. A handler that throws answers
 * 500 (or drops the socket when headers already went), so a fake's own bug shows in the test.
 */
export async function listenLoopback(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Loopback> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`fake server failure: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
