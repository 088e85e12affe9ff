import { describe, expect, it } from "vitest";
import type { TaskType } from "../../src/config/schema.js";
import { evaluate, formatReport, type EvalRow } from "../../src/routing/evaluate.js";

/** Gold labels as eval files write them: "a|b" accepts either. */
const row = (gold: string, predicted: TaskType, confidence: number, tier: string, group?: string): EvalRow => ({
  gold: gold.split("|") as TaskType[],
  predicted,
  confidence,
  tier,
  ...(group ? { group } : {}),
});

// A tiny case worked out by hand:
//   math        -> math         hit
//   math        -> coding       miss (fn math, fp coding)
//   coding      -> coding       hit
//   coding|debugging -> debugging  hit (counts for debugging)
//   translation -> math         miss (fn translation, fp math)
const rows: EvalRow[] = [
  row("math", "math", 0.9, "signals", "arith"),
  row("math", "coding", 0.7, "classifier", "arith"),
  row("coding", "coding", 0.5, "classifier"),
  row("coding|debugging", "debugging", 0.3, "classifier"),
  row("translation", "math", 0.1, "default"),
];

describe("evaluate", () => {
  const rep = evaluate(rows);

  it("counts a prediction matching any accepted gold label as right", () => {
    expect(rep.rows).toBe(5);
    expect(rep.accuracy).toBe(0.6);
    expect(evaluate([row("coding|debugging", "coding", 0.8, "x")]).accuracy).toBe(1);
    expect(evaluate([row("coding|debugging", "debugging", 0.8, "x")]).accuracy).toBe(1);
    expect(evaluate([row("coding|debugging", "math", 0.8, "x")]).accuracy).toBe(0);
  });

  it("computes per-class precision, recall and F1", () => {
    expect(rep.perClass.math).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(rep.perClass.coding).toEqual({ precision: 0.5, recall: 1, f1: 0.6667, support: 1 });
    expect(rep.perClass.debugging).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });
    expect(rep.perClass.translation).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    // Classes that never occur are left out.
    expect(rep.perClass.planning).toBeUndefined();
  });

  it("macro-F1 averages F1 over the classes that have gold rows", () => {
    // (0.5 + 2/3 + 1 + 0) / 4
    expect(rep.macroF1).toBeCloseTo((0.5 + 2 / 3 + 1 + 0) / 4, 4);
    // A class only ever predicted (never gold) lowers precision elsewhere but is not averaged in.
    const onlyPredicted = evaluate([row("math", "math", 0.9, "x"), row("math", "coding", 0.9, "x")]);
    expect(onlyPredicted.perClass.coding).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // math: P 1, R 0.5, F1 2/3; coding has no support.
    expect(onlyPredicted.macroF1).toBeCloseTo(2 / 3, 4);
  });

  it("fills the confusion matrix by gold (the matched label on a hit) and prediction", () => {
    expect(rep.confusion).toEqual({
      math: { math: 1, coding: 1 },
      coding: { coding: 1 },
      debugging: { debugging: 1 },
      translation: { math: 1 },
    });
    const total = Object.values(rep.confusion).reduce((s, r) => s + Object.values(r).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(rows.length);
  });

  it("a miss with a multi-label gold is counted under its first label", () => {
    expect(evaluate([row("coding|debugging", "math", 0.5, "x")]).confusion).toEqual({ coding: { math: 1 } });
  });

  it("splits accuracy by tier and by group", () => {
    expect(rep.byTier).toEqual({
      signals: { rows: 1, accuracy: 1 },
      classifier: { rows: 3, accuracy: 0.6667 },
      default: { rows: 1, accuracy: 0 },
    });
    expect(rep.byGroup).toEqual({ arith: { rows: 2, accuracy: 0.5 } });
    expect(evaluate([row("math", "math", 1, "x")]).byGroup).toBeUndefined();
  });

  it("bands confidence and computes the calibration error", () => {
    const bands = rep.calibration.bands;
    expect(bands.map((b) => [b.from, b.to])).toEqual([
      [0, 0.2],
      [0.2, 0.4],
      [0.4, 0.6],
      [0.6, 0.8],
      [0.8, 1],
    ]);
    expect(bands.map((b) => b.rows)).toEqual([1, 1, 1, 1, 1]);
    expect(bands.map((b) => b.meanConfidence)).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(bands.map((b) => b.accuracy)).toEqual([0, 1, 1, 0, 1]);
    // ECE = 1/5 * (0.1 + 0.7 + 0.5 + 0.7 + 0.1)
    expect(rep.calibration.ece).toBeCloseTo(0.42, 4);
  });

  it("a confidence of exactly 1 lands in the top band", () => {
    const r = evaluate([row("math", "math", 1, "x"), row("math", "math", 0.85, "x")]);
    expect(r.calibration.bands.at(-1)).toMatchObject({ rows: 2, meanConfidence: 0.925, accuracy: 1 });
    expect(r.calibration.ece).toBeCloseTo(0.075, 4);
  });

  it("a perfectly calibrated set has no calibration error", () => {
    // Two rows at 0.5, one right and one wrong.
    const r = evaluate([row("math", "math", 0.5, "x"), row("math", "coding", 0.5, "x")]);
    expect(r.calibration.ece).toBe(0);
  });

  it("handles no rows", () => {
    const r = evaluate([]);
    expect(r).toMatchObject({ rows: 0, accuracy: 0, macroF1: 0, perClass: {}, confusion: {} });
    expect(r.calibration.ece).toBe(0);
  });

  it("formats a readable report", () => {
    const text = formatReport(rep);
    expect(text).toContain("accuracy 60.0%");
    expect(text).toContain("macro-F1 54.2%");
    expect(text).toMatch(/^translation\s+0\.0%\s+0\.0%\s+0\.0%\s+1$/m);
    expect(text).toContain("by tier:");
    expect(text).toContain("by group:");
    expect(text).toContain("confusion");
  });
});
