import type { Runtime } from "../runtime.js";
import { logger } from "../logger.js";
import { startHttpServer, type HttpServerOptions } from "../transports/http.js";

/** `switchboard serve --http`: serves until SIGTERM/SIGINT, then closes sessions and the store. */
export async function serveHttp(runtime: Runtime, opts: Omit<HttpServerOptions, "runtime">): Promise<void> {
  const handle = await startHttpServer({ runtime, ...opts });
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    logger.info({ why }, "switchboard stopping");
    await handle.close().catch(() => undefined);
    await Promise.race([runtime.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
