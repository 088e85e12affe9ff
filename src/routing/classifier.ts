import { TASK_TYPES, type TaskType } from "../config/schema.js";
import { detectSignals, type Signals } from "./signals.js";
import { tokenize, window } from "./text.js";

/**
 * Tier 3: a multinomial logistic regression over words, word pairs, character 4-grams of the
 * prompt's opening and closing, its first and last words and the tier-2 signals, trained at start-up from the example prompts in config.
 * Probabilities are calibrated with a temperature fitted by cross-validation, so
 * "confidence 0.8" means roughly "right four times in five" on prompts it has not seen.
 */
export interface Prediction {
  taskType: TaskType;
  confidence: number;
  /** Top classes with their probabilities, best first. */
  ranked: Array<{ taskType: TaskType; p: number }>;
}

export interface TrainingExample {
  text: string;
  label: TaskType;
}

export interface SerializedClassifier {
  format: 4;
  examplesHash: string;
  stats: ClassifierStats;
  temperature: number;
  features: number[];
  weights: number[];
  bias: number[];
}

export interface ClassifierStats {
  examples: number;
  features: number;
  temperature: number;
  /** null when training skipped calibration. */
  crossValidatedAccuracy: number | null;
  trainMs: number;
}

const C = TASK_TYPES.length;
const EPOCHS = 20;
const L2 = 2e-4;
const LR = 0.5;

/** 30-bit FNV-1a of a string, continuing from `h` (so a prefix can be hashed once). */
function fnv(str: string, h = 0x811c9dc5): number {
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 0x01000193);
  return h & SMI_MASK;
}
// 30 bits keeps hashes in V8's small-integer range, so Map keys need no heap allocation.
const SMI_MASK = 0x3fffffff;
const SEED = { char: fnv("c:"), word: fnv("w:"), pair: fnv("b:"), lead: [fnv("f0:"), fnv("f1:"), fnv("f2:")], tail: [fnv("l0:"), fnv("l1:"), fnv("l2:")], signal: fnv("s:") };
const mix = (a: number, b: number) => (Math.imul(a ^ (b >>> 15), 0x2c1b3c6d) ^ Math.imul(b, 0x297a2d39)) & SMI_MASK;

/**
 * Sparse features keyed by 30-bit hashes: words, word pairs, character 4-grams of the opening
 * and closing, the first and last three words, and the tier-2 signals. Hashing avoids building thousands of strings per prompt; with
 * ~10^4 features in use, collisions are negligible.
 */
export function featurize(text: string, signals?: Signals): Map<number, number> {
  const bag = collect(text, signals);
  const f = new Map<number, number>();
  for (let i = 0; i < bag.size; i++) f.set(bag.keyAt(i), bag.valueAt(i));
  return f;
}

/** The prompt's features, counted and normalized, in the bag shared by every call (see FeatureBag). */
function collect(text: string, signals?: Signals): FeatureBag {
  const win = window(text);
  const s = signals ?? detectSignals(text);
  const toks = tokenize(win);
  const f = BAG;
  f.clear();
  let prev = -1;
  for (let i = 0; i < toks.length; i++) {
    const h = fnv(toks[i]!);
    f.add(mix(SEED.word, h), 1);
    if (prev >= 0) f.add(mix(mix(SEED.pair, prev), h), 1);
    prev = h;
  }
  // Where a prompt starts and ends says a lot about what it asks.
  const isWord = (t: string) => t !== "<num>" && LETTER_RE.test(t);
  for (let i = 0, n = 0; i < toks.length && n < 3; i++) if (isWord(toks[i]!)) f.add(fnv(toks[i]!, SEED.lead[n++]!), 2);
  for (let i = toks.length - 1, n = 0; i >= 0 && n < 3; i--) if (isWord(toks[i]!)) f.add(fnv(toks[i]!, SEED.tail[n++]!), 1);
  for (const k of signalFeatures(s)) f.add(fnv(k, SEED.signal), 3);
  charGrams(win, f);
  f.normalize();
  return f;
}

/**
 * Feature counts keyed by 30-bit hashes: an open-addressing table (Int32Array keys, -1 empty) that
 * remembers the order keys first came in, reused from one prompt to the next. A Map per prompt cost
 * more than the rest of the prediction: hundreds of insertions, then growth and garbage.
 * Sums, weights and norm are computed exactly as they were over the Map, in the same order, so
 * features, and the model trained on them, come out bit for bit the same.
 */
