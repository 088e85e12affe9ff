// A TCP pass-through in front of a fake, so a test can watch the client side of a provider
// connection close (the fakes do not expose their sockets).
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

export interface TcpProxy {
  url: string;
  /** The connection that last sent bytes (the one carrying the latest request): resolves when it closes. */
  lastActiveClosed(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let lastActive: Promise<void> | undefined;
  const server = createServer((inbound) => {
    sockets.add(inbound);
    const closed = new Promise<void>((resolve) => inbound.once("close", () => resolve()));
    const outbound = connect(Number(t.port), t.hostname);
    inbound.on("data", () => void (lastActive = closed));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
    inbound.on("close", () => {
      sockets.delete(inbound);
      outbound.destroy();
    });
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${t.protocol}//127.0.0.1:${port}${t.pathname === "/" ? "" : t.pathname}`,
    lastActiveClosed: () => lastActive ?? Promise.reject(new Error("no connection has carried a request yet")),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
