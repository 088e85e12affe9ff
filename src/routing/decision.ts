import { callCost, modelRef, providerOf } from "../config/catalog.js";
import type { Call } from "./call.js";
import type { Pick } from "./pick.js";
import type { CostTarget } from "./preferences.js";
import { signalNames } from "./signals.js";
import type { Alternative, Decision, ModelRef, ScoreAdjustment } from "./types.js";

/** The fields every decision shares, in the order callers see them. */
function decisionBase(call: Call) {
  const { mode, input } = call;
  return {
    requestId: call.requestId,
    mode: mode.name,
    modeSource: mode.source,
    job: mode.entry.job,
    taskType: call.task.taskType,
    complexity: call.task.complexity,
    tools: unique([...mode.entry.tools, ...(input.tools ?? [])]),
    mcpTools: unique([...mode.entry.mcpTools, ...(input.mcpTools ?? [])]),
    latency: call.latency,
    tenant: call.tenantName,
    configVersion: call.configVersion,
  };
}

/** Non-LLM modes (media, voice, transcription) take their chain as configured. */
export function nonLlmDecision(call: Call, t0: number): Decision {
  const { mode } = call;
  const [primary, ...rest] = mode.entry.chain;
  return {
    ...decisionBase(call),
    costTier: mode.entry.maxCostTier,
    model: primary!,
    provider: providerOf(primary!),
    fallbacks: rest.map((id) => modelRef(id)),
    tier: mode.source === "task" ? call.tier : "explicit",
    confidence: call.task.confidence,
    signals: signalList(call),
    reason: `${mode.name} is a ${mode.entry.job} job; using its configured chain (${mode.entry.chain.join(" → ")}).`,
    alternatives: [],
    estimate: { inputTokens: call.prompt.inputTokens, outputTokens: 0, costUsd: 0 },
    adjustments: [],
    decisionMs: ms(t0),
  };
}

export interface LlmChoice {
  cost: CostTarget;
  pick: Pick;
  fallbacks: ModelRef[];
  alternatives: Alternative[];
  reason: string;
  adjustments: ScoreAdjustment[];
}

/** An LLM decision from the steps' results: the pick, its fallbacks and alternatives, the reason and the estimate. */
export function llmDecision(call: Call, choice: LlmChoice, t0: number): Decision {
  const { primary, experiment } = choice.pick;
  const primaryModel = call.cfg.models[primary]!;
  const { inputTokens } = call.prompt;
  const { outputTokens } = call;
  return {
    ...decisionBase(call),
    // A forced model was not chosen for the target tier: report the tier it actually is.
    costTier: call.forced ? primaryModel.tier : choice.cost.targetTier,
    model: primary,
    provider: providerOf(primary),
    fallbacks: choice.fallbacks,
    tier: choice.pick.tier,
    confidence: round(call.task.confidence),
    signals: signalList(call),
    reason: choice.reason,
    alternatives: choice.alternatives,
    estimate: { inputTokens, outputTokens, costUsd: round(callCost(primaryModel, inputTokens, outputTokens), 6) },
    ...(experiment ? { experiment } : {}),
    adjustments: choice.adjustments,
    decisionMs: ms(t0),
  };
}

const signalList = (call: Call) => [...signalNames(call.task.signals), ...(call.task.rule ? [`rule:${call.task.rule}`] : [])];
const unique = (xs: string[]) => [...new Set(xs)];
export const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const ms = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000;