class FeatureBag {
  private keys = new Int32Array(1 << 12).fill(-1);
  private sums = new Float64Array(1 << 12);
  /** The slot of each distinct key, in the order keys were first added. */
  private slots = new Int32Array(1 << 12);
  /** 32 minus log2 of the table's size: a key's slot is the top bits of its Fibonacci hash. */
  private shift = 20;
  size = 0;

  clear(): void {
    for (let i = 0; i < this.size; i++) this.keys[this.slots[i]!] = -1;
    this.size = 0;
  }

  add(key: number, v: number): void {
    const mask = this.keys.length - 1;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = this.keys[slot]!;
      if (k === key) {
        this.sums[slot]! += v;
        return;
      }
      if (k === -1) break;
      slot = (slot + 1) & mask;
    }
    this.keys[slot] = key;
    this.sums[slot] = 0 + v; // as `(map.get(k) ?? 0) + v` did
    this.slots[this.size++] = slot;
    if (this.size * 2 > this.keys.length) this.grow();
  }

  /** Sub-linear counts, then unit length, so long prompts don't drown short ones. */
  normalize(): void {
    let norm = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = this.slots[i]!;
      const w = sublinear(this.sums[slot]!);
      this.sums[slot] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < this.size; i++) this.sums[this.slots[i]!]! /= norm;
  }

  keyAt(i: number): number {
    return this.keys[this.slots[i]!]!;
  }

  valueAt(i: number): number {
    return this.sums[this.slots[i]!]!;
  }

  private grow(): void {
    const { keys, sums, slots, size } = this;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.sums = new Float64Array(keys.length * 2);
    this.slots = new Int32Array(keys.length * 2);
    this.shift--;
    this.size = 0;
    for (let i = 0; i < size; i++) this.add(keys[slots[i]!]!, sums[slots[i]!]!);
  }
}

const BAG = new FeatureBag();
const LETTER_RE = /\p{L}/u;

const CHAR_WEIGHT = 0.6;

/**
 * 1 + ln(count), with the two counts most features have (a word seen once, a 4-gram seen once)
 * looked up rather than computed: the same values, since Math.log gives one result for one input.
 */
const GRAM_ONCE = 1 + Math.log(CHAR_WEIGHT);
const sublinear = (v: number) => (v === 1 ? 1 : v === CHAR_WEIGHT ? GRAM_ONCE : 1 + Math.log(v));
const CHAR_HEAD = 160;
const CHAR_TAIL = 80;
const CHAR_N = 4;

/**
 * Character n-grams of the prompt's opening and closing words (where it says what it wants):
 * they carry word stems and inflections across phrasing and languages ("rewrit", "pretend", "erzähl").
 */
/** charGrams' letters, reused from one prompt to the next. */
let gramBuf = new Int32Array(512);

function charGrams(win: string, bag: FeatureBag): void {
  const text = win.length <= CHAR_HEAD + CHAR_TAIL ? win : win.slice(0, CHAR_HEAD) + " " + win.slice(-CHAR_TAIL);
  // Letters only, lower-cased, with one space for any run of other characters.
  const lower = text.toLowerCase();
  if (gramBuf.length < lower.length + 1) gramBuf = new Int32Array(lower.length + 1);
  const buf = gramBuf;
  let n = 0;
  buf[n++] = 32;
  let prevSpace = true;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    const letter = (c >= 97 && c <= 122) || c >= 0xc0;
    if (!letter && prevSpace) continue;
    buf[n++] = letter ? c : 32;
    prevSpace = !letter;
  }
  for (let i = 0; i + CHAR_N <= n; i++) {
    if (buf[i + 1] === 32 && buf[i + 2] === 32) continue;
    let h = SEED.char;
    for (let k = 0; k < CHAR_N; k++) h = Math.imul(h ^ buf[i + k]!, 0x01000193);
    bag.add(h & SMI_MASK, CHAR_WEIGHT);
  }
}

