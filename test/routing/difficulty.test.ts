import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig, SHIPPED_CONFIG_DIR } from "../../src/config/load.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import type { TaskClassifier } from "../../src/routing/classifier.js";
import { loadOrTrainClassifier } from "../../src/routing/classifier-cache.js";
import { askedText, DIFFICULTY_FEATURES, difficultyModel, operatingPoint, scoreDifficulty, textBuckets } from "../../src/routing/difficulty.js";
import { createRouter, type Router } from "../../src/routing/router.js";
import { detectSignals } from "../../src/routing/signals.js";
import type { RouteContext, RouteInput } from "../../src/routing/types.js";

let cfg: SwitchboardConfig;
let version: string;
let classifier: TaskClassifier;
let router: Router;
let ctx: RouteContext;

const EASY = "What is the capital of France?";
const HARD =
  "A store sells pencils at 3 for $1.25 and erasers at 2 for $0.90. Maria buys 18 pencils and 7 erasers, pays with a $20 bill, " +
  "then returns 4 pencils for a refund at the same unit price. She spends 35% of her change on stickers that cost $0.45 each. " +
  "How many stickers can she buy, and how much money does she have left after 3 days if she saves $2.50 each day?";

function withConfig(patch: (c: SwitchboardConfig) => SwitchboardConfig): Router {
  return createRouter(patch(structuredClone(cfg)), version, classifier);
}

beforeAll(() => {
  const loaded = loadConfig({ env: {} });
  cfg = loaded.config;
  version = loaded.version;
  classifier = loadOrTrainClassifier(cfg).classifier;
  router = createRouter(cfg, version, classifier);
  ctx = { configuredProviders: new Set(Object.keys(cfg.providers)) };
});

describe("the shipped difficulty model", () => {
  it("loads from config/difficulty.json through the config loader, with the code's features", () => {
    const file = JSON.parse(readFileSync(join(SHIPPED_CONFIG_DIR, "difficulty.json"), "utf8")) as { router: { difficulty: { features: string[] } } };
    expect(file.router.difficulty.features).toEqual([...DIFFICULTY_FEATURES]);
    const m = difficultyModel(cfg);
    expect(m).toBeDefined();
    expect(m!.operatingPoints.length).toBeGreaterThan(5);
    expect(m!.measured?.sourceHeldOut).toBeDefined();
  });

  it("scores an obviously hard prompt above an obviously easy one, with reasons", () => {
    const easy = router.decide({ prompt: EASY }, ctx);
    const hard = router.decide({ prompt: HARD }, ctx);
    expect(easy.difficulty).toBeDefined();
    expect(hard.difficulty!.score).toBeGreaterThan(easy.difficulty!.score);
    expect(hard.difficulty!.score).toBeGreaterThan(0);
    expect(hard.difficulty!.score).toBeLessThan(1);
    expect(hard.difficulty!.reasons.length).toBeGreaterThan(0);
    expect(hard.difficulty!.qualityTarget).toBe(cfg.router.qualityTarget);
  });

  it("a higher operating point needs a lower (or equal) threshold", () => {
    const m = difficultyModel(cfg)!;
    expect(operatingPoint(m, 0.99).threshold).toBeLessThanOrEqual(operatingPoint(m, 0.85).threshold);
    expect(operatingPoint(m, 0.99).premiumShare).toBeGreaterThanOrEqual(operatingPoint(m, 0.85).premiumShare);
  });

  it("is left out when the config ships no model, and the task table decides", () => {
    const r = withConfig((c) => ({ ...c, router: { ...c.router, difficulty: undefined } }));
    const d = r.decide({ prompt: HARD }, ctx);
    expect(d.difficulty).toBeUndefined();
    expect(d.reason).not.toMatch(/difficulty/);
  });
});

