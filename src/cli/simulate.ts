import { readFileSync } from "node:fs";
import { callCost } from "../config/catalog.js";
import { invalidRequest } from "../errors.js";
import type { RouteInput } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { out } from "./output.js";

type Flags = Record<string, string | boolean | undefined>;

/**
 * Prices a workload: every row is routed as Switchboard would, and priced against sending the same
 * row to the premium model (jobs.llm.premium[0]); the per-request averages are scaled to daily volumes.
 */
export function runSimulate(runtime: Runtime, f: Flags): number {
  const file = typeof f.data === "string" ? f.data : undefined;
  if (!file) throw invalidRequest("simulate needs --data FILE.jsonl", "rows are {prompt, ...route_task inputs}; e.g. switchboard simulate --data prompts.jsonl --per-day 1000,10000");
  const volumes = String(typeof f["per-day"] === "string" ? f["per-day"] : "1000,10000,100000")
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isFinite(v) && v > 0);
  const cfg = runtime.config;
  const premiumId = cfg.jobs.llm.premium?.[0];
  const premium = premiumId ? cfg.models[premiumId] : undefined;
  if (!premiumId || !premium) throw invalidRequest("no premium LLM in jobs.llm.premium", "add one to config/jobs.yaml");

  let routed = 0;
  let baseline = 0;
  let rows = 0;
  const tiers: Record<string, number> = {};
  const models: Record<string, number> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const { id: _id, task_type: _t, ...input } = JSON.parse(line) as Record<string, unknown>;
    const d = runtime.route(input as RouteInput);
    rows++;
    routed += d.estimate.costUsd;
    baseline += callCost(premium, d.estimate.inputTokens, d.estimate.outputTokens);
    const tier = d.costTier ?? d.job;
    tiers[tier] = (tiers[tier] ?? 0) + 1;
    models[d.model] = (models[d.model] ?? 0) + 1;
  }
  if (!rows) throw invalidRequest(`${file} has no rows`, "write one JSON object per line with a prompt");
  const perReq = { routed: routed / rows, baseline: baseline / rows };
  const result = {
    rows,
    premiumModel: premiumId,
    perRequestUsd: { switchboard: round(perReq.routed), premium: round(perReq.baseline) },
    savings: round(1 - perReq.routed / perReq.baseline, 4),
    tiers,
    models,
    perDay: volumes.map((v) => ({ requestsPerDay: v, switchboardUsd: round(perReq.routed * v, 2), premiumUsd: round(perReq.baseline * v, 2), savedUsd: round((perReq.baseline - perReq.routed) * v, 2), savedPerMonthUsd: round((perReq.baseline - perReq.routed) * v * 30, 2) })),
  };
  if (f.json) {
    out(JSON.stringify(result, null, 2));
    return 0;
  }
  const lines = [
    `${rows} requests routed; always-premium baseline: ${premiumId}`,
    `per request: Switchboard $${result.perRequestUsd.switchboard} vs premium $${result.perRequestUsd.premium} (${Math.round(result.savings * 100)}% less)`,
    `cost tiers: ${Object.entries(tiers).map(([k, v]) => `${k} ${Math.round((v / rows) * 100)}%`).join(", ")}`,
    "",
    "| Scale | Switchboard / day | Always premium / day | Saved / day | Saved / month |",
    "|---|---|---|---|---|",
    ...result.perDay.map((p) => `| ${p.requestsPerDay.toLocaleString("en")} req/day | $${p.switchboardUsd} | $${p.premiumUsd} | $${p.savedUsd} | $${p.savedPerMonthUsd} |`),
  ];
  out(lines.join("\n"));
  return 0;
}

const round = (n: number, d = 6) => Math.round(n * 10 ** d) / 10 ** d;
