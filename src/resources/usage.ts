import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { usageReport } from "../store/reports.js";
import type { Runtime } from "../runtime.js";
import { principalOf, scopeTenant } from "../auth.js";

/** switchboard://usage/{tenant}: the last 30 days of one tenant's usage, as usage_report gives it. */
export function registerUsageResource(server: McpServer, runtime: Runtime): void {
  server.registerResource(
    "usage",
    new ResourceTemplate("switchboard://usage/{tenant}", {
      // A tenant token lists only its own tenant's usage.
      list: (extra) => ({
        resources: visibleTenants(runtime, extra).map((t) => ({ uri: `switchboard://usage/${t}`, name: `usage-${t}`, mimeType: "application/json" })),
      }),
    }),
    { title: "Usage by tenant", description: "Spend, latency, success, fallback and override rates, experiments: the last 30 days of one tenant.", mimeType: "application/json" },
    async (uri, { tenant }, extra) => {
      const name = String(tenant);
      const store = runtime.store;
      const scoped = scopeTenant(principalOf(extra), name);
      const body = "refused" in scoped
        ? { error: { code: "forbidden", message: scoped.refused, hint: "read your own tenant's usage, or use an admin token.", retryable: false } }
        : !store
        ? { error: "the store is off in this server (serve without --no-store)" }
        : !Object.hasOwn(runtime.config.tenants, name)
          ? { error: `unknown tenant "${name}"`, validValues: Object.keys(runtime.config.tenants) }
          : (await store.telemetry.flush(), { ...(await usageReport(await store.db(), { tenant: name, days: 30 })), demotedModels: runtime.learning!.demoted() });
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(body, null, 2) }] };
    },
  );
}

function visibleTenants(runtime: Runtime, extra: Parameters<typeof principalOf>[0]): string[] {
  const p = principalOf(extra);
  return p && !p.admin ? [p.tenant] : Object.keys(runtime.config.tenants);
}
