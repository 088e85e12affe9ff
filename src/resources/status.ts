import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";

/** Which providers can be called here and how their circuits stand. Never shows a key. */
export function registerStatusResource(server: McpServer, runtime: Runtime): void {
  server.registerResource(
    "status",
    "switchboard://status",
    {
      title: "Provider status",
      description: "Each provider: configured or not (and which env var turns it on), base URL, and the circuit-breaker state of every model called so far.",
      mimeType: "application/json",
    },
    (uri) => {
      const configured = runtime.configuredProviders();
      const breakers = runtime.breakers.status();
      const providers = Object.entries(runtime.config.providers).map(([name, p]) => ({
        name,
        api: p.api,
        configured: configured.has(name),
        keyEnv: p.apiKeyEnv,
        baseUrl: p.baseUrl,
        breakers: breakers.filter((b) => b.id.startsWith(name + ":")),
      }));
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ configVersion: runtime.configVersion, providers }, null, 2) }] };
    },
  );
}
