// Learns the router's difficulty score from measured weak/strong outcomes and writes the numbers
// (never the prompts) to config/difficulty.json, where the router reads them as router.difficulty.
//
//   npm run train:difficulty [-- path/to/routing-outcomes-dev.jsonl] [--dry-run] [--label weak|strict|gain]
//     [--l2 4] [--l2-text 50] [--buckets 2048] [--keep feature,feature] [--drop feature,feature|task]
//     [--no-text] [--per-source-intercepts] [--cache features.json]
//
// The features are the router's own (dist/routing/difficulty.js reads the signals, task type and
// complexity points a decision has already computed, and hashes the prompt's words into buckets), so
// run `npm run build` first. Measured source-held-out: train on three source families, score the
// fourth, for each of the four.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig, PACKAGE_ROOT } from "../dist/config/load.js";
import { loadOrTrainClassifier } from "../dist/routing/classifier-cache.js";
import { DIFFICULTY_FEATURES, difficultyFeatures, textBuckets } from "../dist/routing/difficulty.js";
import { deferralCurve, operatingPoints } from "../dist/routing/evaluate.js";
import { readPrompt } from "../dist/routing/prompt.js";
import { classifyTask, classifyText } from "../dist/routing/task.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const VALUED = new Set(["--label", "--l2", "--l2-text", "--buckets", "--keep", "--drop", "--cache"]);
// Development only: keep the computed features in a file between runs (never commit it).
const cacheFile = flag("cache");
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && VALUED.has(args[i - 1])));
const file = resolve(positional[0] ?? join(PACKAGE_ROOT, "..", "shared", "data", "routing-outcomes-dev.jsonl"));
const dryRun = args.includes("--dry-run");
// The label: weak = the economy model's answer was wrong. It ranks best source-held-out; the strict
// label (weak wrong and strong right) is what the shipped score is calibrated to.
const labelKind = flag("label") ?? "weak";
// L2 penalties: on the standardized hand features, and on the wording buckets (0/1 each).
const L2 = Number(flag("l2") ?? 4);
const L2_TEXT = Number(flag("l2-text") ?? 50);
const useText = !args.includes("--no-text");
const BUCKETS = Number(flag("buckets") ?? 2048);
// Hand features kept (the rest have weight fixed at 0), or left out: comma-separated names. By
// default only the prompt's length is kept beside the wording: the other hand features measured no
// better source-held-out (their weights learn which benchmark a prompt is from, not how hard it is).
const keep = new Set((flag("keep") ?? "logWords").split(",").filter(Boolean));
const drop = new Set((flag("drop") ?? "").split(",").filter(Boolean));
const OUT = join(PACKAGE_ROOT, "config", "difficulty.json");

const FAMILIES = ["mmlu", "routerbench", "debugbench", "gsm8k"];
const familyOf = (source) => source.split(":")[0];

/**
 * RouterBench sends a fixed few-shot block before each ARC and WinoGrande item; the router is used
 * on prompts without a benchmark harness, so only the item itself (the last block) is read, as the
 * routing dev set does. Everything else is read as the benchmark sent it.
 */
const FEW_SHOT_SEP = "\n\nPlease answer with the letter of the correct answer.\n\n";
function promptOf(r) {
  if (familyOf(r.source) === "routerbench" && r.prompt.includes(FEW_SHOT_SEP)) {
    const parts = r.prompt.split(FEW_SHOT_SEP);
    return "Please answer with the letter of the correct answer.\n\n" + parts.at(-1);
  }
  return r.prompt;
}

