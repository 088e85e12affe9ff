import { TASK_TYPES, type DifficultyModel, type SwitchboardConfig, type TaskType, type TenantEntry } from "../config/schema.js";
import type { Signals } from "./signals.js";
import type { Task } from "./task.js";
import type { RouteInput } from "./types.js";

/**
 * Difficulty: a calibrated estimate (0 to 1) that an economy model's answer falls short where a
 * premium model's would not. A logistic regression over interpretable features that the router has
 * already computed (the task type, the prompt's signals and its complexity points) plus the prompt's
 * wording, as hashed word buckets (so the model holds numbers, never words); its numbers are learned
 * by scripts/train-difficulty.mjs from measured weak/strong outcomes and shipped in
 * config/difficulty.json (router.difficulty). Nothing here reads a file.
 */
export interface Difficulty {
  score: number;
  /** The features that pushed the score up most, in words. */
  reasons: string[];
}

/** Feature names, in the order the model's weights are written. Task types are one-hot. */
export const DIFFICULTY_FEATURES = [
  ...TASK_TYPES.map((t) => `task:${t}`),
  "logWords",
  "logCodeLines",
  "codeRatio",
  "mathNotation",
  "logMathTerms",
  "logNumbers",
  "wordProblem",
  "multipleChoice",
  "logQuestions",
  "depth",
  "nonEnglish",
  "stackTrace",
  "complexityPoints",
] as const;

/** What a feature that raises the score means, when its value is high or low. */
const WORDS: Record<string, { hi?: string; lo?: string }> = {
  logWords: { hi: "long prompt", lo: "short prompt" },
  logCodeLines: { hi: "much code", lo: "little code" },
  codeRatio: { hi: "mostly code", lo: "mostly prose" },
  mathNotation: { hi: "formal math notation" },
  logMathTerms: { hi: "math terms", lo: "no math terms" },
  logNumbers: { hi: "many numbers", lo: "few numbers" },
  wordProblem: { hi: "multi-step word problem", lo: "not a word problem" },
  multipleChoice: { hi: "multiple choice", lo: "open answer" },
  logQuestions: { hi: "several questions" },
  depth: { hi: "asks for depth or rigour" },
  nonEnglish: { hi: "not in English" },
  stackTrace: { hi: "error trace" },
  complexityPoints: { hi: "many complexity points", lo: "few complexity points" },
};

export interface DifficultyInput {
  taskType: TaskType;
  signals: Signals;
  /** The complexity estimate's points and their reasons (complexity.ts). */
  complexityPoints: number;
  complexityWhy: readonly string[];
  /** What is asked now (the prompt plus the last user turn), for the wording part; left out without it. */
  text?: string;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The wording features: the distinct buckets of the text's words, in order of first appearance. One
 * pass: a word is a run of ASCII letters and digits or non-ASCII characters, ASCII lowercased, and
 * hashed as it is read (32-bit FNV-1a over its UTF-16 code units) into one of `buckets` buckets.
 */
export function textBuckets(text: string, buckets: number): number[] {
  const seen = new Set<number>();
  eachWordBucket(text, buckets, (b) => seen.add(b));
  return [...seen];
}

/** Calls `visit` with the bucket of each word of the text, in order, repeats included (see textBuckets). */
function eachWordBucket(text: string, buckets: number, visit: (bucket: number) => void): void {
  let h = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 32;
    if (c >= 65 && c <= 90) c += 32;
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c >= 128) {
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
    } else if (inWord) {
      visit((h >>> 0) % buckets);
      h = FNV_OFFSET;
      inWord = false;
    }
  }
}

/** Which buckets the text being scored has shown so far: reused, so scoring builds no Set per call. */
let marks = new Uint8Array(0);

/** The wording part's contribution to the logit (0 when the model has none or there is no text). */
export function textLogit(m: DifficultyModel, text: string | undefined): number {
  if (!m.text || text === undefined) return 0;
  const { weights: w, buckets } = m.text;
  if (marks.length < buckets) marks = new Uint8Array(buckets);
  else marks.fill(0, 0, buckets);
  // Each distinct bucket once, in order of first appearance: the same sum as over textBuckets.
  let z = 0;
  eachWordBucket(text, buckets, (b) => {
    if (marks[b] === 0) {
      marks[b] = 1;
      z += w[b]!;
    }
  });
  return z;
}

/**
 * What the call asks now, as readPrompt (prompt.ts) reads it: the prompt plus the last user turn.
 * Repeated here so that scoring does not count tokens a second time.
 */
export function askedText(input: RouteInput): string {
  if (input.messages?.length) {
    const users = input.messages.filter((m) => m.role === "user" && m.content?.trim());
    return [input.prompt ?? "", users.at(-1)?.content ?? ""].filter(Boolean).join("\n\n") || input.messages.at(-1)!.content;
  }
  return input.prompt ?? "";
}

const l1p = Math.log1p;

