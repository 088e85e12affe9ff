import { TASK_TYPES, type TaskType } from "../config/schema.js";

export interface EvalRow {
  gold: TaskType[];
  predicted: TaskType;
  confidence: number;
  tier: string;
  group?: string;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalReport {
  rows: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  /** confusion[gold][predicted] = count; gold is the accepted label the prediction matched, else the first. */
  confusion: Record<string, Record<string, number>>;
  byTier: Record<string, { rows: number; accuracy: number }>;
  byGroup?: Record<string, { rows: number; accuracy: number }>;
  /** Mean confidence against accuracy in confidence bands, and the expected calibration error. */
  calibration: { bands: Array<{ from: number; to: number; rows: number; meanConfidence: number; accuracy: number }>; ece: number };
}

const r4 = (n: number) => Math.round(n * 10000) / 10000;

export function evaluate(rows: EvalRow[]): EvalReport {
  const confusion: EvalReport["confusion"] = {};
  const tp: Record<string, number> = {};
  const fp: Record<string, number> = {};
  const fn: Record<string, number> = {};
  const byTier: Record<string, [number, number]> = {};
  const byGroup: Record<string, [number, number]> = {};
  let correct = 0;
  for (const r of rows) {
    const hit = r.gold.includes(r.predicted);
    const gold = hit ? r.predicted : r.gold[0]!;
    (confusion[gold] ??= {})[r.predicted] = (confusion[gold]![r.predicted] ?? 0) + 1;
    if (hit) {
      correct++;
      tp[gold] = (tp[gold] ?? 0) + 1;
    } else {
      fn[gold] = (fn[gold] ?? 0) + 1;
      fp[r.predicted] = (fp[r.predicted] ?? 0) + 1;
    }
    const t = (byTier[r.tier] ??= [0, 0]);
    t[0] += hit ? 1 : 0;
    t[1]++;
    if (r.group !== undefined) {
      const g = (byGroup[r.group] ??= [0, 0]);
      g[0] += hit ? 1 : 0;
      g[1]++;
    }
  }
  const perClass: Record<string, ClassMetrics> = {};
  const f1s: number[] = [];
  for (const c of TASK_TYPES) {
    const support = (tp[c] ?? 0) + (fn[c] ?? 0);
    const predicted = (tp[c] ?? 0) + (fp[c] ?? 0);
    if (support === 0 && predicted === 0) continue;
    const precision = predicted ? (tp[c] ?? 0) / predicted : 0;
    const recall = support ? (tp[c] ?? 0) / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[c] = { precision: r4(precision), recall: r4(recall), f1: r4(f1), support };
    if (support > 0) f1s.push(f1);
  }
  const bands = [0, 0.2, 0.4, 0.6, 0.8, 1.0001];
  const cal = bands.slice(0, -1).map((from, i) => {
    const to = bands[i + 1]!;
    const inBand = rows.filter((r) => r.confidence >= from && r.confidence < to);
    const acc = inBand.filter((r) => r.gold.includes(r.predicted)).length;
    const mean = inBand.reduce((s, r) => s + r.confidence, 0);
    return { from, to: Math.min(to, 1), rows: inBand.length, meanConfidence: r4(inBand.length ? mean / inBand.length : 0), accuracy: r4(inBand.length ? acc / inBand.length : 0) };
  });
  const ece = cal.reduce((s, b) => s + (b.rows / Math.max(rows.length, 1)) * Math.abs(b.meanConfidence - b.accuracy), 0);
  const toAcc = (m: Record<string, [number, number]>) =>
    Object.fromEntries(Object.entries(m).map(([k, [a, n]]) => [k, { rows: n, accuracy: r4(a / n) }]));
  return {
    rows: rows.length,
    accuracy: r4(rows.length ? correct / rows.length : 0),
    macroF1: r4(f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0),
    perClass,
    confusion,
    byTier: toAcc(byTier),
    ...(Object.keys(byGroup).length ? { byGroup: toAcc(byGroup) } : {}),
    calibration: { bands: cal, ece: r4(ece) },
  };
}

export function formatReport(rep: EvalReport): string {
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const lines: string[] = [];
  lines.push(`rows ${rep.rows}   accuracy ${pct(rep.accuracy)}   macro-F1 ${pct(rep.macroF1)}   calibration error (ECE) ${rep.calibration.ece.toFixed(3)}`);
  lines.push("");
  lines.push(`${"class".padEnd(18)}${"precision".padStart(10)}${"recall".padStart(10)}${"f1".padStart(8)}${"support".padStart(9)}`);
  for (const [c, m] of Object.entries(rep.perClass)) {
    lines.push(`${c.padEnd(18)}${pct(m.precision).padStart(10)}${pct(m.recall).padStart(10)}${pct(m.f1).padStart(8)}${String(m.support).padStart(9)}`);
  }
  lines.push("");
  lines.push("by tier: " + Object.entries(rep.byTier).map(([t, v]) => `${t} ${pct(v.accuracy)} of ${v.rows}`).join(", "));
  lines.push("confidence bands: " + rep.calibration.bands.filter((b) => b.rows).map((b) => `[${b.from.toFixed(1)},${b.to.toFixed(1)}) n=${b.rows} conf ${b.meanConfidence.toFixed(2)} acc ${b.accuracy.toFixed(2)}`).join("; "));
  if (rep.byGroup) {
    lines.push("");
    lines.push("by group:");
    for (const [g, v] of Object.entries(rep.byGroup).sort((a, b) => b[1].rows - a[1].rows)) lines.push(`  ${g.padEnd(40)} ${pct(v.accuracy).padStart(7)} of ${v.rows}`);
  }
  lines.push("");
  const classes = TASK_TYPES.filter((c) => rep.confusion[c] || Object.values(rep.confusion).some((r) => r[c]));
  const abbr = (c: string) => c.slice(0, 6);
  lines.push("confusion (rows: expected, columns: predicted)");
  lines.push("".padEnd(18) + classes.map((c) => abbr(c).padStart(7)).join(""));
  for (const g of classes) {
    lines.push(g.padEnd(18) + classes.map((p) => String(rep.confusion[g]?.[p] ?? "").padStart(7)).join(""));
  }
  return lines.join("\n");
}

/** One prompt of an outcomes file: the router's score and whether the weak and the strong model were right. */
export interface OutcomeRow {
  score: number;
  weakCorrect: boolean;
  strongCorrect: boolean;
  group?: string;
  /** Whether the router's decision sent it to the premium tier (its actual operating point). */
  premium?: boolean;
}

export interface DeferralReport {
  rows: number;
  /** Quality (share right) when every call goes to the weak, or to the strong, model. */
  weakQuality: number;
  strongQuality: number;
  /** Quality when the top `share` of prompts by score go to the strong model; pgr = share of the weak-strong gap recovered. */
  curve: Array<{ share: number; quality: number; ofStrong: number; pgr: number }>;
  /** Area under the PGR curve over premium share 0..1: 0.5 for random routing, higher for a useful score. */
  apgr: number;
  /** The least premium share whose quality reaches 95% of always-strong quality. */
  shareFor95: number;
  /** The router's own decisions, when the rows say which went premium. */
  router?: { premiumShare: number; quality: number; ofStrong: number };
}

/** Expected gain per position when prompts are sorted by score, highest first; ties share their block's mean (random order within a tie). */
function sortedGains(rows: OutcomeRow[]): { gains: number[]; scores: number[] } {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const gains: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    let g = 0;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) {
      g += Number(sorted[j]!.strongCorrect) - Number(sorted[j]!.weakCorrect);
      j++;
    }
    for (let k = i; k < j; k++) {
      gains.push(g / (j - i));
      scores.push(sorted[i]!.score);
    }
    i = j;
  }
  return { gains, scores };
}

