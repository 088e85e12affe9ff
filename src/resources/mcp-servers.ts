import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { principalOf } from "../auth.js";
import type { Runtime } from "../runtime.js";

/**
 * switchboard://mcp/servers: each downstream MCP server the caller's tenant may use, with its
 * state, tools, circuit breaker and call counts. Never shows its env, headers or URL secrets.
 */
export function registerMcpServersResource(server: McpServer, runtime: Runtime): void {
  server.registerResource(
    "mcp-servers",
    "switchboard://mcp/servers",
    {
      title: "Downstream MCP servers",
      description: "Each downstream MCP server (config/mcp.yaml) open to your tenant: connection state, tools, circuit breaker, calls and failures.",
      mimeType: "application/json",
    },
    (uri, extra) => {
      const p = principalOf(extra);
      // A tenant token sees its tenant's servers; admins and local callers see all.
      const servers = runtime.downstream.status(p && !p.admin ? p.tenant : undefined);
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ maxToolSteps: runtime.config.mcp.maxToolSteps, gateway: runtime.config.mcp.gateway.enabled, servers }, null, 2) }] };
    },
  );
}