/** The raw feature values, in DIFFICULTY_FEATURES order, from what the router already computed. */
export function difficultyFeatures(x: DifficultyInput): number[] {
  const s = x.signals;
  const v: number[] = TASK_TYPES.map((t) => (t === x.taskType ? 1 : 0));
  v.push(
    l1p(s.words),
    l1p(s.codeLines),
    s.codeRatio,
    s.mathNotation ? 1 : 0,
    l1p(s.mathTerms),
    l1p(s.numbers),
    s.wordProblem ? 1 : 0,
    s.multipleChoice ? 1 : 0,
    l1p(s.questionCount),
    x.complexityWhy.some((w) => w.includes("depth")) ? 1 : 0,
    s.nonEnglish ? 1 : 0,
    s.stackTrace ? 1 : 0,
    x.complexityPoints,
  );
  return v;
}

/** The model's raw logit for standardized features, before calibration. */
export function difficultyLogit(m: DifficultyModel, raw: number[]): number {
  let z = m.bias;
  for (let i = 0; i < m.weights.length; i++) z += m.weights[i]! * ((raw[i]! - m.mean[i]!) / m.scale[i]!);
  return z;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The calibrated score and its main reasons. */
export function scoreDifficulty(m: DifficultyModel, x: DifficultyInput): Difficulty {
  const raw = difficultyFeatures(x);
  const t = textLogit(m, x.text);
  const z = difficultyLogit(m, raw) + t;
  const score = sigmoid(m.calibration.a * z + m.calibration.b);
  const parts: Array<[number, string]> = [];
  // The wording is a reason in general terms only (the words themselves are not in the model), and
  // only when it stands out: its part varies more than a hand feature's (interquartile range about 0.9
  // on the outcomes data), so it needs 0.5 above the training mean, where about 3 prompts in 10 are.
  if (m.text && x.text !== undefined && t - m.text.center >= 0.5) parts.push([t - m.text.center, "wording like hard items"]);
  for (let i = 0; i < m.weights.length; i++) {
    const name = m.features[i]!;
    const dx = (raw[i]! - m.mean[i]!) / m.scale[i]!;
    const c = m.weights[i]! * dx;
    if (c < 0.1) continue;
    // A task type is a reason only when it is this prompt's, not because the prompt is not another.
    const label = name.startsWith("task:") ? (dx > 0 ? `${name.slice(5).replace("_", " ")} task` : undefined) : dx > 0 ? WORDS[name]?.hi : WORDS[name]?.lo;
    if (label) parts.push([c, label]);
  }
  parts.sort((a, b) => b[0] - a[0]);
  return { score: Math.round(score * 1000) / 1000, reasons: parts.slice(0, 3).map((p) => p[1]) };
}

const checked = new WeakMap<DifficultyModel, boolean>();

/** The model in force, or undefined when the config ships none or it was learned for other features. */
export function difficultyModel(cfg: SwitchboardConfig): DifficultyModel | undefined {
  const m = cfg.router.difficulty;
  if (!m) return undefined;
  let ok = checked.get(m);
  if (ok === undefined) {
    const n = DIFFICULTY_FEATURES.length;
    ok =
      m.features.length === n &&
      m.weights.length === n &&
      m.mean.length === n &&
      m.scale.length === n &&
      m.features.every((f, i) => f === DIFFICULTY_FEATURES[i]) &&
      (!m.text || m.text.weights.length === m.text.buckets);
    checked.set(m, ok);
  }
  return ok ? m : undefined;
}

/** A call's difficulty held against its operating point. */
export interface JudgedDifficulty extends Difficulty {
  /** The share of always-premium quality this call keeps: the call's, else the tenant's, else the router's. */
  qualityTarget: number;
  /** Scores at or above this go premium. */
  threshold: number;
  /** Whether the outcomes data covers this task type, so the score (not the task table) sets the tier. */
  applies: boolean;
  /** Applies, and the score is at or above the threshold. */
  premium: boolean;
}

export function judgeDifficulty(cfg: SwitchboardConfig, input: RouteInput, tenant: TenantEntry, task: Task): JudgedDifficulty | undefined {
  const m = difficultyModel(cfg);
  if (!m) return undefined;
  const d = scoreDifficulty(m, { taskType: task.taskType, signals: task.signals, complexityPoints: task.complexityPoints, complexityWhy: task.complexityWhy, text: askedText(input) });
  const qualityTarget = input.qualityTarget ?? tenant.qualityTarget ?? cfg.router.qualityTarget;
  const threshold = operatingPoint(m, qualityTarget).threshold;
  const applies = m.taskTypes.includes(task.taskType);
  // Spelled out rather than `{ ...d, qualityTarget, ... }`, which V8 builds on a slow path.
  return { score: d.score, reasons: d.reasons, qualityTarget, threshold, applies, premium: applies && d.score >= threshold };
}

/**
 * The premium threshold for a quality target (share of always-premium quality to keep): the
 * measured operating point with the least premium share that reaches it, else the best one.
 */
export function operatingPoint(m: DifficultyModel, qualityTarget: number): DifficultyModel["operatingPoints"][number] {
  const pts = m.operatingPoints;
  let best: (typeof pts)[number] | undefined;
  for (const p of pts) if (p.qualityTarget >= qualityTarget - 1e-9 && (!best || p.qualityTarget < best.qualityTarget)) best = p;
  return best ?? pts.reduce((a, b) => (b.qualityTarget > a.qualityTarget ? b : a));
}
