import type { TaskType } from "../config/schema.js";
import { instructionPart, type Signals } from "./signals.js";

export interface RuleMatch {
  taskType: TaskType;
  confidence: number;
  rule: string;
}

const NATURAL_LANGUAGES =
  "english|spanish|french|german|italian|portuguese|dutch|swedish|norwegian|danish|finnish|polish|czech|slovak|hungarian|romanian|bulgarian|greek|turkish|russian|ukrainian|arabic|hebrew|persian|farsi|urdu|hindi|bengali|punjabi|tamil|telugu|marathi|gujarati|nepali|sinhala|sinhalese|thai|vietnamese|indonesian|malay|tagalog|filipino|chinese|mandarin|cantonese|japanese|korean|swahili|yoruba|zulu|amharic|latin|esperanto|catalan|basque|galician|irish|welsh|icelandic|estonian|latvian|lithuanian|croatian|serbian|slovenian|albanian|armenian|georgian|kazakh|uzbek|mongolian|burmese|khmer|lao";
const LANG_TARGET_RE = new RegExp(
  String.raw`\b(in|into|to|from)\s+(the\s+)?(${NATURAL_LANGUAGES})(\s+language)?\b|\b(${NATURAL_LANGUAGES})\s+(translation|version|equivalent)\b|\b(${NATURAL_LANGUAGES})\s*(->|→|to)\s*(${NATURAL_LANGUAGES})\b`,
  "i",
);
const CODE_TRANSLATE_RE =
  /\b(python|javascript|typescript|java|c\+\+|c#|golang|rust|ruby|php|kotlin|swift|scala|sql|bash|code|function|program|script|roman numerals?|morse|binary|json|xml|yaml|csv)\b/i;

/** Designing a system, a schema or a migration: planning, however short the request. */
export const DESIGN_RE =
  /^\s*(?:(?:can|could|would) you (?:help (?:me )?)?|please |help me |i (?:need|want|have) (?:you )?to |let's |we need to |how (?:would|should|do|can) (?:i|we|you) )?(?:design|architect|plan out|lay out|propose|sketch out|draw up)\w*\b[^.?!\n]{0,50}\b(?:(?:database|db|data|relational|sql) (?:schema|model|layout)|schemas?|architecture|system|microservices?|apis?|data pipeline|pipeline|migration(?: plan| path)?|infrastructure|backend|platform|service mesh|event[- ]driven|sharding|replication|caching (?:layer|strategy))\b|^\s*\w*[^.?!\n]{0,20}\bsystem design\b|^\s*how (?:would|should|do|can) (?:i|we|you) (?:design|architect|scale)\b|^\s*(?:design|architect)\w*\b[^.?!\n]{0,80}\b(?:per second|rps|qps|at scale|million (?:users|requests)|high availability|fault[- ]tolerant|horizontally scalable)\b|^\s*(?:(?:can|could) you |please |help me |how (?:would|should|do|can) (?:i|we) )?(?:migrate|plan (?:a|the|our) migration)\b[^.?!\n]{0,50}\bfrom\b[^.?!\n]{0,40}\bto\b[^.?!\n]{0,40}\b(?:architecture|database|postgres\w*|mysql|cluster|kubernetes|microservices|cloud|aws|gcp|azure)\b/i;

const DOCSTRING_STUB_RE =
  /^\s*(from\s+\S+\s+import[^\n]*\n|import[^\n]*\n|#include[^\n]*\n|package[^\n]*\n|using[^\n]*\n|\s*\n)*\s*(def |function |public |static |func |fn |const \w+ = \(|\/\*|\/\/|template\s*<|[\w<>[\],\s*&:]+\s+\w+\s*\([^)]*\)\s*\{)/;

/**
 * Tier 2: signals sharp enough to decide the task type without the classifier.
 * Each rule is written to be precise rather than to catch everything; whatever they
 * leave goes to the classifier, which also sees the signals as features.
 */
export function applyRules(text: string, s: Signals): RuleMatch | null {
  const head = instructionPart(text);
  const has = (i: Signals["intents"][number]) => s.intents.includes(i);
  const hasCode = s.codeBlock || s.codeLines >= 3;

  if (s.greeting) return { taskType: "simple_qa", confidence: 0.95, rule: "greeting" };

  if (s.arithmeticOnly && !hasCode) return { taskType: "math", confidence: 0.93, rule: "arithmetic expression" };

  // Code with a recorded error, or code plus an explicit request to fix it.
  if (hasCode && s.stackTrace) return { taskType: "debugging", confidence: 0.93, rule: "code with a stack trace or error output" };
  if (hasCode && has("fix")) return { taskType: "debugging", confidence: 0.9, rule: "code with a request to fix it" };
  if (s.stackTrace && s.errorWords && !has("translate")) {
    return { taskType: "debugging", confidence: 0.85, rule: "error output with a question about it" };
  }

  // A bare function signature with its docstring: the benchmark form of "complete this code".
  // (A stub is one signature line plus a docstring, so it is recognized by shape, not by code-line count.)
  if (!s.stackTrace && !has("fix") && s.codeLines <= 8 && isCompletionStub(text)) {
    return { taskType: "coding", confidence: 0.9, rule: "function stub to complete" };
  }

  if (hasCode && has("review") && !s.errorWords && !s.stackTrace) {
    return { taskType: "code_review", confidence: 0.86, rule: "code with a request to review or improve it" };
  }

  if (has("translate") && !CODE_TRANSLATE_RE.test(head) && (LANG_TARGET_RE.test(head) || s.nonEnglish)) {
    return { taskType: "translation", confidence: 0.92, rule: "request to translate into a natural language" };
  }

  const asksQuestion = /\bquestion\s*:|\banswer (the|this) question\b/i.test(head);
  if (has("extract") && !hasCode && (s.passage || s.words > 60 || asksQuestion)) {
    return { taskType: "extraction", confidence: 0.86, rule: "request to extract from a given text" };
  }

  if (has("summarize") && (s.passage || s.words > 120) && !hasCode && !asksQuestion) {
    return { taskType: "summarization", confidence: 0.88, rule: "request to summarize a given text" };
  }

  if (has("classify") && !hasCode && !has("write_code") && !has("plan") && !has("write_creative")) {
    return { taskType: "analysis", confidence: 0.82, rule: "request to classify a given text" };
  }

  if (s.wordProblem && !hasCode && !s.programming && !has("write_code") && !has("plan")) {
    return { taskType: "math", confidence: 0.85, rule: "word problem asking for a quantity" };
  }

  // Math written in another language: the learned model has few such examples, the vocabulary is sharp.
  if (s.nonEnglish && s.mathTerms >= 1 && (s.numbers >= 1 || s.mathTerms >= 2) && !hasCode && !s.programming && !has("write_code") && !has("translate")) {
    return { taskType: "math", confidence: 0.78, rule: "mathematical problem in another language" };
  }

  // A design or architecture request is planning at any length ("Design the schema for a billing system").
  if (DESIGN_RE.test(head) && !hasCode && !s.examItem && !has("translate") && !has("summarize") && !has("write_creative")) {
    return { taskType: "planning", confidence: 0.84, rule: "request to design a system, schema or migration" };
  }

  if (has("write_creative") && !hasCode && !has("write_code") && !has("translate") && !has("summarize")) {
    return { taskType: "creative_writing", confidence: 0.85, rule: "request to write a story, poem, song or script" };
  }

  // A four-option exam item with no mathematics in it tests recall of a fact.
  if (s.examItem && s.mathTerms === 0 && !s.mathNotation && !s.wordProblem && s.numbers < 4 && !hasCode && !/\b(logic|logically|argument|valid|premise|conclusion|symboli[sz]ation|propositions?|truth table|predicate)\b/i.test(head)) {
    return { taskType: "simple_qa", confidence: 0.8, rule: "exam question testing knowledge" };
  }

  if (s.passage && s.multipleChoice && !hasCode && !s.wordProblem) {
    return { taskType: "reasoning", confidence: 0.72, rule: "passage with answer options to infer from" };
  }

  return null;
}

function isCompletionStub(text: string): boolean {
  if (!DOCSTRING_STUB_RE.test(text)) return false;
  // Everything outside code comments/docstrings is code: no prose request around it.
  const firstLine = text.trim().split("\n")[0] ?? "";
  if (/^[A-Z][a-z]+ [a-z]+ [a-z]+/.test(firstLine) && !/^(def|function|public|static|func|fn|const|import|from|package|using)\b/.test(firstLine)) {
    return false;
  }
  return /("""|'''|\/\*\*|\/\/|#)/.test(text);
}
