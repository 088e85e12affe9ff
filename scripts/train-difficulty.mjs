// Learns the router's difficulty score from measured weak/strong outcomes and writes the numbers
// (never the prompts) to config/difficulty.json, where the router reads them as router.difficulty.
//
//   npm run train:difficulty [-- path/to/routing-outcomes-dev.jsonl] [--dry-run] [--label strict|gain|weak]
//     [--l2 1] [--drop feature,feature|task] [--per-source-intercepts] [--cache features.json]
//
// The features are the router's own (dist/routing/difficulty.js reads the signals, task type and
// complexity points a decision has already computed), so run `npm run build` first. Measured
// source-held-out: train on three source families, score the fourth, for each of the four.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig, PACKAGE_ROOT } from "../dist/config/load.js";
import { loadOrTrainClassifier } from "../dist/routing/classifier-cache.js";
import { DIFFICULTY_FEATURES, difficultyFeatures } from "../dist/routing/difficulty.js";
import { deferralCurve, operatingPoints } from "../dist/routing/evaluate.js";
import { readPrompt } from "../dist/routing/prompt.js";
import { classifyTask, classifyText } from "../dist/routing/task.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const VALUED = new Set(["--label", "--l2", "--drop", "--cache"]);
// Development only: keep the computed features in a file between runs (never commit it).
const cacheFile = flag("cache");
const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && VALUED.has(args[i - 1])));
const file = resolve(positional[0] ?? join(PACKAGE_ROOT, "..", "shared", "data", "routing-outcomes-dev.jsonl"));
const dryRun = args.includes("--dry-run");
const labelKind = flag("label") ?? "strict";
const L2 = Number(flag("l2") ?? 1);
// Features left out (weight fixed at 0): comma-separated names.
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
const data = cacheFile && existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, "utf8")) : rows.map((r) => {
  const input = { prompt: promptOf(r) };
  const prompt = readPrompt(input);
  const task = classifyTask(input, prompt, classifyText(classifier, min, prompt.text));
  const x = difficultyFeatures({ taskType: task.taskType, signals: task.signals, complexityPoints: task.complexityPoints, complexityWhy: task.complexityWhy });
  return { x, family: familyOf(r.source), weak: !!r.weakCorrect, strong: !!r.strongCorrect, taskType: task.taskType };
});
if (cacheFile && !existsSync(cacheFile)) writeFileSync(cacheFile, JSON.stringify(data));
process.stderr.write(`features for ${data.length} prompts in ${Math.round(performance.now() - t0)} ms\n`);

/** The training target: strict = weak wrong and strong right; gain = (strong - weak + 1) / 2; weak = weak wrong. */
const target = (d) => (labelKind === "gain" ? (Number(d.strong) - Number(d.weak) + 1) / 2 : labelKind === "weak" ? Number(!d.weak) : Number(!d.weak && d.strong));

const F = DIFFICULTY_FEATURES.length;
const active = DIFFICULTY_FEATURES.map((f) => !drop.has(f) && !(drop.has("task") && f.startsWith("task:")));

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
 * L2-regularized logistic regression by Newton's method on standardized features. With
 * --per-source-intercepts each source family gets its own unpenalized intercept (so the shared
 * weights learn only within-benchmark ranking; the shipped bias is their row-weighted mean); it
 * measured no better source-held-out, so one pooled intercept is the default.
 */
const perSourceIntercepts = args.includes("--per-source-intercepts");
function fit(train) {
  const { mean, scale } = standardize(train);
  const fams = perSourceIntercepts ? [...new Set(train.map((d) => d.family))] : ["all"];
  const B = fams.length;
  const X = train.map((d) => [...fams.map((f) => (!perSourceIntercepts || d.family === f ? 1 : 0)), ...d.x.map((v, j) => (active[j] ? (v - mean[j]) / scale[j] : 0))]);
  const y = train.map(target);
  const P = F + B;
  let w = new Array(P).fill(0);
  for (let it = 0; it < 30; it++) {
    const g = new Array(P).fill(0);
    const H = Array.from({ length: P }, () => new Array(P).fill(0));
    for (let i = 0; i < X.length; i++) {
      const xi = X[i];
      let z = 0;
      for (let j = 0; j < P; j++) z += w[j] * xi[j];
      const p = 1 / (1 + Math.exp(-z));
      const r = p - y[i];
      const s = p * (1 - p);
      for (let j = 0; j < P; j++) {
        if (xi[j] === 0) continue;
        g[j] += r * xi[j];
        for (let k = 0; k < P; k++) H[j][k] += s * xi[j] * xi[k];
      }
    }
    for (let j = B; j < P; j++) {
      g[j] += L2 * w[j];
      H[j][j] += L2;
    }
    for (let j = 0; j < P; j++) if (H[j][j] === 0) H[j][j] = 1;
    const step = solve(H, g);
    w = w.map((v, j) => v - step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  const bias = fams.reduce((s, f, k) => s + w[k] * train.filter((d) => !perSourceIntercepts || d.family === f).length, 0) / train.length;
  return { mean, scale, bias, weights: w.slice(B).map((v, j) => (active[j] ? v : 0)) };
}

function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c || M[c][c] === 0) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => (row[i] === 0 ? 0 : row[n] / row[i]));
}

const logit = (m, x) => x.reduce((z, v, j) => z + m.weights[j] * ((v - m.mean[j]) / m.scale[j]), m.bias);
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
  const z = test.map((d) => logit(m, d.x));
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
const calibration = platt(data.map((d) => ({ z: logit(full, d.x), y: Number(!d.weak && d.strong) })));
const scores = data.map((d) => round3(sigmoid(calibration.a * logit(full, d.x) + calibration.b)));
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
    ") over the router's task type, signals and complexity points, Platt-calibrated on all rows (the held-out slope is in measured). " +
    "Learned by scripts/train-difficulty.mjs from routing-outcomes-dev.jsonl (MMLU, RouterBench, DebugBench, GSM8K outcomes); numbers only, no prompts.",
  features: [...DIFFICULTY_FEATURES],
  mean: full.mean.map((v) => +v.toFixed(6)),
  scale: full.scale.map((v) => +v.toFixed(6)),
  weights: full.weights.map((v) => +v.toFixed(6)),
  bias: +full.bias.toFixed(6),
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
    `label ${labelKind}, L2 ${L2}${drop.size ? `, dropped ${[...drop].join(",")}` : ""}`,
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
