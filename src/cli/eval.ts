import { readFileSync } from "node:fs";
import { TASK_TYPES, type TaskType } from "../config/schema.js";
import { invalidRequest } from "../errors.js";
import { deferralCurve, evaluate, formatDeferral, formatReport, type DeferralReport, type EvalRow, type OutcomeRow } from "../routing/evaluate.js";
import type { Runtime } from "../runtime.js";
import { out } from "./output.js";

type Flags = Record<string, string | boolean | undefined>;

/**
 * Rows {prompt, task_type}; task_type may list several accepted ids joined by "|". Outcome files
 * (rows with weakCorrect and strongCorrect) are scored instead for the difficulty: the deferral curve,
 * APGR and the premium share that reaches 95% of always-strong quality.
 */
export async function runEval(runtime: Runtime, file: string, f: Flags): Promise<number> {
  const groupBy = typeof f["group-by"] === "string" ? f["group-by"] : undefined;
  const rows: EvalRow[] = [];
  const times: number[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  const first = lines.find((l) => l.trim());
  if (first && /"weakCorrect"\s*:/.test(first) && /"strongCorrect"\s*:/.test(first)) return runOutcomeEval(runtime, file, lines, groupBy, f);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const row = JSON.parse(line) as Record<string, unknown>;
    const prompt = row.prompt;
    const label = row.task_type ?? row.taskType;
    if (typeof prompt !== "string" || typeof label !== "string") {
      throw invalidRequest(`${file}:${i + 1}: each row needs "prompt" and "task_type" strings`, 'write rows like {"prompt": "...", "task_type": "coding"}');
    }
    const gold = label.split("|").map((s) => s.trim());
    for (const g of gold) {
      if (!(TASK_TYPES as readonly string[]).includes(g)) {
        throw invalidRequest(`${file}:${i + 1}: unknown task_type "${g}"`, `valid: ${TASK_TYPES.join(", ")}`, { validValues: [...TASK_TYPES] });
      }
    }
    const t0 = performance.now();
    const c = runtime.router.classify(prompt);
    times.push(performance.now() - t0);
    const group = groupBy ? String(row[groupBy] ?? "").split(":")[0] : undefined;
    rows.push({ gold: gold as TaskType[], predicted: c.taskType, confidence: c.confidence, tier: c.tier, ...(group !== undefined ? { group } : {}) });
  });
  const report = evaluate(rows);
  times.sort((a, b) => a - b);
  const timing = { p50Ms: q(times, 0.5), p99Ms: q(times, 0.99) };
  if (f.json) out(JSON.stringify({ ...report, timing }, null, 2));
  else out(formatReport(report) + `\n\nclassification time p50 ${timing.p50Ms} ms, p99 ${timing.p99Ms} ms`);
  return 0;
}

/** Each prompt is routed as a call would be; its difficulty ranks it, and its cost tier is the router's own choice. */
function runOutcomeEval(runtime: Runtime, file: string, lines: string[], groupBy: string | undefined, f: Flags): number {
  const rows: OutcomeRow[] = [];
  const times: number[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const row = JSON.parse(line) as Record<string, unknown>;
    if (typeof row.prompt !== "string" || typeof row.weakCorrect !== "boolean" || typeof row.strongCorrect !== "boolean") {
      throw invalidRequest(`${file}:${i + 1}: each outcome row needs "prompt" (string), "weakCorrect" and "strongCorrect" (booleans)`, 'write rows like {"prompt": "...", "weakCorrect": false, "strongCorrect": true}');
    }
    const t0 = performance.now();
    const d = runtime.route({ prompt: row.prompt });
    times.push(performance.now() - t0);
    const group = groupBy ? String(row[groupBy] ?? "").split(":")[0] : undefined;
    rows.push({ score: d.difficulty?.score ?? 0, weakCorrect: row.weakCorrect, strongCorrect: row.strongCorrect, premium: d.costTier === "premium", ...(group !== undefined ? { group } : {}) });
  });
  const report = deferralCurve(rows);
  let byGroup: Record<string, DeferralReport> | undefined;
  if (groupBy) {
    const groups = new Map<string, OutcomeRow[]>();
    for (const r of rows) groups.set(r.group!, [...(groups.get(r.group!) ?? []), r]);
    byGroup = Object.fromEntries([...groups].map(([g, rs]) => [g, deferralCurve(rs)]));
  }
  times.sort((a, b) => a - b);
  const timing = { p50Ms: q(times, 0.5), p99Ms: q(times, 0.99) };
  if (f.json) out(JSON.stringify({ ...report, ...(byGroup ? { byGroup } : {}), timing }, null, 2));
  else out(formatDeferral(report, byGroup) + `\n\ndecision time p50 ${timing.p50Ms} ms, p99 ${timing.p99Ms} ms`);
  return 0;
}

const q = (xs: number[], p: number) => Math.round((xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0) * 1000) / 1000;
