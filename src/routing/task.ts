import type { Complexity, TaskType } from "../config/schema.js";
import type { Prediction, TaskClassifier } from "./classifier.js";
import { estimateComplexity } from "./complexity.js";
import type { Prompt } from "./prompt.js";
import { applyRules } from "./rules.js";
import { detectSignals, type Signals } from "./signals.js";
import type { DecisionTier, RouteInput } from "./types.js";

/** What the prompt text reads as (tiers 2-3), with the signals it was read from. */
export interface Classified {
  taskType: TaskType;
  confidence: number;
  tier: "signals" | "classifier" | "default";
  rule?: string;
  prediction?: Prediction;
  signals: Signals;
}

/** Tier 2 (signal rules) first; the classifier (tier 3) only when no rule fires, "default" when it is unsure. */
export function classifyText(clf: TaskClassifier, minConfidence: number, text: string): Classified {
  const s = detectSignals(text);
  const rule = applyRules(text, s);
  if (rule) return { taskType: rule.taskType, confidence: rule.confidence, tier: "signals", rule: rule.rule, signals: s };
  const prediction = clf.predict(text, s);
  return {
    taskType: prediction.taskType,
    confidence: prediction.confidence,
    tier: prediction.confidence >= minConfidence ? "classifier" : "default",
    prediction,
    signals: s,
  };
}

export interface Task {
  taskType: TaskType;
  tier: DecisionTier;
  confidence: number;
  rule?: string;
  /** The prompt's signals, with the conversation's turn count filled in. */
  signals: Signals;
  complexity: Complexity;
  /** The complexity estimate's points and reasons, which the difficulty score reads. */
  complexityPoints: number;
  complexityWhy: string[];
}

/** Tier 1: a taskType the caller names beats what the text reads as. Complexity is judged for the task that wins. */
export function classifyTask(input: RouteInput, prompt: Prompt, cls: Classified): Task {
  const s = cls.signals;
  // The signals were read from one text; the turn count is the whole conversation's.
  s.conversationTurns = prompt.turns;
  const taskType: TaskType = input.taskType ?? cls.taskType;
  const cx = estimateComplexity(prompt.text, s, taskType, prompt.extraTokens);
  return {
    taskType,
    tier: input.taskType ? "explicit" : cls.tier,
    confidence: input.taskType ? 1 : cls.confidence,
    rule: cls.rule,
    signals: s,
    complexity: cx.complexity,
    complexityPoints: cx.score,
    complexityWhy: cx.why,
  };
}
