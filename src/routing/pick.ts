import { modelRef } from "../config/catalog.js";
import type { Call } from "./call.js";
import { experimentArm } from "./experiments.js";
import { pickFallbacks, type Candidate, type Ranked, type Selection } from "./select.js";
import type { Decision, DecisionTier, ModelRef } from "./types.js";

/** A tenant's preferred provider takes the primary when its best model scores within this share of the top. */
export const NEAR_TIE = 0.1;

export interface Pick {
  primary: string;
  /** The decision's tier: explicit once a model is forced. */
  tier: DecisionTier;
  experiment?: Decision["experiment"];
  /** The caller's hint that chose the primary. */
  hint?: string;
  /** The tenant's preferred provider that won a near-tie, and the model it won over. */
  preferred?: { provider: string; over: string };
  /** Hints that could not be used, and slot rules that had to give way, for the reason. */
  notes: string[];
}

/** The latency class's cap on the typical latency of the primary and first fallback, if it has one. */
export function latencyCap(call: Call): number | undefined {
  return call.cfg.router.latencyClasses[call.latency].maxTypicalLatencyMs;
}

const fits = (cap: number | undefined) => (c: Candidate) => cap === undefined || c.model.latencyMs <= cap;

/**
 * The forced model if any (an explicit model, then a tenant's lock); else the caller's first usable
 * hint; else the best ranked model fast enough for the latency class (the mode's chain when the task
 * is unsure), a tenant's preferred provider winning a near-tie; an experiment's treatment arm last
 * (configured by the operator, so not held to the latency class).
 */
export function selectPrimary(call: Call, ranked: Ranked): Pick {
  // A named model or a tenant's lock outranks every hint; explain says so.
  if (call.forced) return { primary: call.forced, tier: "explicit", notes: [] };
  const notes = [...(ranked.hints?.notUsed ?? [])];
  const hint = ranked.hints?.winner;
  if (hint) return { primary: hint.model, tier: call.tier, hint: hint.name, notes };

  const cap = latencyCap(call);
  let eligible = ranked.filter(fits(cap));
  if (eligible.length === 0) {
    eligible = ranked;
    notes.push(`no model within the ${call.latency} latency class's ${cap} ms could serve, so a slower one leads`);
  }
  let primary = eligible[0]!.id;
  let preferred: Pick["preferred"];
  if (call.tier === "default") {
    // Unsure what the task is: take the mode's own default chain rather than a guess.
    const chainPick = call.mode.entry.chain.find((id) => eligible.some((c) => c.id === id));
    if (chainPick) primary = chainPick;
  } else {
    preferred = nearTie(call, eligible);
    if (preferred) primary = eligible.find((c) => c.provider === preferred!.provider)!.id;
  }
  const base = { primary, tier: call.tier, notes, ...(preferred ? { preferred } : {}) };
  const arm = experimentArm(call.cfg, call.mode.name, call.tenantName, call.requestId);
  if (!arm) return base;
  // The operator's experiment names its model, as a lock does: the latency class does not hold it back.
  if (arm.treatment && ranked.some((c) => c.id === arm.model)) base.primary = arm.model;
  return Object.assign(base, { experiment: { name: arm.name, arm: arm.treatment ? ("treatment" as const) : ("control" as const) } });
}

/** The tenant's preferred provider whose best model scores within NEAR_TIE of the top, when the top is another provider's. */
function nearTie(call: Call, eligible: Candidate[]): Pick["preferred"] {
  const prefs = call.tenant.preferredProviders;
  const top = eligible[0]!;
  if (!prefs?.length || prefs.includes(top.provider)) return undefined;
  const c = eligible.find((c) => prefs.includes(c.provider));
  if (!c || top.score - c.score > NEAR_TIE * Math.abs(top.score)) return undefined;
  return { provider: c.provider, over: top.id };
}

/** The models to try after the primary, and the caller's fallbacks that could not serve this call (with why). */
export interface FallbackChoice {
  fallbacks: ModelRef[];
  skipped: Array<{ id: string; why: string }>;
}

/**
 * Models to try after the primary: the caller's own fallbacks first, in their order (skipping one
 * that cannot serve the call; a preference such as the mode's cost ceiling does not hold back a
 * model the caller names), then by rank, or the mode's chain first when the task is unsure. Without
 * caller fallbacks, the first is fast enough for the latency class when any is.
 */
export function chooseFallbacks(call: Call, selection: Selection, pick: Pick): FallbackChoice {
  const { ranked, dropped } = selection;
  const max = call.cfg.router.maxFallbacks;
  let order: string[];
  if (pick.tier !== "default" || call.forced) order = pickFallbacks(ranked, pick.primary, ranked.length).map((c) => c.id);
  else {
    const chain = call.mode.entry.chain;
    const rankedIds = ranked.map((c) => c.id);
    order = [...chain.filter((id) => id !== pick.primary && rankedIds.includes(id)), ...rankedIds.filter((id) => id !== pick.primary && !chain.includes(id))];
  }
  const listed = call.input.fallbacks;
  if (listed?.length) {
    const skipped: FallbackChoice["skipped"] = [];
    const mine: string[] = [];
    for (const id of listed) {
      if (id === pick.primary || mine.includes(id)) continue;
      const limit = dropped.find((d) => d.id === id && !d.preference);
      if (limit) skipped.push({ id, why: limit.why });
      else mine.push(id);
    }
    const all = [...mine, ...order.filter((id) => !mine.includes(id))];
    return { fallbacks: all.slice(0, Math.max(max, mine.length)).map((id) => modelRef(id)), skipped };
  }
  const cap = latencyCap(call);
  if (cap !== undefined && order.length > 1 && call.cfg.models[order[0]!]!.latencyMs > cap) {
    const i = order.findIndex((id) => call.cfg.models[id]!.latencyMs <= cap);
    if (i > 0) order = [order[i]!, ...order.slice(0, i), ...order.slice(i + 1)];
  }
  return { fallbacks: order.slice(0, max).map((id) => modelRef(id)), skipped: [] };
}
