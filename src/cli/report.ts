import { usageReport } from "../store/reports.js";
import { unknownValue } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { out } from "./output.js";

type Flags = Record<string, string | boolean | undefined>;

/** The usage report from the store (the same figures as the usage_report tool). */
export async function runReport(runtime: Runtime, f: Flags): Promise<number> {
  const store = runtime.store!;
  const tenant = typeof f.tenant === "string" ? f.tenant : null;
  if (tenant && !Object.hasOwn(runtime.config.tenants, tenant)) throw unknownValue("tenant", tenant, Object.keys(runtime.config.tenants));
  const days = Number(typeof f.days === "string" ? f.days : 30);
  try {
    await runtime.learning!.refresh();
    const rep = { ...(await usageReport(await store.db(), { tenant, days })), demotedModels: runtime.learning!.demoted() };
    if (f.json) {
      out(JSON.stringify(rep, null, 2));
      return 0;
    }
    const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
    const lines = [
      `${tenant ? `tenant ${tenant}` : "all tenants"}, last ${days} days: ${rep.calls} calls, $${rep.spendUsd} spent`,
      `success ${pct(rep.successRate)}, fallbacks ${pct(rep.fallbackRate)}, overrides ${pct(rep.overrideRate)}, latency p50 ${rep.latencyMs.p50} ms / p95 ${rep.latencyMs.p95} ms`,
      "",
      "by model:",
      ...rep.byModel.map((m) => `  ${m.model.padEnd(40)} ${String(m.calls).padStart(7)} calls  $${m.spendUsd}  success ${pct(m.successRate)}  p50 ${m.p50Ms} ms`),
      "by mode:",
      ...rep.byMode.map((m) => `  ${m.mode.padEnd(40)} ${String(m.calls).padStart(7)} calls  $${m.spendUsd}`),
      "by day:",
      ...rep.byDay.map((d) => `  ${d.day}  ${String(d.calls).padStart(7)} calls  $${d.spendUsd}`),
      ...(rep.errors.length ? ["errors:", ...rep.errors.map((e) => `  ${e.code.padEnd(28)} ${e.calls}`)] : []),
      ...(rep.experiments.length ? ["experiments:", ...rep.experiments.map((e) => `  ${e.experiment} ${e.arm.padEnd(10)} ${e.calls} calls  $${e.spendUsd}  p50 ${e.p50Ms} ms  success ${pct(e.successRate)}  rating ${e.rating ?? "n/a"}`)] : []),
      ...(rep.demotedModels.length ? ["demoted:", ...rep.demotedModels.map((d) => `  ${d.model} on ${d.taskType}: ${pct(d.successRate)} success over ${d.calls} calls`)] : []),
      `classifier confidence: ${rep.confidence.map((c) => `${c.band} ${c.calls}`).join(", ") || "n/a"}`,
    ];
    out(lines.join("\n"));
    return 0;
  } finally {
    await store.close();
  }
}
