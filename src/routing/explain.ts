import { modelRef } from "../config/catalog.js";
import type { CostTier } from "../config/schema.js";
import type { Call } from "./call.js";
import { round } from "./decision.js";
import type { Pick } from "./pick.js";
import type { CostTarget } from "./preferences.js";
import { whyNot, type Selection } from "./select.js";
import type { Alternative, ScoreAdjustment } from "./types.js";

/** The decision's reason: who forced the model or why it fits, then what had to be relaxed and what feedback moved. */
export function explain(call: Call, pick: Pick, cost: CostTarget, relaxed: string[], adjustments: ScoreAdjustment[]): string {
  let reason = call.forced ? whoForced(call, call.forced) : whyItFits(call, pick, cost);
  if (relaxed.length) reason += ` (relaxed: ${relaxed.join(", ")}, since nothing else could serve)`;
  for (const a of adjustments.filter((a) => a.model === pick.primary)) reason += ` ${a.reason}.`;
  return reason;
}

function whoForced(call: Call, model: string): string {
  return call.input.model ? `The caller asked for ${model}.` : `Tenant ${call.tenantName} is locked to ${model} by policy.`;
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
  return `${cap(how)}; ${call.task.complexity} ${task} needs the ${cost.targetTier} tier${tierWhy}: ${pick.primary} fits best${exp}.`;
}

/** Up to four ranked models with why each lost, then up to three preferred or chain models that were not eligible. */
export function listAlternatives(call: Call, selection: Selection, primary: string, targetTier: CostTier): Alternative[] {
  const { taskType } = call.task;
  const chain = call.mode.entry.chain;
  const alternatives: Alternative[] = [];
  const winner = selection.ranked.find((c) => c.id === primary);
  if (winner) {
    for (const c of selection.ranked.filter((c) => c.id !== primary).slice(0, 4)) {
      alternatives.push({ ...modelRef(c.id), score: round(c.score), why: whyNot(c, winner, taskType, targetTier) });
    }
  }
  for (const d of selection.dropped.filter((d) => call.cfg.tasks[taskType].preferredModels.includes(d.id) || chain.includes(d.id)).slice(0, 3)) {
    alternatives.push({ model: d.id, provider: d.provider, why: `not eligible: ${d.why}` });
  }
  return alternatives;
}

const pct = (n: number) => `${Math.round(n * 100)}%`;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
