import { tierRank } from "../config/catalog.js";
import { COST_TIERS, type CostTier, type SwitchboardConfig, type TaskType } from "../config/schema.js";
import type { Weights } from "./select.js";
import type { RouteInput, RouteContext } from "./types.js";

export interface CostTarget {
  targetTier: CostTier;
  /** What moved the tier off the task's own, for the reason. */
  tierWhy: string[];
}

/** The task's cost tier for its complexity, moved by the caller's priorities and a budget downgrade, capped by the mode. */
export function targetCostTier(
  cfg: SwitchboardConfig,
  taskType: TaskType,
  complexity: "simple" | "medium" | "complex",
  input: RouteInput,
  ceiling: CostTier,
  ctx: RouteContext,
): CostTarget {
  const why: string[] = [];
  let rank = tierRank(cfg.tasks[taskType].tiers[complexity]);
  const prefs = input.modelPreferences;
  if (input.costSensitivity === "high" || (prefs?.costPriority ?? 0) >= 0.8) {
    rank--;
    why.push("cost-sensitive");
  }
  if (input.costSensitivity === "low" && (prefs?.intelligencePriority ?? 0) >= 0.8) {
    rank++;
    why.push("quality first");
  } else if ((prefs?.intelligencePriority ?? 0) >= 0.9) {
    rank++;
    why.push("quality first");
  }
  if (ctx.degrade) {
    rank = 0;
    why.push(ctx.degrade.reason);
  }
  rank = Math.max(0, Math.min(rank, tierRank(ceiling), COST_TIERS.length - 1));
  return { targetTier: COST_TIERS[rank]!, tierWhy: why };
}

/** Scoring weights: the config's, replaced by MCP model preferences when given, then nudged by cost and latency. */
export function weightsFor(cfg: SwitchboardConfig, input: RouteInput, latency: string): Weights {
  const p = input.modelPreferences;
  const w: Weights = { ...cfg.router.weights };
  if (p && (p.costPriority !== undefined || p.speedPriority !== undefined || p.intelligencePriority !== undefined)) {
    w.intelligence = p.intelligencePriority ?? 0.5;
    w.cost = p.costPriority ?? 0.5;
    w.speed = p.speedPriority ?? 0.5;
  }
  if (input.costSensitivity === "high") w.cost += 0.3;
  if (input.costSensitivity === "low") w.cost = Math.max(0, w.cost - 0.2);
  if (latency === "interactive" && input.interaction !== "automated") w.speed += 0.05;
  if (latency === "background") w.speed = Math.max(0, w.speed - 0.1);
  return w;
}
