import { callCost, modelRef, providerOf } from "../config/catalog.js";
import { JOBS, jobAction, serviceChain, serviceEstimate } from "./action.js";
import type { Call } from "./call.js";
import type { Pick } from "./pick.js";
import type { CostTarget } from "./preferences.js";
import { signalNames } from "./signals.js";
import type { Alternative, Decision, ModelRef, ScoreAdjustment } from "./types.js";

/**
 * The fields every decision shares, in the order callers see them. The builders below add theirs
 * with Object.assign rather than a literal opening with `...base`: V8 builds such a literal (a
 * large spread, then more keys) on a slow path that cost some 35 µs per decision; the key order is
 * the same.
 */
function decisionBase(call: Call) {
  const { mode, input } = call;
  return {
    requestId: call.requestId,
    mode: mode.name,
    modeSource: mode.source,
    job: mode.entry.job,
    action: jobAction(call.cfg, call.job, call.jobName, call.prompt.text, mode.name),
    tools: unique([...mode.entry.tools, ...(input.tools ?? [])]),
    mcpTools: unique([...mode.entry.mcpTools, ...(input.mcpTools ?? [])]),
    latency: call.latency,
    tenant: call.tenantName,
    configVersion: call.configVersion,
  };
}

/**
 * Service jobs (media, voice, transcription) run the job's configured chain, priced in the
 * service's own unit. An LLM's task type and tier do not apply, so the decision leaves them out.
 */
export function nonLlmDecision(call: Call, t0: number): Decision {
  const { mode, job, jobName } = call;
  const chain = (jobName && serviceChain(call.cfg, jobName)) || mode.entry.chain;
  const [primary, ...rest] = chain;
  const base = decisionBase(call);
  const title = jobName ? JOBS[jobName].title : mode.entry.job;
  const why = job ? `${cap(title)}: ${job.why}` : `${cap(title)}: the caller chose ${mode.name}`;
  return Object.assign(base, {
    model: primary!,
    provider: providerOf(primary!),
    fallbacks: rest.map((id) => modelRef(id)),
    tier: mode.source === "explicit" ? ("explicit" as const) : ("signals" as const),
    confidence: mode.source === "explicit" ? 1 : 0.9,
    signals: job ? [`job:${job.name}`] : [],
    reason: `${why}; ${base.action.tool} runs on ${chain.join(" → ")}${base.action.steps ? ` (${base.action.steps.map((s) => s.tool).join(" → ")})` : ""}.`,
    alternatives: [],
    estimate: { inputTokens: 0, outputTokens: 0, ...serviceEstimate(call.cfg.services[primary!], job) },
    adjustments: [],
    decisionMs: ms(t0),
  });
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
  return Object.assign(decisionBase(call), {
    taskType: call.task.taskType,
    complexity: call.task.complexity,
    // A forced model was not chosen for the target tier: report the tier it actually is.
    costTier: call.forced ? primaryModel.tier : choice.cost.targetTier,
    ...(call.difficulty ? { difficulty: { score: call.difficulty.score, reasons: call.difficulty.reasons, qualityTarget: call.difficulty.qualityTarget, threshold: call.difficulty.threshold } } : {}),
    model: primary,
    provider: providerOf(primary),
    fallbacks: choice.fallbacks,
    tier: choice.pick.tier,
    confidence: round(call.task.confidence),
    signals: [...(call.job ? [`job:${call.job.name}`] : []), ...signalList(call)],
    // A job found in the prompt chose the mode: say so before how the model was chosen.
    reason: call.job ? `${cap(JOBS[call.job.name].title)}: ${call.job.why}, so ${call.mode.name}. ${choice.reason}` : choice.reason,
    alternatives: choice.alternatives,
    estimate: { inputTokens, outputTokens, costUsd: round(callCost(primaryModel, inputTokens, outputTokens), 6) },
    ...(experiment ? { experiment } : {}),
    adjustments: choice.adjustments,
    decisionMs: ms(t0),
  });
}

const signalList = (call: Call) => [...signalNames(call.task.signals), ...(call.task.rule ? [`rule:${call.task.rule}`] : [])];
const unique = (xs: string[]) => [...new Set(xs)];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const ms = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000;
