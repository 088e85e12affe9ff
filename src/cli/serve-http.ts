import { setFlagsFromString } from "node:v8";
import type { Runtime } from "../runtime.js";
import { logger } from "../logger.js";
import { SwitchboardError } from "../errors.js";
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from "../http/http-server.js";

/** `switchboard serve --http`: serves until SIGTERM/SIGINT, then closes sessions and the store. */
export async function serveHttp(runtime: Runtime, opts: Omit<HttpServerOptions, "runtime">): Promise<void> {
  // Dozens of sessions in flight promote their requests' objects to V8's old generation, which then
  // grew to ~170 MB of garbage before a full collection (300+ MB resident after a 64-session load,
  // 63 MB of it live). Growing the old generation by 30% at a time instead of V8's adaptive factor
  // keeps it near 250 MB for ~10% more CPU per call (--optimize-for-size kept it at 220 MB but cost
  // 50% more). SWITCHBOARD_V8_FOR_SPEED=1 leaves V8's default: more memory, fewer collections.
  if (process.env.SWITCHBOARD_V8_FOR_SPEED !== "1") setFlagsFromString("--heap-growing-percent=30");
  let handle: HttpServerHandle;
  try {
    handle = await startHttpServer({ runtime, ...opts });
  } catch (err) {
    // The store and config watchers would keep a failed start alive: release them, then report.
    await runtime.close();
    const e = err as NodeJS.ErrnoException;
    const where = `${opts.host ?? runtime.config.http.host}:${opts.port ?? runtime.config.http.port}`;
    if (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
      throw new SwitchboardError({
        code: "invalid_request",
        message: e.code === "EADDRINUSE" ? `${where} is already in use` : e.code === "EACCES" ? `no permission to listen on ${where}` : `${where} is not an address of this machine`,
        hint: "pick another --port (0 picks a free one) or --host, or stop the server already listening there.",
        retryable: false,
      });
    }
    throw err;
  }
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