function signalFeatures(s: Signals): string[] {
  const out: string[] = [];
  const bucket = s.words < 12 ? "xs" : s.words < 40 ? "s" : s.words < 150 ? "m" : s.words < 600 ? "l" : "xl";
  out.push("len:" + bucket);
  if (s.codeBlock || s.codeLines >= 3) out.push("code");
  if (s.codeRatio > 0.5) out.push("mostly_code");
  if (s.stackTrace) out.push("stack");
  if (s.errorWords) out.push("error_words");
  if (s.passage) out.push("passage");
  if (s.multipleChoice) out.push("mc");
  if (s.answerSlot) out.push("answer_slot");
  if (s.examItem) out.push("exam_item");
  if (s.mathNotation) out.push("math_notation");
  if (s.wordProblem) out.push("word_problem");
  if (s.factoid) out.push("factoid");
  if (s.mathTerms >= 2) out.push("math_terms");
  if (s.programming) out.push("programming");
  if (s.passage && s.multipleChoice) out.push("passage_mc");
  if (s.passage && !s.multipleChoice && s.questionCount > 0) out.push("passage_q");
  if (s.numbers >= 3) out.push("numbers");
  if (s.nonEnglish) out.push("non_english");
  if (s.shortQuestion) out.push("short_q");
  if (s.fileNames.length) out.push("files");
  for (const i of s.intents) out.push("intent:" + i);
  return out;
}

interface Model {
  /** Each feature's hash, by feature number (distinct: the training index's keys in order). */
  features: Int32Array;
  weights: Float64Array; // feature-major: weights[f * C + c]
  bias: Float64Array;
  temperature: number;
}

type Encoded = { idx: Int32Array; val: Float64Array; label: number };

function encode(feats: Map<number, number>, index: Map<number, number>, grow: boolean): { idx: Int32Array; val: Float64Array } {
  const idx: number[] = [];
  const val: number[] = [];
  for (const [k, v] of feats) {
    let i = index.get(k);
    if (i === undefined) {
      if (!grow) continue;
      i = index.size;
      index.set(k, i);
    }
    idx.push(i);
    val.push(v);
  }
  return { idx: Int32Array.from(idx), val: Float64Array.from(val) };
}

function logits(m: Pick<Model, "weights" | "bias">, idx: Int32Array, val: Float64Array, out: Float64Array): void {
  out.set(m.bias);
  for (let j = 0; j < idx.length; j++) {
    const base = idx[j]! * C;
    const v = val[j]!;
    for (let c = 0; c < C; c++) out[c]! += m.weights[base + c]! * v;
  }
}

/**
 * Logits straight from a prompt's features: what `logits` computes over `encode`'s arrays, in the
 * same order (the bag's), without building them. Features the model does not know are skipped.
 */
function bagLogits(m: Pick<Model, "weights" | "bias">, index: FeatureIndex, bag: FeatureBag, out: Float64Array): void {
  if (C === 13) return bagLogits13(m, index, bag, out);
  out.set(m.bias);
  for (let j = 0; j < bag.size; j++) {
    const i = index.get(bag.keyAt(j));
    if (i < 0) continue;
    const base = i * C;
    const v = bag.valueAt(j);
    for (let c = 0; c < C; c++) out[c]! += m.weights[base + c]! * v;
  }
}

/**
 * bagLogits for 13 classes (the task types today), one local per class. V8 keeps locals in
 * registers, where `out[c] += ...` loads and stores a typed-array element for each class of each
 * feature: that loop took as long as the rest of a prediction. Each logit still adds its features
 * in bag order, so every value is bit for bit the loop's; another number of classes takes the loop.
 */
