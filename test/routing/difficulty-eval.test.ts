import { describe, expect, it } from "vitest";
import { deferralCurve, formatDeferral, operatingPoints, type OutcomeRow } from "../../src/routing/evaluate.js";

/** A synthetic outcomes set: 1000 prompts, a third where only the strong model is right, a few where only the weak one is. */
function rows(): OutcomeRow[] {
  const out: OutcomeRow[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 1000; i++) {
    const kind = i % 10 < 3 ? "gain" : i % 10 === 3 ? "loss" : i % 10 < 8 ? "both" : "neither";
    out.push({ score: rand(), weakCorrect: kind === "both" || kind === "loss", strongCorrect: kind === "both" || kind === "gain" });
  }
  return out;
}
const gainOf = (r: OutcomeRow) => Number(r.strongCorrect) - Number(r.weakCorrect);

describe("deferral curve and APGR", () => {
  it("a perfect score recovers the gap early: APGR near 1", () => {
    const rep = deferralCurve(rows().map((r) => ({ ...r, score: gainOf(r) })));
    expect(rep.apgr).toBeGreaterThan(0.9);
    expect(rep.curve[0]!.share).toBe(0);
    expect(rep.curve[10]!.ofStrong).toBeCloseTo(1, 5);
    expect(rep.shareFor95).toBeLessThan(0.35);
  });

  it("a random score is about 0.5", () => {
    const rep = deferralCurve(rows());
    expect(rep.apgr).toBeGreaterThan(0.42);
    expect(rep.apgr).toBeLessThan(0.58);
  });

  it("a constant score is exactly random (ties are averaged)", () => {
    expect(deferralCurve(rows().map((r) => ({ ...r, score: 0.5 }))).apgr).toBeCloseTo(0.5, 3);
  });

  it("a reversed score is below 0.5", () => {
    expect(deferralCurve(rows().map((r) => ({ ...r, score: -gainOf(r) }))).apgr).toBeLessThan(0.2);
  });

  it("reports the router's own operating point when rows say which went premium", () => {
    const rep = deferralCurve(rows().map((r) => ({ ...r, premium: gainOf(r) > 0 })));
    expect(rep.router!.premiumShare).toBeCloseTo(0.3, 5);
    expect(rep.router!.ofStrong).toBeGreaterThan(1);
    expect(formatDeferral(rep, { all: rep })).toMatch(/APGR/);
  });

  it("operating points: a threshold per quality target, more premium for more quality", () => {
    const pts = operatingPoints(rows().map((r) => ({ ...r, score: gainOf(r) + 1 })), [0.9, 1]);
    expect(pts[0]!.quality).toBeGreaterThanOrEqual(0.9);
    expect(pts[1]!.quality).toBeGreaterThanOrEqual(1);
    expect(pts[0]!.premiumShare).toBeLessThanOrEqual(pts[1]!.premiumShare);
  });
});