// ---- features, through the router's own path ----
const t0 = performance.now();
const { config } = loadConfig({ env: {} });
const { classifier } = loadOrTrainClassifier(config);
const min = config.router.classifier.minConfidence;
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const cached = cacheFile && existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, "utf8")) : undefined;
const data = cached?.buckets === BUCKETS ? cached.data : rows.map((r) => {
  const input = { prompt: promptOf(r) };
  const prompt = readPrompt(input);
  const task = classifyTask(input, prompt, classifyText(classifier, min, prompt.text));
  const x = difficultyFeatures({ taskType: task.taskType, signals: task.signals, complexityPoints: task.complexityPoints, complexityWhy: task.complexityWhy });
  // The same words the router hashes: what is asked now (promptOf's text, a single prompt).
  const b = textBuckets(prompt.text, BUCKETS);
  return { x, b, family: familyOf(r.source), weak: !!r.weakCorrect, strong: !!r.strongCorrect, taskType: task.taskType };
});
if (cacheFile && cached?.buckets !== BUCKETS) writeFileSync(cacheFile, JSON.stringify({ buckets: BUCKETS, data }));
process.stderr.write(`features for ${data.length} prompts in ${Math.round(performance.now() - t0)} ms\n`);

/** The training target: strict = weak wrong and strong right; gain = (strong - weak + 1) / 2; weak = weak wrong. */
const target = (d) => (labelKind === "gain" ? (Number(d.strong) - Number(d.weak) + 1) / 2 : labelKind === "weak" ? Number(!d.weak) : Number(!d.weak && d.strong));

const F = DIFFICULTY_FEATURES.length;
const active = DIFFICULTY_FEATURES.map((f) => (keep.has("all") || keep.has(f) || (keep.has("task") && f.startsWith("task:"))) && !drop.has(f) && !(drop.has("task") && f.startsWith("task:")));
const T = useText ? BUCKETS : 0;

function standardize(train) {
  const mean = new Array(F).fill(0);
  const scale = new Array(F).fill(1);
  for (let j = 0; j < F; j++) {
    let m = 0;
    for (const d of train) m += d.x[j];
    m /= train.length;
    let v = 0;
    for (const d of train) v += (d.x[j] - m) ** 2;
    const sd = Math.sqrt(v / train.length);
    mean[j] = m;
    scale[j] = sd > 1e-9 ? sd : 1;
  }
  return { mean, scale };
}

/**
 * L2-regularized logistic regression by truncated Newton (conjugate gradients on Hessian-vector
 * products, so the wording's thousands of sparse 0/1 columns cost no dense matrix), on the
 * standardized hand features and the wording buckets. With --per-source-intercepts each source
 * family gets its own unpenalized intercept (so the shared weights learn only within-benchmark
 * ranking; the shipped bias is their row-weighted mean); it measured no better source-held-out, so
 * one pooled intercept is the default. Deterministic: no randomness, a fixed order of operations.
 */