function bagLogits13(m: Pick<Model, "weights" | "bias">, index: FeatureIndex, bag: FeatureBag, out: Float64Array): void {
  const w = m.weights;
  const b = m.bias;
  let z0 = b[0]!, z1 = b[1]!, z2 = b[2]!, z3 = b[3]!, z4 = b[4]!, z5 = b[5]!, z6 = b[6]!;
  let z7 = b[7]!, z8 = b[8]!, z9 = b[9]!, z10 = b[10]!, z11 = b[11]!, z12 = b[12]!;
  for (let j = 0; j < bag.size; j++) {
    const i = index.get(bag.keyAt(j));
    if (i < 0) continue;
    const r = i * 13;
    const v = bag.valueAt(j);
    z0 += w[r]! * v;
    z1 += w[r + 1]! * v;
    z2 += w[r + 2]! * v;
    z3 += w[r + 3]! * v;
    z4 += w[r + 4]! * v;
    z5 += w[r + 5]! * v;
    z6 += w[r + 6]! * v;
    z7 += w[r + 7]! * v;
    z8 += w[r + 8]! * v;
    z9 += w[r + 9]! * v;
    z10 += w[r + 10]! * v;
    z11 += w[r + 11]! * v;
    z12 += w[r + 12]! * v;
  }
  out[0] = z0;
  out[1] = z1;
  out[2] = z2;
  out[3] = z3;
  out[4] = z4;
  out[5] = z5;
  out[6] = z6;
  out[7] = z7;
  out[8] = z8;
  out[9] = z9;
  out[10] = z10;
  out[11] = z11;
  out[12] = z12;
}

/**
 * The model's feature index (hash to feature number) as an open-addressing table, each key beside
 * its number in one Int32Array, at a load of at most 0.65: a lookup reads one cache line, where
 * Map.get over some 40k entries cost more than the rest of a prediction. Built with the classifier,
 * from its feature list, in a few milliseconds.
 */
class FeatureIndex {
  private readonly table: Int32Array;
  private readonly shift: number;
  private readonly mask: number;

  constructor(features: ArrayLike<number>) {
    let bits = 1;
    while (1 << bits < features.length / 0.65) bits++;
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.table = new Int32Array(2 << bits).fill(-1);
    for (let i = 0; i < features.length; i++) {
      const key = features[i]!;
      let slot = this.slotOf(key);
      while (this.table[2 * slot] !== -1) slot = (slot + 1) & this.mask;
      this.table[2 * slot] = key;
      this.table[2 * slot + 1] = i;
    }
  }

  /** The feature's number, or -1 when the model does not have it. */
  get(key: number): number {
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & this.mask) {
      const k = this.table[2 * slot]!;
      if (k === key) return this.table[2 * slot + 1]!;
      if (k === -1) return -1;
    }
  }

  private slotOf(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }
}

function softmax(z: Float64Array, temperature: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[c]! / temperature);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(z[c]! / temperature - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) out[c]! /= sum;
}

/** AdaGrad SGD; deterministic (fixed shuffle seed) so the same examples give the same model. */
function fit(data: Encoded[], features: number): Pick<Model, "weights" | "bias"> {
  const weights = new Float64Array(features * C);
  const bias = new Float64Array(C);
  const gsq = new Float64Array(features * C).fill(1e-8);
  const bsq = new Float64Array(C).fill(1e-8);
  const z = new Float64Array(C);
  const p = new Float64Array(C);
  const order = data.map((_, i) => i);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const n of order) {
      const ex = data[n]!;
      logits({ weights, bias }, ex.idx, ex.val, z);
      softmax(z, 1, p);
      for (let c = 0; c < C; c++) {
        const g = (p[c] = p[c]! - (c === ex.label ? 1 : 0));
        bsq[c]! += g * g;
        bias[c]! -= (LR * g) / Math.sqrt(bsq[c]!);
      }
      // Feature-major, so each feature's C weights are updated side by side in memory.
      for (let j = 0; j < ex.idx.length; j++) {
        const base = ex.idx[j]! * C;
        const v = ex.val[j]!;
        for (let c = 0; c < C; c++) {
          const w = base + c;
          const gw = p[c]! * v + L2 * weights[w]!;
          gsq[w]! += gw * gw;
          weights[w]! -= (LR * gw) / Math.sqrt(gsq[w]!);
        }
      }
    }
  }
  return { weights, bias };
}

export class TaskClassifier {
  /** The model's features as predict looks them up. */
  private readonly lookup: FeatureIndex;

  private constructor(
    private readonly model: Model,
    readonly stats: ClassifierStats,
  ) {
    this.lookup = new FeatureIndex(model.features);
  }

