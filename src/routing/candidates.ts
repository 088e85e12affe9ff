import type { CostTier } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
import type { Call } from "./call.js";
import { latencyCap } from "./pick.js";
import { costCeiling, qualityFirst, weightsFor } from "./preferences.js";
import { selectModels, type Selection } from "./select.js";
import type { ScoreAdjustment } from "./types.js";

/** Tier 4: what feedback says about the models, unless the tenant opted out of learning. */
export function scoreAdjustments(call: Call): ScoreAdjustment[] {
  const { cfg, ctx, input } = call;
  return ctx.adjuster && call.tenant.learning !== false
    ? ctx.adjuster.adjust({ tenant: call.tenantName, user: input.user, taskType: call.task.taskType, mode: call.mode.name, candidates: Object.keys(cfg.models) })
    : [];
}

/** Ranks the catalog for this call. With nothing left and no forced model, fails with why each model dropped out. */
export function rankCandidates(call: Call, targetTier: CostTier, adjustments: ScoreAdjustment[]): Selection {
  const { cfg, input, task, mode, latency } = call;
  const selection = selectModels({
    cfg,
    taskType: task.taskType,
    complexity: task.complexity,
    targetTier,
    mode: mode.entry,
    modeExplicit: mode.source !== "task",
    maxCostTier: costCeiling(input, mode.entry.maxCostTier),
    capabilityFirst: qualityFirst(input),
    callerMode: input.mode !== undefined,
    callerTask: input.taskType !== undefined,
    tenantName: call.tenantName,
    tenant: call.tenant,
    inputTokens: call.prompt.inputTokens,
    outputTokens: call.outputTokens,
    needsTools: (input.tools?.length ?? 0) + (input.mcpTools?.length ?? 0) > 0 || input.needs?.toolCalling === true,
    needsJson: input.needs?.json === true,
    needsDocuments: input.needs?.documents === true,
    needsServerTools: input.needs?.serverTools === true,
    needsVision: (input.attachments ?? []).some((a) => a.kind === "image" || a.kind === "video"),
    latency,
    weights: weightsFor(cfg, input, latency),
    hints: (input.modelPreferences?.hints ?? []).map((h) => (h.name ?? "").trim()).filter(Boolean),
    latencyCapMs: latencyCap(call),
    configured: call.ctx.configuredProviders,
    adjustments,
  });
  if (selection.ranked.length === 0 && !call.forced) {
    throw new SwitchboardError({
      code: "invalid_request",
      message: `no model in the catalog can serve this request: ${summarizeDrops(selection.dropped)}`,
      hint: "shorten the input, drop tools or attachments the models cannot take, relax the tenant's allowed models, or add a suitable model to config/models.yaml.",
      retryable: false,
    });
  }
  return selection;
}

function summarizeDrops(dropped: Array<{ id: string; why: string }>): string {
  const byWhy = new Map<string, string[]>();
  for (const d of dropped) byWhy.set(d.why, [...(byWhy.get(d.why) ?? []), d.id]);
  return [...byWhy.entries()].slice(0, 4).map(([why, ids]) => `${ids.length} model(s) ${why}`).join("; ");
}
