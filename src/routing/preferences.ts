import { tierRank } from "../config/catalog.js";
import { COST_TIERS, type CostTier, type SwitchboardConfig, type TaskType } from "../config/schema.js";
import type { JudgedDifficulty } from "./difficulty.js";
import type { Weights } from "./select.js";
import type { RouteInput, RouteContext } from "./types.js";

export interface CostTarget {
  targetTier: CostTier;
  /** The learned difficulty, when config has a model for it. */
  difficulty?: JudgedDifficulty;
  /** What moved the tier off the task's own, for the reason. */
  tierWhy: string[];
}

/**
 * MCP priorities that ask for the strongest model regardless of price (intelligencePriority ≥ 0.9,
 * costPriority ≤ 0.2): the premium tier, ranked by capability first.
 */
export function qualityFirst(input: RouteInput): boolean {
  const p = input.modelPreferences;
  return (p?.intelligencePriority ?? 0) >= 0.9 && p?.costPriority !== undefined && p.costPriority <= 0.2;
}

/** The mode's cost ceiling, lifted to premium when the caller asked for quality first and did not name the mode. */
export function costCeiling(input: RouteInput, modeCeiling: CostTier): CostTier {
  return qualityFirst(input) && !input.mode ? "premium" : modeCeiling;
}

/**
 * The task's cost tier for its complexity, set by the difficulty against the operating point
 * (premium at or above the threshold; below it the task's tier, at most standard), then moved by
 * the caller's priorities and a budget downgrade, capped by the mode.
 */
export function targetCostTier(
  cfg: SwitchboardConfig,
  taskType: TaskType,
  complexity: "simple" | "medium" | "complex",
  input: RouteInput,
  ceiling: CostTier,
  ctx: RouteContext,
  difficulty?: JudgedDifficulty,
): CostTarget {
  const why: string[] = [];
  let rank = tierRank(cfg.tasks[taskType].tiers[complexity]);
  const prefs = input.modelPreferences;
  const top = COST_TIERS.length - 1;
  if (difficulty?.applies) {
    const d = difficulty.score.toFixed(2);
    const t = difficulty.threshold.toFixed(2);
    if (difficulty.premium) {
      why.push(`difficulty ${d} ≥ ${t}: premium`);
      rank = top;
    } else if (rank === top) {
      rank = top - 1;
      why.push(`difficulty ${d} < ${t}: ${COST_TIERS[rank]}`);
    }
  }
  if ((prefs?.costPriority ?? 0) >= 0.8) {
    rank = 0;
    why.push(`costPriority ${prefs!.costPriority}: economy`);
  } else if (input.costSensitivity === "high") {
    rank--;
    why.push("cost-sensitive");
  }
  if (qualityFirst(input)) {
    rank = top;
    why.push(`intelligencePriority ${prefs!.intelligencePriority} with costPriority ${prefs!.costPriority}: the strongest capable model`);
  } else if (input.costSensitivity === "low" && (prefs?.intelligencePriority ?? 0) >= 0.8) {
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
  const cap = costCeiling(input, ceiling);
  if (rank > tierRank(cap) && why.length) why.push(`capped at ${cap} by the ${input.mode ? "requested " : ""}mode`);
  rank = Math.max(0, Math.min(rank, tierRank(cap), top));
  return { targetTier: COST_TIERS[rank]!, tierWhy: why, ...(difficulty ? { difficulty } : {}) };
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
  // Capability first: speed counts only as far as the caller gave it a priority.
  const first = qualityFirst(input);
  if (first && p?.speedPriority === undefined) w.speed = 0;
  if (input.costSensitivity === "high") w.cost += 0.3;
  if (input.costSensitivity === "low") w.cost = Math.max(0, w.cost - 0.2);
  if (latency === "interactive" && input.interaction !== "automated" && !first) w.speed += 0.05;
  if (latency === "background") w.speed = Math.max(0, w.speed - 0.1);
  return w;
}
