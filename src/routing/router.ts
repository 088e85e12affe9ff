import { TASK_TYPES, type SwitchboardConfig, type TaskType } from "../config/schema.js";
import { readCall } from "./call.js";
import { rankCandidates, scoreAdjustments } from "./candidates.js";
import { TaskClassifier, type Prediction } from "./classifier.js";
import { llmDecision, nonLlmDecision } from "./decision.js";
import { explain, listAlternatives } from "./explain.js";
import { chooseFallbacks, selectPrimary } from "./pick.js";
import { targetCostTier } from "./preferences.js";
import { classifyText } from "./task.js";
import type { Decision, DecisionTier, RouteContext, RouteInput } from "./types.js";
import { validate } from "./validate.js";

export { experimentArm } from "./experiments.js";

export interface Router {
  readonly config: SwitchboardConfig;
  readonly configVersion: string;
  readonly classifier: TaskClassifier;
  decide(input: RouteInput, ctx: RouteContext): Decision;
  /** Task type only (tiers 1-3), for evaluation. */
  classify(text: string): { taskType: TaskType; confidence: number; tier: DecisionTier; rule?: string; prediction?: Prediction };
}

export function trainingExamples(cfg: SwitchboardConfig) {
  return TASK_TYPES.flatMap((t) => cfg.tasks[t].examples.map((text) => ({ text, label: t })));
}

export function createRouter(cfg: SwitchboardConfig, configVersion: string, classifier?: TaskClassifier): Router {
  const clf = classifier ?? TaskClassifier.train(trainingExamples(cfg));
  const min = cfg.router.classifier.minConfidence;
  const classify = (text: string) => classifyText(clf, min, text);

  return {
    config: cfg,
    configVersion,
    classifier: clf,
    classify: (text) => {
      const { signals: _s, ...rest } = classify(text);
      return rest;
    },
    decide(input, ctx) {
      const t0 = performance.now();
      validate(input, cfg);
      const call = readCall(cfg, configVersion, classify, input, ctx);
      if (call.mode.entry.job !== "llm") return nonLlmDecision(call, t0);
      const cost = targetCostTier(cfg, call.task.taskType, call.task.complexity, input, call.mode.entry.maxCostTier, ctx, call.difficulty);
      const adjustments = scoreAdjustments(call);
      const selection = rankCandidates(call, cost.targetTier, adjustments);
      const pick = selectPrimary(call, selection.ranked);
      const { fallbacks, skipped } = chooseFallbacks(call, selection, pick);
      return llmDecision(
        call,
        {
          cost,
          pick,
          fallbacks,
          alternatives: listAlternatives(call, selection, pick.primary, cost.targetTier),
          reason: explain(call, pick, cost, selection.relaxed, adjustments, skipped),
          adjustments,
        },
        t0,
      );
    },
  };
}