describe("the wording part", () => {
  it("hashes words in one pass: case and punctuation do not matter, order of first appearance, in range", () => {
    expect(textBuckets("Hello, WORLD!", 2048)).toEqual(textBuckets("hello world", 2048));
    expect(textBuckets("hello world hello", 2048)).toHaveLength(2);
    expect(textBuckets("", 2048)).toEqual([]);
    expect(textBuckets("  ...  ", 2048)).toEqual([]);
    const b = textBuckets("Les élèves 42 x_y", 16);
    expect(b.length).toBeGreaterThan(2);
    for (const k of b) expect(k >= 0 && k < 16 && Number.isInteger(k)).toBe(true);
    // 32-bit FNV-1a of "a" is 0xe40c292c.
    expect(textBuckets("a", 2 ** 31)).toEqual([0xe40c292c % 2 ** 31]);
  });

  it("reads what is asked now: the prompt and the last user turn", () => {
    expect(askedText({ prompt: "p" })).toBe("p");
    expect(askedText({ prompt: "sys", messages: [{ role: "user", content: "old" }, { role: "assistant", content: "a" }, { role: "user", content: "new" }] })).toBe("sys\n\nnew");
  });

  it("ships as numbers only: every string in the file is a description, a feature name or a task type", () => {
    const file = JSON.parse(readFileSync(join(SHIPPED_CONFIG_DIR, "difficulty.json"), "utf8")) as { router: { difficulty: Record<string, unknown> } };
    const m = file.router.difficulty as { text?: { buckets: number; weights: number[] }; taskTypes: string[] };
    expect(m.text).toBeDefined();
    expect(m.text!.weights).toHaveLength(m.text!.buckets);
    expect(m.text!.weights.some((w) => w !== 0)).toBe(true);
    const allowed = new Set<string>([...DIFFICULTY_FEATURES, ...m.taskTypes]);
    const strings: Array<[string, string]> = [];
    const walk = (v: unknown, key: string) => {
      if (typeof v === "string") strings.push([key, v]);
      else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    walk(file, "");
    for (const [key, v] of strings) expect(key === "about" || key === "label" || allowed.has(v), `${key}: ${v}`).toBe(true);
  });

  it("moves the score, and its reason names no word of the prompt", () => {
    const m = difficultyModel(cfg)!;
    const d = router.decide({ prompt: HARD }, ctx).difficulty!;
    const base = { taskType: "math" as const, signals: detectSignals(HARD), complexityPoints: 0, complexityWhy: [] };
    const without = scoreDifficulty(m, base);
    const withText = scoreDifficulty(m, { ...base, text: HARD });
    expect(withText.score).not.toBe(without.score);
    const phrases = /^(wording like hard items|[a-z ]+ task|long prompt|short prompt|much code|little code|mostly code|mostly prose|formal math notation|math terms|no math terms|many numbers|few numbers|multi-step word problem|not a word problem|multiple choice|open answer|several questions|asks for depth or rigour|not in English|error trace|many complexity points|few complexity points)$/;
    for (const r of [...d.reasons, ...withText.reasons]) expect(r).toMatch(phrases);
  });

  it("a model whose wording weights do not match its bucket count is not used", () => {
    const bad = structuredClone(cfg);
    bad.router.difficulty!.text!.weights = bad.router.difficulty!.text!.weights.slice(1);
    expect(difficultyModel(bad)).toBeUndefined();
  });
});

describe("the operating point moves the tier", () => {
  const decide = (input: RouteInput, r = router) => r.decide(input, ctx);

  it("a quality target of 1 sends the call to premium and says why", () => {
    const d = decide({ prompt: HARD, qualityTarget: 1 });
    expect(d.costTier).toBe("premium");
    expect(d.reason).toMatch(/difficulty \d\.\d\d ≥ \d\.\d\d: premium/);
  });

  it("a low quality target keeps the same prompt off premium", () => {
    const d = decide({ prompt: HARD, qualityTarget: 0.8 });
    expect(d.costTier).not.toBe("premium");
    expect(d.difficulty!.threshold).toBeGreaterThan(d.difficulty!.score);
  });

  it("a tenant's qualityTarget applies, and a call's overrides it", () => {
    const r = withConfig((c) => ({ ...c, tenants: { ...c.tenants, careful: { qualityTarget: 1 }, thrifty: { qualityTarget: 0.8 } } }));
    expect(decide({ prompt: HARD, tenant: "careful" }, r).costTier).toBe("premium");
    expect(decide({ prompt: HARD, tenant: "careful" }, r).difficulty!.qualityTarget).toBe(1);
    expect(decide({ prompt: HARD, tenant: "thrifty" }, r).costTier).not.toBe("premium");
    expect(decide({ prompt: HARD, tenant: "thrifty", qualityTarget: 1 }, r).costTier).toBe("premium");
  });

  it("the router's qualityTarget is the default", () => {
    const hi = withConfig((c) => ({ ...c, router: { ...c.router, qualityTarget: 1 } }));
    const lo = withConfig((c) => ({ ...c, router: { ...c.router, qualityTarget: 0.8 } }));
    expect(decide({ prompt: HARD }, hi).costTier).toBe("premium");
    expect(decide({ prompt: HARD }, lo).costTier).not.toBe("premium");
  });
});

describe("degraded mode and explicit tiers still win", () => {
  it("a budget downgrade sends even a premium-difficulty call to economy", () => {
    const d = router.decide({ prompt: HARD, qualityTarget: 1 }, { ...ctx, degrade: { reason: "budget 85% used: cheapest adequate model" } });
    expect(d.costTier).toBe("economy");
  });

  it("costPriority and costSensitivity move the tier after the difficulty", () => {
    expect(router.decide({ prompt: HARD, qualityTarget: 1, modelPreferences: { costPriority: 0.9 } }, ctx).costTier).toBe("economy");
    expect(router.decide({ prompt: HARD, qualityTarget: 1, costSensitivity: "high" }, ctx).costTier).toBe("standard");
  });

  it("quality-first priorities reach premium whatever the difficulty", () => {
    const d = router.decide({ prompt: EASY, qualityTarget: 0.8, modelPreferences: { intelligencePriority: 1, costPriority: 0 } }, ctx);
    expect(d.costTier).toBe("premium");
  });

  it("a forced model is served, and the difficulty is still reported", () => {
    const model = Object.keys(cfg.models).find((id) => cfg.models[id]!.tier === "economy")!;
    const d = router.decide({ prompt: HARD, qualityTarget: 1, model }, ctx);
    expect(d.model).toBe(model);
    expect(d.costTier).toBe("economy");
    expect(d.difficulty).toBeDefined();
  });
});
