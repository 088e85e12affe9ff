import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "./runtime.js";
import { logger } from "./logger.js";

/**
 * Serves MCP over stdin/stdout. Exits cleanly when the client closes stdin (the host quit)
 * and on SIGTERM/SIGINT, after closing the transport and the config watchers.
 */
export async function serveStdio(server: McpServer, runtime: Runtime): Promise<void> {
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    logger.info({ why }, "switchboard stopping");
    // Bounded: a wedged store must not keep a quitting host waiting.
    await Promise.race([runtime.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
    try {
      await server.close();
    } catch {
      // Already closed by the other side.
    }
    process.exit(0);
  };
  process.stdin.on("end", () => void shutdown("stdin closed"));
  process.stdin.on("close", () => void shutdown("stdin closed"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  await server.connect(transport);
  logger.info({ configVersion: runtime.configVersion }, "switchboard serving on stdio");
}
