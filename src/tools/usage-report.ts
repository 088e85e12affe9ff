import { z } from "zod";
import { invalidRequest, unknownValue } from "../errors.js";
import { usageReport } from "../store/reports.js";
import { defineTool } from "./define-tool.js";

export const usageReportTool = defineTool({
  name: "usage_report",
  title: "Usage and spend report",
  description:
    "One tenant's spend by model, mode and day; latency p50/p95; success, fallback and override rates; errors by code; " +
    "experiment arms compared.",
  input: {
    tenant: z.string().optional().describe("Default: the default tenant."),
    days: z.number().int().min(1).max(366).default(30).describe("How many days back."),
  },
  output: { report: z.object({}).passthrough() },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async (args, { runtime }) => {
    const store = runtime.store;
    if (!store) throw invalidRequest("usage reports need the store, which is off in this server", "run `switchboard serve` without --no-store.");
    const tenant = args.tenant ?? runtime.config.router.defaultTenant;
    if (!Object.hasOwn(runtime.config.tenants, tenant)) throw unknownValue("tenant", tenant, Object.keys(runtime.config.tenants));
    await store.telemetry.flush();
    await runtime.learning!.refresh();
    return {
      report: {
        ...(await usageReport(await store.db(), { tenant, days: args.days })),
        demotedModels: runtime.learning!.demoted(),
        // Circuit breakers are per process: this server's openings since it started.
        breakers: runtime.breakers.status().filter((b) => b.openings > 0 || b.state !== "closed"),
      },
    };
  },
});
