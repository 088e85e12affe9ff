import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";

/** The routing table and the model catalog, read live so a config reload shows at once. */
export function registerConfigResources(server: McpServer, runtime: Runtime): void {
  const json = (uri: URL, body: unknown) => ({
    contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(body, null, 2) }],
  });

  server.registerResource(
    "routing-table",
    "switchboard://config/routing-table",
    {
      title: "Routing table",
      description: "Copilot modes (latency class, model chain, tools, cost ceiling), job chains and task types with their tiers.",
      mimeType: "application/json",
    },
    (uri) => {
      const c = runtime.config;
      const tasks = Object.fromEntries(
        Object.entries(c.tasks).map(([k, { examples, ...t }]) => [k, { ...t, examples: examples.length }]),
      );
      return json(uri, { configVersion: runtime.configVersion, modes: c.modes, jobs: c.jobs, tasks, experiments: c.experiments });
    },
  );

  server.registerResource(
    "model-catalog",
    "switchboard://config/models",
    {
      title: "Model catalog",
      description: "Every model and service with capabilities, prices (USD per 1M tokens or per unit), context window and support flags.",
      mimeType: "application/json",
    },
    (uri) => {
      const c = runtime.config;
      const configured = runtime.configuredProviders();
      const providers = Object.fromEntries(
        Object.entries(c.providers).map(([k, p]) => [k, { displayName: p.displayName, api: p.api, baseUrl: p.baseUrl, keyEnv: p.apiKeyEnv, configured: configured.has(k) }]),
      );
      return json(uri, { configVersion: runtime.configVersion, providers, models: c.models, services: c.services });
    },
  );
}
