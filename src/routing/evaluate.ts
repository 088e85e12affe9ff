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