  static train(examples: TrainingExample[], opts: { calibrate?: boolean } = {}): TaskClassifier {
    const t0 = performance.now();
    const labelOf = new Map(TASK_TYPES.map((t, i) => [t, i]));
    const feats = examples.map((e) => featurize(e.text));
    pruneRare(feats);
    const index = new Map<number, number>();
    const data: Encoded[] = feats.map((f, n) => ({ ...encode(f, index, true), label: labelOf.get(examples[n]!.label)! }));

    let temperature = 1;
    let cvAccuracy: number | null = null;
    if (opts.calibrate !== false && data.length >= 5 * C) {
      ({ temperature, accuracy: cvAccuracy } = crossValidate(feats, data));
    }
    const { weights, bias } = fit(data, index.size);
    const model: Model = { features: Int32Array.from(index.keys()), weights, bias, temperature };
    return new TaskClassifier(model, {
      examples: examples.length,
      features: index.size,
      temperature,
      crossValidatedAccuracy: cvAccuracy,
      trainMs: Math.round(performance.now() - t0),
    });
  }

  /** A compact snapshot (weights rounded to 5 decimals) so start-up can skip training. */
  toJSON(examplesHash: string): SerializedClassifier {
    return {
      format: 4,
      examplesHash,
      stats: this.stats,
      temperature: this.model.temperature,
      features: Array.from(this.model.features),
      weights: Array.from(this.model.weights, (w) => Math.round(w * 1e5) / 1e5),
      bias: Array.from(this.model.bias),
    };
  }

  /** From arrays already typed (the build's binary snapshot): they are used as they are, not copied. */
  static fromArrays(a: { features: Int32Array; weights: Float64Array; bias: Float64Array; temperature: number }, stats: ClassifierStats): TaskClassifier {
    return new TaskClassifier(a, stats);
  }

  static fromJSON(s: SerializedClassifier): TaskClassifier {
    return new TaskClassifier(
      { features: Int32Array.from(s.features), weights: Float64Array.from(s.weights), bias: Float64Array.from(s.bias), temperature: s.temperature },
      s.stats,
    );
  }

  predict(text: string, signals?: Signals): Prediction {
    const z = new Float64Array(C);
    const p = new Float64Array(C);
    bagLogits(this.model, this.lookup, collect(text, signals), z);
    softmax(z, this.model.temperature, p);
    const ranked = TASK_TYPES.map((t, c) => ({ taskType: t, p: p[c]! })).sort((a, b) => b.p - a.p);
    return { taskType: ranked[0]!.taskType, confidence: ranked[0]!.p, ranked: ranked.slice(0, 4) };
  }
}

/** A feature seen in a single example can only memorize it; dropping those halves the model. */
function pruneRare(feats: Map<number, number>[]): void {
  const df = new Map<number, number>();
  for (const f of feats) for (const k of f.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  for (const f of feats) for (const k of f.keys()) if (df.get(k)! < 2) f.delete(k);
}

/**
 * 4-fold cross-validation: the held-out logits give both an honest accuracy and the
 * temperature that minimizes their negative log-likelihood.
 */
function crossValidate(feats: Map<number, number>[], all: Encoded[]): { temperature: number; accuracy: number } {
  const K = 4;
  const held: Array<{ z: Float64Array; label: number }> = [];
  for (let k = 0; k < K; k++) {
    const index = new Map<number, number>();
    const train: Encoded[] = [];
    const testIdx: number[] = [];
    all.forEach((ex, n) => {
      if (n % K === k) testIdx.push(n);
      else train.push({ ...encode(feats[n]!, index, true), label: ex.label });
    });
    const m = fit(train, index.size);
    for (const n of testIdx) {
      const { idx, val } = encode(feats[n]!, index, false);
      const z = new Float64Array(C);
      logits(m, idx, val, z);
      held.push({ z, label: all[n]!.label });
    }
  }
  let correct = 0;
  for (const h of held) {
    let best = 0;
    for (let c = 1; c < C; c++) if (h.z[c]! > h.z[best]!) best = c;
    if (best === h.label) correct++;
  }
  const p = new Float64Array(C);
  const nll = (t: number) => {
    let s = 0;
    for (const h of held) {
      softmax(h.z, t, p);
      s -= Math.log(Math.max(p[h.label]!, 1e-12));
    }
    return s;
  };
  let bestT = 1;
  let bestNll = Infinity;
  for (let t = 0.3; t <= 4; t += 0.1) {
    const v = nll(t);
    if (v < bestNll) [bestNll, bestT] = [v, t];
  }
  return { temperature: Math.round(bestT * 100) / 100, accuracy: correct / held.length };
}
