import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { DownstreamTool } from "../downstream/pool.js";
import type { Runtime } from "../runtime.js";
import { recordCall } from "./call-record.js";
import { listedSchema } from "./define-tool.js";

/**
 * Gateway mode (`mcp.gateway.enabled`): the downstream servers' tools listed and callable through
 * Switchboard's own MCP server, as `<namespace>__<tool>` with their own schemas and annotations,
 * only those open to the session's tenant (all of them for a local or admin caller), each call
 * behind its server's timeout, retries and breaker, and cancelled downstream when the caller
 * cancels. Tools already listed are there at once; the rest are added (and `tools/list_changed`
 * sent) as their servers connect.
 */
export function registerGatewayTools(server: McpServer, runtime: Runtime, tenant: string | undefined): void {
  if (!runtime.config.mcp.gateway.enabled || !runtime.downstream.configured) return;
  const registered = new Set<string>();
  const add = (tools: DownstreamTool[]) => {
    for (const t of tools) {
      if (registered.has(t.fn)) continue;
      registered.add(t.fn);
      server.registerTool(
        t.fn,
        { title: t.id, description: t.description ?? t.id, inputSchema: listedSchema(t.inputSchema), ...(t.annotations ? { annotations: t.annotations as ToolAnnotations } : {}) },
        async (args, extra) => callThrough(runtime, tenant, t, args as Record<string, unknown>, extra.signal),
      );
    }
  };
  add(runtime.downstream.knownToolsFor(tenant));
  void runtime.downstream.allToolsFor(tenant).then(add, () => undefined);
}

async function callThrough(runtime: Runtime, tenant: string | undefined, t: DownstreamTool, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
  const t0 = performance.now();
  const r = await runtime.downstream.call(tenant, t, args, signal);
  recordCall(runtime, "mcp_gateway", { tenant: tenant ?? runtime.config.router.defaultTenant }, { mcpToolsUsed: [t.id] }, r.ok ? "ok" : r.code, t0);
  if (r.ok && r.result) return { content: r.result.content as CallToolResult["content"], ...(r.result.structuredContent !== undefined ? { structuredContent: r.result.structuredContent as Record<string, unknown> } : {}) };
  return { isError: true, content: [{ type: "text", text: JSON.stringify({ error: { tool: t.id, code: r.code, message: r.text, retryable: r.code === "timeout" || r.code === "server_unavailable" } }) }] };
}