/** RouteLLM's measures: the deferral curve at 0, 10, …, 100% premium, APGR and the share that reaches 95% of always-strong quality. */
export function deferralCurve(rows: OutcomeRow[]): DeferralReport {
  const n = rows.length;
  const W = rows.reduce((s, r) => s + Number(r.weakCorrect), 0);
  const S = rows.reduce((s, r) => s + Number(r.strongCorrect), 0);
  const { gains } = sortedGains(rows);
  const prefix = [0];
  for (const g of gains) prefix.push(prefix.at(-1)! + g);
  const gap = S - W;
  const gainAt = (x: number) => {
    const k = Math.min(Math.floor(x), n);
    return prefix[k]! + (k < n ? (x - k) * gains[k]! : 0);
  };
  let area = 0;
  for (let k = 1; k <= n; k++) area += (prefix[k - 1]! + prefix[k]!) / 2;
  const apgr = n && gap > 0 ? area / n / gap : 0.5;
  let k95 = 0;
  while (k95 < n && W + prefix[k95]! < 0.95 * S - 1e-9) k95++;
  const curve = Array.from({ length: 11 }, (_, i) => {
    const share = i / 10;
    const q = n ? (W + gainAt(share * n)) / n : 0;
    return { share, quality: r4(q), ofStrong: r4(S ? (q * n) / S : 0), pgr: r4(gap > 0 ? gainAt(share * n) / gap : 0) };
  });
  const rep: DeferralReport = { rows: n, weakQuality: r4(n ? W / n : 0), strongQuality: r4(n ? S / n : 0), curve, apgr: r4(apgr), shareFor95: r4(n ? k95 / n : 0) };
  if (rows.some((r) => r.premium !== undefined)) {
    const prem = rows.filter((r) => r.premium).length;
    const right = rows.reduce((s, r) => s + Number(r.premium ? r.strongCorrect : r.weakCorrect), 0);
    rep.router = { premiumShare: r4(prem / n), quality: r4(right / n), ofStrong: r4(S ? right / S : 0) };
  }
  return rep;
}