const perSourceIntercepts = args.includes("--per-source-intercepts");
function fit(train) {
  const { mean, scale } = standardize(train);
  const fams = perSourceIntercepts ? [...new Set(train.map((d) => d.family))] : ["all"];
  const B = fams.length;
  const P = B + F + T;
  const n = train.length;
  const fi = train.map((d) => (perSourceIntercepts ? fams.indexOf(d.family) : 0));
  const Z = train.map((d) => d.x.map((v, j) => (active[j] ? (v - mean[j]) / scale[j] : 0)));
  const Bk = train.map((d) => (T ? d.b : []));
  const y = train.map(target);
  const lam = new Float64Array(P);
  for (let j = 0; j < F; j++) lam[B + j] = active[j] ? L2 : 1;
  for (let j = 0; j < T; j++) lam[B + F + j] = L2_TEXT;
  const dot = (w, i) => {
    let z = w[fi[i]];
    const zi = Z[i];
    for (let j = 0; j < F; j++) z += w[B + j] * zi[j];
    for (const k of Bk[i]) z += w[B + F + k];
    return z;
  };
  // out += c * x_i
  const addRow = (out, i, c) => {
    out[fi[i]] += c;
    const zi = Z[i];
    for (let j = 0; j < F; j++) out[B + j] += c * zi[j];
    for (const k of Bk[i]) out[B + F + k] += c;
  };
  const objective = (w) => {
    let o = 0;
    for (let i = 0; i < n; i++) {
      const z = dot(w, i);
      // log(1 + e^z) - y z, stably
      o += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i] * z;
    }
    for (let j = 0; j < P; j++) o += 0.5 * lam[j] * w[j] * w[j];
    return o;
  };
  const vdot = (a, b) => {
    let s = 0;
    for (let j = 0; j < P; j++) s += a[j] * b[j];
    return s;
  };
  let w = new Float64Array(P);
  for (let it = 0; it < 50; it++) {
    const g = new Float64Array(P);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-dot(w, i)));
      addRow(g, i, p - y[i]);
      s[i] = p * (1 - p);
    }
    for (let j = 0; j < P; j++) g[j] += lam[j] * w[j];
    const gNorm = Math.sqrt(vdot(g, g));
    if (gNorm < 1e-6) break;
    const Hv = (v) => {
      const out = new Float64Array(P);
      for (let i = 0; i < n; i++) addRow(out, i, s[i] * dot(v, i));
      for (let j = 0; j < P; j++) out[j] += lam[j] * v[j];
      return out;
    };
    // Conjugate gradients for H d = g, to a relative tolerance that tightens as g shrinks.
    const d = new Float64Array(P);
    const r = Float64Array.from(g);
    const q = Float64Array.from(g);
    let rr = vdot(r, r);
    const tol = Math.min(0.5, Math.sqrt(gNorm)) * gNorm;
    for (let k = 0; k < 200 && Math.sqrt(rr) > tol; k++) {
      const Hq = Hv(q);
      const alpha = rr / vdot(q, Hq);
      for (let j = 0; j < P; j++) {
        d[j] += alpha * q[j];
        r[j] -= alpha * Hq[j];
      }
      const rr2 = vdot(r, r);
      for (let j = 0; j < P; j++) q[j] = r[j] + (rr2 / rr) * q[j];
      rr = rr2;
    }
    // Backtracking line search along -d.
    const o0 = objective(w);
    const gd = vdot(g, d);
    let t = 1;
    let next = w.map((v, j) => v - d[j]);
    while (objective(next) > o0 - 1e-4 * t * gd && t > 1e-4) {
      t /= 2;
      next = w.map((v, j) => v - t * d[j]);
    }
    w = next;
    if (t * Math.max(...d.map(Math.abs)) < 1e-7) break;
  }
  const bias = fams.reduce((s, f, k) => s + w[k] * train.filter((d) => !perSourceIntercepts || d.family === f).length, 0) / n;
  // Rounded here, so that every figure below is measured with the numbers that ship.
  const r6 = (v) => +v.toFixed(6);
  const tw = T ? Array.from(w.slice(B + F), (v) => +v.toFixed(5)) : undefined;
  const model = { mean: mean.map(r6), scale: scale.map(r6), bias: r6(bias), weights: Array.from(w.slice(B, B + F), (v, j) => (active[j] ? r6(v) : 0)), tw };
  model.center = tw ? r6(train.reduce((s, d) => s + textPart(model, d), 0) / n) : 0;
  return model;
}

const textPart = (m, d) => (m.tw ? d.b.reduce((z, k) => z + m.tw[k], 0) : 0);
const logit = (m, d) => d.x.reduce((z, v, j) => z + m.weights[j] * ((v - m.mean[j]) / m.scale[j]), m.bias) + textPart(m, d);
const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const round3 = (v) => Math.round(v * 1000) / 1000;
const outcome = (d, score) => ({ score, weakCorrect: d.weak, strongCorrect: d.strong });

