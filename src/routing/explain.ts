import type { CostTier } from "../config/schema.js";
import type { Call } from "./call.js";
import { round } from "./decision.js";
import { latencyCap, NEAR_TIE, type FallbackChoice, type Pick } from "./pick.js";
import type { CostTarget } from "./preferences.js";
import { whyNot, type Selection } from "./select.js";
import type { Alternative, ScoreAdjustment } from "./types.js";

/**
 * The decision's reason: who forced the model or why it fits, then what had to be relaxed, what
 * feedback moved, and which of the caller's fallbacks could not serve.
 */
export function explain(call: Call, pick: Pick, cost: CostTarget, relaxed: string[], adjustments: ScoreAdjustment[], skipped: FallbackChoice["skipped"] = []): string {
  let reason = call.forced ? whoForced(call, call.forced) : whyItFits(call, pick, cost);
  if (relaxed.length) reason += ` (relaxed: ${relaxed.join(", ")}, since nothing else could serve)`;
  for (const a of adjustments.filter((a) => a.model === pick.primary)) reason += ` ${a.reason}.`;
  for (const s of skipped) reason += ` Fallback ${s.id} skipped: ${s.why}.`;
  return reason;
}

function whoForced(call: Call, model: string): string {
  const hints = (call.input.modelPreferences?.hints ?? []).map((h) => h.name?.trim()).filter(Boolean);
  const unused = hints.length ? `; ${hints.length > 1 ? "hints" : "hint"} ${hints.map((h) => `"${h}"`).join(", ")} not used: ` : "";
  return call.input.model
    ? `The caller asked for ${model}${unused && `${unused}an explicit model outranks hints`}.`
    : `Tenant ${call.tenantName} is locked to ${model} by policy${unused && `${unused}the tenant's lock outranks hints`}.`;
}

function whyItFits(call: Call, pick: Pick, cost: CostTarget): string {
  const { confidence, rule } = call.task;
  const task = call.task.taskType.replace("_", " ");
  const modeName = call.mode.name;
  const how =
    pick.tier === "signals"
      ? `signals show ${task} (${rule})`
      : pick.tier === "classifier"
        ? `the classifier reads it as ${task} (${pct(confidence)})`
        : pick.tier === "explicit"
          ? `the caller set ${modeName}; task reads as ${task}`
          : `the classifier is unsure (${pct(confidence)} < ${pct(call.cfg.router.classifier.minConfidence)}; best guess ${task}), so ${modeName}'s default chain applies`;
  const tierWhy = cost.tierWhy.length ? ` (${cost.tierWhy.join(", ")})` : "";
  const exp = pick.experiment?.arm === "treatment" ? `; experiment ${pick.experiment.name} sends this call to its alternative` : "";
  const fit = pick.hint
    ? `hint "${pick.hint}" → ${pick.primary}`
    : pick.preferred
      ? `${pick.primary} fits best (tenant prefers ${pick.preferred.provider}; within ${Math.round(NEAR_TIE * 100)}% of ${pick.preferred.over})`
      : `${pick.primary} fits best`;
  // Hints that could not be used, and slot rules that gave way, follow the fit.
  const notes = pick.notes.map((n) => `; ${n}`).join("");
  // "simple qa" already says how hard it is: not "simple simple qa".
  const sized = task.startsWith(`${call.task.complexity} `) ? task : `${call.task.complexity} ${task}`;
  return `${cap(how)}; ${sized} needs the ${cost.targetTier} tier${tierWhy}: ${fit}${exp}${notes}.`;
}

/** Up to four ranked models with why each lost, then up to three preferred or chain models that were not eligible. */
export function listAlternatives(call: Call, selection: Selection, primary: string, targetTier: CostTier): Alternative[] {
  const { taskType } = call.task;
  const chain = call.mode.entry.chain;
  const alternatives: Alternative[] = [];
  const winner = selection.ranked.find((c) => c.id === primary);
  const hint = selection.ranked.hints?.winner;
  const prefs = call.tenant.preferredProviders ?? [];
  const cap = call.forced ? undefined : latencyCap(call);
  if (winner) {
    for (const c of selection.ranked.filter((c) => c.id !== primary).slice(0, 4)) {
      // A model that scored higher lost to the caller's intent: say which.
      const why =
        c.score > winner.score && !call.forced && hint?.model === primary
          ? `the caller's hint "${hint.name}" asked for ${primary}`
          : call.tier !== "default" && c.score > winner.score && c.score - winner.score <= NEAR_TIE * Math.abs(c.score) && (cap === undefined || c.model.latencyMs <= cap) && prefs.includes(winner.provider) && !prefs.includes(c.provider)
            ? `near-tie; tenant ${call.tenantName} prefers ${winner.provider}`
            : whyNot(c, winner, taskType, targetTier, cap);
      // Not `{ ...modelRef(c.id), score, why }`: a literal opening with a spread is slow in V8.
      alternatives.push({ model: c.id, provider: c.provider, score: round(c.score), why });
    }
  }
  for (const d of selection.dropped.filter((d) => call.cfg.tasks[taskType].preferredModels.includes(d.id) || chain.includes(d.id)).slice(0, 3)) {
    alternatives.push({ model: d.id, provider: d.provider, why: `not eligible: ${d.why}` });
  }
  return alternatives;
}

const pct = (n: number) => `${Math.round(n * 100)}%`;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
