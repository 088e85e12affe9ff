import { DESIGN_RE } from "./rules.js";
import type { Complexity, TaskType } from "../config/schema.js";
import type { Signals } from "./signals.js";

/** How much a task of each type tends to demand before the prompt says anything more. */
const BASE: Record<TaskType, number> = {
  coding: 1,
  code_review: 1,
  debugging: 1,
  math: 1,
  reasoning: 1,
  planning: 1,
  creative_writing: 1,
  summarization: 1,
  translation: 0,
  extraction: 0,
  simple_qa: 0,
  research: 2,
  analysis: 1,
};

const TECHNICAL = new Set<TaskType>(["coding", "code_review", "debugging", "math"]);

const DEPTH_RE =
  /\b(architect\w*|system design|scalab\w*|distributed|concurren\w*|trade-?offs?|rigorous\w*|in[- ]depth|comprehensive|exhaustive|production[- ]ready|end-to-end|optimi[sz]\w+|theorem|lemma|olympiad|formal(ly)? (proof|verification)|from first principles|multi-step|detailed (analysis|report|plan|comparison))\b/gi;
const LIGHT_RE = /\b(quick(ly)?|brief(ly)?|short|one (word|line|sentence)|simple|just (tell|give)|tl;?dr|yes or no)\b/i;

export interface ComplexityResult {
  complexity: Complexity;
  score: number;
  why: string[];
}

/**
 * A points system rather than a model: each point has a reason the decision can show,
 * and only prompts that stack several demands reach "complex" (and so a premium model).
 */
export function estimateComplexity(
  text: string,
  s: Signals,
  taskType: TaskType,
  contextTokens: number,
): ComplexityResult {
  const why: string[] = [];
  let score = BASE[taskType];
  const add = (n: number, reason: string) => {
    score += n;
    why.push(`${n > 0 ? "+" : ""}${n} ${reason}`);
  };
  if (s.greeting) return { complexity: "simple", score: -5, why: ["greeting"] };
  if (s.words > 500) add(2, "long prompt");
  else if (s.words > 180) add(1, "sizeable prompt");
  // Brevity means "easy" for a question or a rewrite, not for code or a proof.
  else if (s.words < 25 && !s.codeBlock && !TECHNICAL.has(taskType)) add(-1, "short prompt");
  const listItems = (text.match(/(^|\n)\s*(\d+[.)]|[-*•])\s+\S/g) ?? []).length;
  if (listItems >= 5 || s.questionCount >= 4) add(1, "many requirements");
  if (s.codeLines > 150) add(2, "large code");
  else if (s.codeLines > 50) add(1, "substantial code");
  const depth = new Set((text.slice(0, 6000).match(DEPTH_RE) ?? []).map((w) => w.toLowerCase())).size;
  if (depth >= 2) add(2, "asks for depth or rigour");
  else if (depth === 1) add(1, "asks for depth or rigour");
  if (s.intents.includes("prove")) add(1, "proof");
  // Designing a system is hard however briefly it is asked: several entities, trade-offs, failure modes.
  if ((taskType === "planning" || taskType === "coding") && DESIGN_RE.test(text.slice(0, 600))) add(3, "system or schema design");
  if (s.mathNotation) add(1, "formal notation");
  if (s.multipleChoice && s.words < 200) add(-1, "multiple choice");
  if (LIGHT_RE.test(text.slice(0, 400))) add(-1, "asks for a light answer");
  if (s.conversationTurns > 10) add(1, "long conversation");
  if (contextTokens > 50000) add(1, "large context");
  const complexity: Complexity = score <= 0 ? "simple" : score <= 2 ? "medium" : "complex";
  return { complexity, score, why };
}