// ---- source-held-out: train on three families, score the fourth ----
const heldOut = {};
const oof = [];
for (const fam of FAMILIES) {
  const train = data.filter((d) => d.family !== fam);
  const test = data.filter((d) => d.family === fam);
  const m = fit(train);
  const z = test.map((d) => logit(m, d));
  test.forEach((d, i) => oof.push({ d, z: z[i] }));
  const rep = deferralCurve(test.map((d, i) => outcome(d, z[i])));
  heldOut[fam] = { rows: test.length, apgr: rep.apgr, shareFor95: rep.shareFor95 };
}
const heldOutMean = Math.round((FAMILIES.reduce((s, f) => s + heldOut[f].apgr, 0) / FAMILIES.length) * 10000) / 10000;
const pooled = deferralCurve(oof.map(({ d, z }) => outcome(d, z)));

// ---- calibration: Platt scaling of the held-out logits against the strict label ----
function platt(points) {
  const rate = points.reduce((s, p) => s + p.y, 0) / points.length;
  const meanZ = points.reduce((s, p) => s + p.z, 0) / points.length;
  let a = 1;
  let b = Math.log(rate / (1 - rate)) - meanZ;
  for (let it = 0; it < 50; it++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const { z, y } of points) {
      const p = sigmoid(a * z + b);
      ga += (p - y) * z;
      gb += p - y;
      const s = p * (1 - p);
      haa += s * z * z;
      hab += s * z;
      hbb += s;
    }
    const det = haa * hbb - hab * hab;
    if (Math.abs(det) < 1e-12) break;
    // Damped Newton steps: a logistic fit can overshoot from a poor start.
    const da = Math.max(-0.5, Math.min(0.5, (hbb * ga - hab * gb) / det));
    const db = Math.max(-0.5, Math.min(0.5, (haa * gb - hab * ga) / det));
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  // Calibration may shrink the score's spread but must never reverse its order.
  return a >= 0.05 ? { a, b } : { a: 0.05, b: Math.log(rate / (1 - rate)) - 0.05 * meanZ };
}
// Held out, the slope says how much of the score's spread survives on an unseen benchmark.
const heldOutCalibration = platt(oof.map(({ d, z }) => ({ z, y: Number(!d.weak && d.strong) })));

// ---- the full fit: what ships ----
const full = fit(data);
// The shipped calibration is fitted on all rows (in distribution); the held-out slope is reported beside it.
const calibration = platt(data.map((d) => ({ z: logit(full, d), y: Number(!d.weak && d.strong) })));
const scores = data.map((d) => round3(sigmoid(calibration.a * logit(full, d) + calibration.b)));
const fullRep = deferralCurve(data.map((d, i) => outcome(d, scores[i])));
const perSource = {};
for (const fam of FAMILIES) {
  const idx = data.map((d, i) => i).filter((i) => data[i].family === fam);
  const r = deferralCurve(idx.map((i) => outcome(data[i], scores[i])));
  perSource[fam] = { rows: r.rows, apgr: r.apgr, shareFor95: r.shareFor95 };
}
// Calibration check: mean score against the rate of the strict label, in score bands.
const bands = [0, 0.1, 0.2, 0.3, 0.4, 1.001].slice(0, -1).map((from, i) => {
  const to = [0.1, 0.2, 0.3, 0.4, 1.001][i];
  const inBand = data.map((d, k) => ({ d, s: scores[k] })).filter((p) => p.s >= from && p.s < to);
  const mean = inBand.reduce((s, p) => s + p.s, 0) / (inBand.length || 1);
  const rate = inBand.filter((p) => !p.d.weak && p.d.strong).length / (inBand.length || 1);
  return { from, to: Math.min(to, 1), rows: inBand.length, meanScore: round3(mean), labelRate: round3(rate) };
});
const targets = Array.from({ length: 21 }, (_, i) => Math.round((0.8 + i * 0.01) * 100) / 100);
const points = operatingPoints(data.map((d, i) => outcome(d, scores[i])), targets);
const at95 = points.find((p) => p.qualityTarget === 0.95);

