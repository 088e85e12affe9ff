import { modelRef } from "../config/catalog.js";
import type { Call } from "./call.js";
import { experimentArm } from "./experiments.js";
import { pickFallbacks, type Candidate } from "./select.js";
import type { Decision, DecisionTier, ModelRef } from "./types.js";

export interface Pick {
  primary: string;
  /** The decision's tier: explicit once a model is forced. */
  tier: DecisionTier;
  experiment?: Decision["experiment"];
}

/** The forced model if any; else the best ranked, the mode's chain when the task is unsure, and an experiment's arm last. */
export function selectPrimary(call: Call, ranked: Candidate[]): Pick {
  if (call.forced) return { primary: call.forced, tier: "explicit" };
  let primary = ranked[0]!.id;
  if (call.tier === "default") {
    // Unsure what the task is: take the mode's own default chain rather than a guess.
    const chainPick = call.mode.entry.chain.find((id) => isRanked(ranked, id));
    if (chainPick) primary = chainPick;
  }
  const arm = experimentArm(call.cfg, call.mode.name, call.tenantName, call.requestId);
  if (!arm) return { primary, tier: call.tier };
  if (arm.treatment && isRanked(ranked, arm.model)) primary = arm.model;
  return { primary, tier: call.tier, experiment: { name: arm.name, arm: arm.treatment ? "treatment" : "control" } };
}

/** Models to try after the primary: by rank, or the mode's chain first when the task is unsure. */
export function chooseFallbacks(call: Call, ranked: Candidate[], pick: Pick): ModelRef[] {
  const max = call.cfg.router.maxFallbacks;
  if (pick.tier !== "default" || call.forced) return pickFallbacks(ranked, pick.primary, max).map((c) => modelRef(c.id));
  const chain = call.mode.entry.chain;
  const rankedIds = ranked.map((c) => c.id);
  return [...chain.filter((id) => id !== pick.primary && rankedIds.includes(id)), ...rankedIds.filter((id) => id !== pick.primary && !chain.includes(id))]
    .slice(0, max)
    .map((id) => modelRef(id));
}

const isRanked = (ranked: Candidate[], id: string) => ranked.some((c) => c.id === id);