/**
 * For each quality target (share of always-strong quality), the highest score threshold, and so the
 * least premium share, that reaches it when scores at or above the threshold go premium.
 */
export function operatingPoints(rows: OutcomeRow[], targets: number[]): Array<{ qualityTarget: number; threshold: number; premiumShare: number; quality: number }> {
  const n = rows.length;
  const W = rows.reduce((s, r) => s + Number(r.weakCorrect), 0);
  const S = rows.reduce((s, r) => s + Number(r.strongCorrect), 0);
  const { gains, scores } = sortedGains(rows);
  // Block ends: thresholds are scores, and a threshold takes its whole tie block.
  const ends: Array<{ threshold: number; count: number; gain: number }> = [{ threshold: 1.001, count: 0, gain: 0 }];
  let g = 0;
  for (let k = 0; k < n; k++) {
    g += gains[k]!;
    if (k === n - 1 || scores[k + 1] !== scores[k]) ends.push({ threshold: scores[k]!, count: k + 1, gain: g });
  }
  return targets.map((t) => {
    const e = ends.find((x) => W + x.gain >= t * S - 1e-9) ?? ends.at(-1)!;
    return { qualityTarget: t, threshold: e.threshold, premiumShare: r4(e.count / n), quality: r4(S ? (W + e.gain) / S : 0) };
  });
}

export function formatDeferral(rep: DeferralReport, byGroup?: Record<string, DeferralReport>): string {
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const lines: string[] = [];
  lines.push(`rows ${rep.rows}   always-weak ${pct(rep.weakQuality)}   always-strong ${pct(rep.strongQuality)}   APGR ${rep.apgr.toFixed(3)} (0.5 = random)   premium share for 95% of strong ${pct(rep.shareFor95)}`);
  if (rep.router) lines.push(`the router's decisions: ${pct(rep.router.premiumShare)} premium, quality ${pct(rep.router.quality)} = ${pct(rep.router.ofStrong)} of always-strong`);
  lines.push("");
  lines.push(`${"premium share".padEnd(15)}${"quality".padStart(9)}${"of strong".padStart(11)}${"gap recovered".padStart(15)}`);
  for (const p of rep.curve) lines.push(`${pct(p.share).padEnd(15)}${pct(p.quality).padStart(9)}${pct(p.ofStrong).padStart(11)}${pct(p.pgr).padStart(15)}`);
  if (byGroup) {
    lines.push("");
    lines.push(`${"group".padEnd(24)}${"rows".padStart(6)}${"weak".padStart(8)}${"strong".padStart(8)}${"APGR".padStart(7)}${"95% at".padStart(8)}${"router premium".padStart(16)}${"of strong".padStart(11)}`);
    for (const [g, r] of Object.entries(byGroup).sort((a, b) => b[1].rows - a[1].rows)) {
      lines.push(
        `${g.padEnd(24)}${String(r.rows).padStart(6)}${pct(r.weakQuality).padStart(8)}${pct(r.strongQuality).padStart(8)}${r.apgr.toFixed(3).padStart(7)}${pct(r.shareFor95).padStart(8)}${(r.router ? pct(r.router.premiumShare) : "").padStart(16)}${(r.router ? pct(r.router.ofStrong) : "").padStart(11)}`,
      );
    }
  }
  return lines.join("\n");
}