const model = {
  about:
    "P(economy answer falls short where premium's would not): logistic regression (L2 " +
    L2 +
    ", label " +
    labelKind +
    ") over the router's hand features (" +
    DIFFICULTY_FEATURES.filter((f, j) => active[j]).join(", ") +
    ")" +
    (useText ? " and the prompt's wording (hashed word buckets)" : "") +
    ", Platt-calibrated on all rows (the held-out slope is in measured). " +
    "Learned by scripts/train-difficulty.mjs from routing-outcomes-dev.jsonl (MMLU, RouterBench, DebugBench, GSM8K outcomes); numbers only, no prompts.",
  features: [...DIFFICULTY_FEATURES],
  mean: full.mean,
  scale: full.scale,
  weights: full.weights,
  bias: full.bias,
  ...(full.tw
    ? {
        text: {
          about: `The prompt's words, lowercased, hashed (FNV-1a) into ${BUCKETS} buckets; a present bucket adds its weight (L2 ${L2_TEXT}). No words are stored.`,
          buckets: BUCKETS,
          weights: full.tw,
          center: full.center,
        },
      }
    : {}),
  // The task types the router reads these benchmarks as (at least 100 rows): the score sets the tier only for them.
  taskTypes: Object.entries(data.reduce((c, d) => ((c[d.taskType] = (c[d.taskType] ?? 0) + 1), c), {}))
    .filter(([, n]) => n >= 100)
    .map(([t]) => t)
    .sort(),
  calibration: { a: +calibration.a.toFixed(6), b: +calibration.b.toFixed(6) },
  operatingPoints: points,
  measured: {
    rows: data.length,
    label: labelKind,
    sourceHeldOut: { ...heldOut, meanApgr: heldOutMean, pooledApgr: pooled.apgr, calibrationSlope: +heldOutCalibration.a.toFixed(3) },
    fullFit: { apgr: fullRep.apgr, shareFor95: fullRep.shareFor95, weakQuality: fullRep.weakQuality, strongQuality: fullRep.strongQuality, perSource, curve: fullRep.curve.map((p) => ({ share: p.share, ofStrong: p.ofStrong })) },
    calibrationBands: bands,
  },
};

const pct = (v) => `${(v * 100).toFixed(1)}%`;
process.stderr.write(
  [
    `label ${labelKind}, L2 ${L2}, hand features ${DIFFICULTY_FEATURES.filter((f, j) => active[j]).join(",") || "none"}, ${useText ? `wording ${BUCKETS} buckets L2 ${L2_TEXT}` : "no wording"}`,
    `source-held-out APGR: ${FAMILIES.map((f) => `${f} ${heldOut[f].apgr.toFixed(3)}`).join(", ")}; mean ${heldOutMean.toFixed(3)}; pooled ${pooled.apgr.toFixed(3)}`,
    `full fit: APGR ${fullRep.apgr.toFixed(3)} (${FAMILIES.map((f) => `${f} ${perSource[f].apgr.toFixed(3)}`).join(", ")}); 95% of strong at ${pct(fullRep.shareFor95)} premium`,
    `curve (premium share → of strong): ${fullRep.curve.map((p) => `${pct(p.share)}→${pct(p.ofStrong)}`).join(" ")}`,
    `operating point 0.95: threshold ${at95?.threshold}, premium ${pct(at95?.premiumShare ?? 0)}, quality ${pct(at95?.quality ?? 0)} of strong`,
    `calibration: ${bands.map((b) => `[${b.from},${b.to.toFixed(1)}) n=${b.rows} score ${b.meanScore} rate ${b.labelRate}`).join("; ")}`,
    `weights: ${DIFFICULTY_FEATURES.map((f, j) => `${f} ${full.weights[j].toFixed(2)}`).filter((s) => !s.endsWith(" 0.00")).join(", ")}`,
  ].join("\n") + "\n",
);
if (!dryRun) {
  writeFileSync(OUT, JSON.stringify({ router: { difficulty: model } }, null, 1) + "\n");
  process.stderr.write(`wrote ${OUT}\n`);
}
