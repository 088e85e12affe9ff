import { readFileSync } from "node:fs";
import { TASK_TYPES, type TaskType } from "../config/schema.js";
import { invalidRequest } from "../errors.js";
import { evaluate, formatReport, type EvalRow } from "../routing/evaluate.js";
import type { Runtime } from "../runtime.js";
import { out } from "./output.js";

type Flags = Record<string, string | boolean | undefined>;

/** Rows {prompt, task_type}; task_type may list several accepted ids joined by "|". */
export async function runEval(runtime: Runtime, file: string, f: Flags): Promise<number> {
  const groupBy = typeof f["group-by"] === "string" ? f["group-by"] : undefined;
  const rows: EvalRow[] = [];
  const times: number[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
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

const q = (xs: number[], p: number) => Math.round((xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0) * 1000) / 1000;
