import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { providerOf } from "../../src/config/catalog.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import YAML from "yaml";
import { loadConfig, type LoadedConfig } from "../../src/config/load.js";
import { COMPLEXITIES, COST_TIERS, TASK_TYPES, type SwitchboardConfig } from "../../src/config/schema.js";
import { SwitchboardError, type ErrorBody } from "../../src/errors.js";
import type { TaskClassifier } from "../../src/routing/classifier.js";
import { loadOrTrainClassifier } from "../../src/routing/classifier-cache.js";
import { createRouter, type Router } from "../../src/routing/router.js";
import type { Decision, PreferenceAdjuster, RouteContext, RouteInput } from "../../src/routing/types.js";
import { plainModel } from "../helpers/catalog.js";

const dir = mkdtempSync(join(tmpdir(), "switchboard-router-"));
let files = 0;

let shipped: LoadedConfig;
let cfg: SwitchboardConfig;
let classifier: TaskClassifier;
let router: Router;
/** Every provider that takes a key: "all keys set". Keyless (local) providers are left out. */
let keyed: Set<string>;
let all: RouteContext;

/** A router over the shipped config plus an overlay; reuses the one classifier (the examples are the same). */
function routerWith(doc: unknown): Router {
  const file = join(dir, `overlay-${files++}.yaml`);
  writeFileSync(file, YAML.stringify(doc));
  const { config, version } = loadConfig({ overlayFile: file, env: {} });
  return createRouter(config, version, classifier);
}

function invalid(fn: () => unknown): ErrorBody {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    const body = (err as SwitchboardError).body;
    expect(body.code).toBe("invalid_request");
    expect(body.retryable).toBe(false);
    expect(body.message.length).toBeGreaterThan(0);
    return body;
  }
  throw new Error("expected a SwitchboardError, but nothing was thrown");
}

const adjusterFor = (model: string, delta: number, reason = `users preferred ${model} for this`): PreferenceAdjuster & { adjust: ReturnType<typeof vi.fn> } => ({
  adjust: vi.fn(() => [{ model, delta, reason }]),
});


const QUESTION = "What is the capital of France?";
const DESIGN = [
  "Design a distributed, horizontally scalable architecture for a global real-time chat service with 50 million daily users.",
  "Cover in depth:",
  "1. data partitioning and storage engines",
  "2. consistency trade-offs across regions",
  "3. presence and typing indicators",
  "4. message fan-out for large groups",
  "5. multi-region failover and disaster recovery",
  "6. observability, capacity planning and cost",
  "Discuss the trade-offs rigorously and give a comprehensive, production-ready plan with capacity estimates for each component.",
].join("\n");

beforeAll(() => {
  shipped = loadConfig({ env: {} });
  cfg = shipped.config;
  classifier = loadOrTrainClassifier(cfg).classifier;
  router = createRouter(cfg, shipped.version, classifier);
  keyed = new Set(Object.entries(cfg.providers).filter(([, p]) => p.apiKeyEnv !== null).map(([n]) => n));
  all = { configuredProviders: keyed };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const decide = (input: RouteInput, ctx: RouteContext = all, r: Router = router): Decision => r.decide(input, ctx);

describe("decision shape", () => {
  it("has every field, consistent with the config", () => {
    const d = decide({ prompt: QUESTION });
    expect(d.requestId).toMatch(/\S/);
    expect(cfg.modes[d.mode]).toBeDefined();
    expect(d.job).toBe(cfg.modes[d.mode]!.job);
    expect(TASK_TYPES).toContain(d.taskType);
    expect(COMPLEXITIES).toContain(d.complexity);
    expect(COST_TIERS).toContain(d.costTier);
    expect(cfg.models[d.model]).toBeDefined();
    expect(d.provider).toBe(providerOf(d.model));
    expect(["explicit", "signals", "classifier", "default"]).toContain(d.tier);
    expect(d.confidence).toBeGreaterThan(0);
    expect(d.confidence).toBeLessThanOrEqual(1);
    expect(Array.isArray(d.signals)).toBe(true);
    expect(d.reason).toContain(d.model);
    for (const f of d.fallbacks) {
      expect(cfg.models[f.model]).toBeDefined();
      expect(f.provider).toBe(providerOf(f.model));
    }
    expect(d.estimate.inputTokens).toBeGreaterThan(0);
    expect(d.estimate.outputTokens).toBeGreaterThan(0);
    expect(d.estimate.costUsd).toBeGreaterThan(0);
    expect(d.tools).toEqual(expect.arrayContaining(cfg.modes[d.mode]!.tools));
    expect(d.latency).toBe(cfg.modes[d.mode]!.latency);
    expect(d.tenant).toBe(cfg.router.defaultTenant);
    expect(d.adjustments).toEqual([]);
    expect(d.experiment).toBeUndefined();
    expect(d.configVersion).toBe(shipped.version);
    expect(typeof d.decisionMs).toBe("number");
    expect(d.decisionMs).toBeGreaterThanOrEqual(0);
    expect(d.decisionMs).toBeLessThan(1000);
  });

  it("keeps a given requestId and invents distinct ones otherwise", () => {
    expect(decide({ prompt: QUESTION, requestId: "req-42" }).requestId).toBe("req-42");
    expect(decide({ prompt: QUESTION }).requestId).not.toBe(decide({ prompt: QUESTION }).requestId);
  });

  it("is deterministic for the same input", () => {
    const a = decide({ prompt: DESIGN, requestId: "same" });
    const b = decide({ prompt: DESIGN, requestId: "same" });
    expect({ ...b, decisionMs: 0 }).toEqual({ ...a, decisionMs: 0 });
  });

  it("accepts chat messages instead of a prompt and counts the turns", () => {
    const d = decide({
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "I need help with my trip." },
        { role: "assistant", content: "Sure, where are you going?" },
        { role: "user", content: "Plan a three-day itinerary for Kyoto in autumn." },
      ],
    });
    expect(d.signals).toContain("conversation_turns:4");
    expect(cfg.models[d.model]).toBeDefined();
    const single = decide({ prompt: "Plan a three-day itinerary for Kyoto in autumn." });
    expect(d.estimate.inputTokens).toBeGreaterThan(single.estimate.inputTokens);
  });

  it("signals and the rule that fired are listed", () => {
    const d = decide({ prompt: "Translate into French: The library opens at nine." });
    expect(d.tier).toBe("signals");
    expect(d.taskType).toBe("translation");
    expect(d.signals).toContain("intent:translate");
    expect(d.signals.some((s) => s.startsWith("rule:"))).toBe(true);
  });
});

describe("tier 1: explicit choices", () => {
  it("an explicit model wins, with tier explicit", () => {
    const model = Object.keys(cfg.models).find((id) => cfg.models[id]!.tier === "premium" && keyed.has(providerOf(id)))!;
    const d = decide({ prompt: QUESTION, model });
    expect(d.model).toBe(model);
    expect(d.provider).toBe(providerOf(model));
    expect(d.tier).toBe("explicit");
    expect(d.costTier).toBe(cfg.models[model]!.tier);
    expect(d.fallbacks.map((f) => f.model)).not.toContain(model);
    expect(d.reason).toMatch(/caller asked/i);
  });

  it("a tenant's lockModel sends every call to that model", () => {
    const lock = Object.keys(cfg.models).filter((id) => keyed.has(providerOf(id))).at(-1)!;
    const r = routerWith({ tenants: { locked: { description: "policy lock", lockModel: lock } } });
    for (const prompt of [QUESTION, DESIGN, "Write a haiku about tea."]) {
      const d = decide({ prompt, tenant: "locked" }, all, r);
      expect(d.model).toBe(lock);
      expect(d.tier).toBe("explicit");
      expect(d.tenant).toBe("locked");
      expect(d.reason).toMatch(/locked|policy/i);
    }
  });

  it("an explicit taskType gives tier explicit and confidence 1", () => {
    const d = decide({ prompt: "Write a haiku about autumn leaves.", taskType: "math" });
    expect(d.taskType).toBe("math");
    expect(d.tier).toBe("explicit");
    expect(d.confidence).toBe(1);
  });

  it("an explicit mode is used, with its tools", () => {
    const [name, mode] = Object.entries(cfg.modes).find(([n, m]) => m.job === "llm" && m.tools.length > 0 && n !== cfg.tasks.simple_qa.mode)!;
    const d = decide({ prompt: QUESTION, mode: name });
    expect(d.mode).toBe(name);
    expect(d.modeSource).toBe("explicit");
    expect(d.tier).toBe("explicit");
    expect(d.tools).toEqual(expect.arrayContaining(mode.tools));
    expect(d.latency).toBe(mode.latency);
  });

  it("tools and mcpTools from the request are merged into the decision, without duplicates", () => {
    const [name, mode] = Object.entries(cfg.modes).find(([, m]) => m.job === "llm" && m.tools.length > 0)!;
    const d = decide({ prompt: QUESTION, mode: name, tools: ["my_tool", mode.tools[0]!], mcpTools: ["github.create_issue"] });
    expect(d.tools).toEqual(expect.arrayContaining([...mode.tools, "my_tool"]));
    expect(d.tools.filter((t) => t === mode.tools[0]).length).toBe(1);
    expect(d.mcpTools).toEqual(expect.arrayContaining([...mode.mcpTools, "github.create_issue"]));
    expect(cfg.models[d.model]!.supports.tools).toBe(true);
  });

  it("an explicit latency class is used", () => {
    expect(decide({ prompt: QUESTION, latency: "background" }).latency).toBe("background");
  });

  it("a non-LLM mode takes its configured chain", () => {
    const [name, mode] = Object.entries(cfg.modes).find(([, m]) => m.job !== "llm")!;
    const d = decide({ prompt: "Do the thing with this file.", mode: name });
    expect(d.job).toBe(mode.job);
    expect(d.model).toBe(mode.chain[0]);
    expect(d.fallbacks.map((f) => f.model)).toEqual(mode.chain.slice(1));
    expect(d.tier).toBe("explicit");
  });
});

describe("tiers 2 and 3, and the default tier", () => {
  it("a clear prompt is decided by signals or the classifier", () => {
    expect(["signals", "classifier"]).toContain(decide({ prompt: "Write a Python function that reverses a linked list." }).tier);
    expect(decide({ prompt: "hello!" })).toMatchObject({ tier: "signals", taskType: "simple_qa" });
  });

  it("when the classifier is unsure, the mode's default chain applies", () => {
    const r = routerWith({ router: { classifier: { minConfidence: 1 } } });
    const d = decide({ prompt: "ok so what about the other one then" }, all, r);
    expect(d.tier).toBe("default");
    const chain = r.config.modes[d.mode]!.chain;
    expect(chain).toContain(d.model);
    expect(d.reason).toMatch(/unsure/);
    expect(d.fallbacks.map((f) => f.model)).not.toContain(d.model);
  });
});

describe("selection constraints", () => {
  it("a context too large for most models leaves only the long-window ones", () => {
    const contextTokens = 600_000;
    const d = decide({ prompt: "Find every mention of the budget in these documents.", contextTokens });
    const need = d.estimate.inputTokens + d.estimate.outputTokens;
    expect(d.estimate.inputTokens).toBeGreaterThan(contextTokens);
    expect(Object.values(cfg.models).some((m) => m.contextWindow < need)).toBe(true);
    for (const id of [d.model, ...d.fallbacks.map((f) => f.model), ...d.alternatives.filter((a) => a.score !== undefined).map((a) => a.model)]) {
      expect(cfg.models[id]!.contextWindow, id).toBeGreaterThanOrEqual(need);
    }
  });

  it("a context larger than every window is refused", () => {
    const biggest = Math.max(...Object.values(cfg.models).map((m) => m.contextWindow));
    const body = invalid(() => decide({ prompt: "Summarize all of this.", contextTokens: biggest + 1 }));
    expect(body.message).toMatch(/context window/);
    expect(body.hint).toBeTruthy();
  });

  describe("hard filters on a model without tools or vision", () => {
    let r: Router;
    const plain = "openai:plain-test-model";
    const boost = () => adjusterFor(plain, 5);
    beforeAll(() => {
      r = routerWith({ models: { [plain]: plainModel } });
    });

    it("the boosted plain model wins when nothing rules it out", () => {
      expect(decide({ prompt: QUESTION }, { ...all, adjuster: boost() }, r).model).toBe(plain);
    });

    it("requested tools drop models without tool support", () => {
      const d = decide({ prompt: QUESTION, tools: ["web_search"] }, { ...all, adjuster: boost() }, r);
      expect(d.model).not.toBe(plain);
      expect(d.fallbacks.map((f) => f.model)).not.toContain(plain);
      expect(r.config.models[d.model]!.supports.tools).toBe(true);
      const viaMcp = decide({ prompt: QUESTION, mcpTools: ["fs.read"] }, { ...all, adjuster: boost() }, r);
      expect(viaMcp.model).not.toBe(plain);
    });

    it("an image attachment requires vision", () => {
      const d = decide({ prompt: "What breed is the dog in this photo?", attachments: [{ kind: "image", mimeType: "image/png" }] }, { ...all, adjuster: boost() }, r);
      expect(d.model).not.toBe(plain);
      expect(d.fallbacks.map((f) => f.model)).not.toContain(plain);
      expect(r.config.models[d.model]!.supports.vision).toBe(true);
      for (const f of d.fallbacks) expect(r.config.models[f.model]!.supports.vision).toBe(true);
    });

    it("a PDF requires document support", () => {
      const d = decide({ prompt: "Summarize the attached paper.", needs: { documents: true } }, { ...all, adjuster: boost() }, r);
      expect(d.model).not.toBe(plain);
      expect(r.config.models[d.model]!.supports.documents).toBe(true);
      for (const f of d.fallbacks) expect(r.config.models[f.model]!.supports.documents).toBe(true);
    });
  });

  it("server tools (web search) go to a model that runs them, and without one the route relaxes rather than fails", () => {
    const d = decide({ prompt: "Perform a web search for the query: capital of Peru", needs: { serverTools: true } });
    expect(cfg.models[d.model]!.supports.serverTools).toBe(true);
    for (const f of d.fallbacks) expect(cfg.models[f.model]!.supports.serverTools).toBe(true);
    const noAnthropic = decide({ prompt: "Perform a web search for the query: capital of Peru", needs: { serverTools: true } }, { configuredProviders: new Set([...keyed].filter((p) => p !== "anthropic")) });
    expect(noAnthropic.provider).not.toBe("anthropic");
    expect(noAnthropic.reason).toMatch(/server tools/);
  });

  it("on the shipped catalog, tool calls never go to a model without tool support", () => {
    const noTools = Object.keys(cfg.models).filter((id) => !cfg.models[id]!.supports.tools);
    for (const prompt of [QUESTION, DESIGN, "Solve 3x + 4 = 19 and show the steps."]) {
      for (const bad of noTools) {
        const d = decide({ prompt, tools: ["calculator"] }, { ...all, adjuster: adjusterFor(bad, 5) });
        expect(d.model).not.toBe(bad);
        expect(d.fallbacks.map((f) => f.model)).not.toContain(bad);
      }
    }
  });

  it("a tenant's blockedProviders are never used", () => {
    const blocked = [...keyed].filter((p) => Object.keys(cfg.models).some((id) => providerOf(id) === p)).slice(0, 2);
    expect(blocked.length).toBe(2);
    const r = routerWith({ tenants: { picky: { blockedProviders: blocked } } });
    const victim = Object.keys(cfg.models).find((id) => providerOf(id) === blocked[0])!;
    for (const prompt of [QUESTION, DESIGN, "Write a Rust function that parses an IPv4 address."]) {
      const d = decide({ prompt, tenant: "picky" }, { ...all, adjuster: adjusterFor(victim, 5) }, r);
      expect(blocked).not.toContain(d.provider);
      for (const f of d.fallbacks) expect(blocked).not.toContain(f.provider);
    }
    const body = invalid(() => decide({ prompt: QUESTION, tenant: "picky", model: victim }, all, r));
    expect(body.field).toBe("model");
  });

  it("a tenant's allowedModels limit the choice", () => {
    const allowed = Object.keys(cfg.models).filter((id) => keyed.has(providerOf(id))).slice(0, 2);
    const r = routerWith({ tenants: { narrow: { allowedModels: allowed } } });
    const d = decide({ prompt: DESIGN, tenant: "narrow" }, all, r);
    expect(allowed).toContain(d.model);
    for (const f of d.fallbacks) expect(allowed).toContain(f.model);
  });

  it("with only anthropic configured, an anthropic model is chosen", () => {
    const only = { configuredProviders: new Set(["anthropic"]) };
    for (const prompt of [QUESTION, DESIGN, "Write a Python function that reverses a linked list.", "Translate into German: good morning"]) {
      const d = decide({ prompt }, only);
      expect(d.provider, prompt).toBe("anthropic");
      for (const f of d.fallbacks) expect(f.provider).toBe("anthropic");
    }
  });

  it("unconfigured providers are ruled out softly: with none configured, something is still chosen", () => {
    const d = decide({ prompt: QUESTION }, { configuredProviders: new Set() });
    expect(cfg.models[d.model]).toBeDefined();
  });

  describe("the keyless local provider", () => {
    let local: string;
    beforeAll(() => {
      local = Object.keys(cfg.models).find((id) => cfg.providers[providerOf(id)]?.apiKeyEnv === null)!;
    });

    it("a disabled local model is never chosen, even when boosted", () => {
      expect(local).toBeDefined();
      for (const ctx of [all, { configuredProviders: new Set<string>() }]) {
        for (const prompt of [QUESTION, "Write a haiku about rain."]) {
          const d = decide({ prompt }, { ...ctx, adjuster: adjusterFor(local, 10) });
          expect(d.model).not.toBe(local);
          expect(d.fallbacks.map((f) => f.model)).not.toContain(local);
        }
      }
    });

    it("once enabled (configured), it can be chosen", () => {
      const ctx = { configuredProviders: new Set([...keyed, providerOf(local)]), adjuster: adjusterFor(local, 10) };
      expect(decide({ prompt: QUESTION }, ctx).model).toBe(local);
    });
  });
});

describe("cost tiers", () => {
  it("a one-line factual question gets the economy tier", () => {
    const d = decide({ prompt: QUESTION });
    expect(d.complexity).toBe("simple");
    expect(d.costTier).toBe("economy");
  });

  it("a long multi-part system design prompt gets the premium tier", () => {
    const d = decide({ prompt: DESIGN });
    expect(d.complexity).toBe("complex");
    expect(d.costTier).toBe("premium");
    expect(cfg.models[d.model]!.tier).toBe("premium");
  });

  it("costSensitivity high lowers the tier", () => {
    const base = decide({ prompt: DESIGN });
    const cheap = decide({ prompt: DESIGN, costSensitivity: "high" });
    expect(COST_TIERS.indexOf(cheap.costTier!)).toBe(COST_TIERS.indexOf(base.costTier!) - 1);
    expect(cheap.reason).toMatch(/cost-sensitive/);
    expect(cheap.estimate.costUsd).toBeLessThanOrEqual(base.estimate.costUsd);
  });

  it("with a task set to standard throughout, cost sensitivity (or costPriority) gives economy", () => {
    const r = routerWith({ tasks: { analysis: { tiers: { simple: "standard", medium: "standard", complex: "standard" } } } });
    const prompt = "Is a four-day work week good for productivity?";
    expect(decide({ prompt, taskType: "analysis" }, all, r).costTier).toBe("standard");
    expect(decide({ prompt, taskType: "analysis", costSensitivity: "high" }, all, r).costTier).toBe("economy");
    expect(decide({ prompt, taskType: "analysis", modelPreferences: { costPriority: 0.9 } }, all, r).costTier).toBe("economy");
    expect(decide({ prompt, taskType: "analysis", modelPreferences: { intelligencePriority: 0.95 } }, all, r).costTier).not.toBe("economy");
  });

  it("the tier never goes below economy", () => {
    expect(decide({ prompt: QUESTION, costSensitivity: "high" }).costTier).toBe("economy");
  });

  it("a degrade from the context drops to economy and says why", () => {
    const d = decide({ prompt: DESIGN }, { ...all, degrade: { reason: "tenant budget nearly spent" } });
    expect(d.costTier).toBe("economy");
    expect(d.reason).toContain("tenant budget nearly spent");
  });
});

describe("preferences, fallbacks, alternatives and estimates", () => {
  it("a model hint favours the matching model", () => {
    const base = decide({ prompt: QUESTION });
    // The name of the best-scored runner-up that the winner's id does not also contain.
    const hint = base.alternatives
      .filter((a) => a.score !== undefined)
      .map((a) => a.model.slice(a.model.lastIndexOf("/") + 1).split(":").at(-1)!)
      .find((h) => !base.model.includes(h))!;
    expect(hint).toBeDefined();
    const d = decide({ prompt: QUESTION, modelPreferences: { hints: [{ name: hint }] } });
    expect(d.model).toContain(hint);
  });

  it("fallbacks exclude the primary and prefer other providers", () => {
    for (const prompt of [QUESTION, DESIGN, "Write a Python function that reverses a linked list."]) {
      const d = decide({ prompt, taskType: "coding" });
      const fb = d.fallbacks.map((f) => f.model);
      expect(fb).not.toContain(d.model);
      expect(new Set(fb).size).toBe(fb.length);
      expect(fb.length).toBeGreaterThan(0);
      expect(fb.length).toBeLessThanOrEqual(cfg.router.maxFallbacks);
      expect(d.fallbacks[0]!.provider).not.toBe(d.provider);
      // Every other provider gets a slot before any provider gets a second one.
      const providers = d.fallbacks.map((f) => f.provider);
      expect(new Set(providers).size).toBe(providers.length);
    }
  });

  it("maxFallbacks 0 gives no fallbacks", () => {
    const r = routerWith({ router: { maxFallbacks: 0 } });
    expect(decide({ prompt: QUESTION }, all, r).fallbacks).toEqual([]);
  });

  it("alternatives say why they lost", () => {
    const d = decide({ prompt: DESIGN });
    expect(d.alternatives.length).toBeGreaterThan(0);
    for (const a of d.alternatives) {
      expect(a.model).not.toBe(d.model);
      expect(a.provider).toBe(providerOf(a.model));
      expect(a.why.trim().length).toBeGreaterThan(3);
    }
    const scored = d.alternatives.filter((a) => a.score !== undefined).map((a) => a.score!);
    for (let i = 1; i < scored.length; i++) expect(scored[i - 1]!).toBeGreaterThanOrEqual(scored[i]!);
  });

  it("the cost estimate is tokens times price", () => {
    for (const input of [{ prompt: QUESTION }, { prompt: DESIGN }, { prompt: QUESTION, maxOutputTokens: 1234, contextTokens: 5000 }]) {
      const d = decide(input);
      const m = cfg.models[d.model]!;
      const expected = (d.estimate.inputTokens * m.price.input + d.estimate.outputTokens * m.price.output) / 1e6;
      expect(d.estimate.costUsd).toBeCloseTo(expected, 6);
    }
  });

  it("maxOutputTokens, contextTokens and attachments feed the token estimate", () => {
    const base = decide({ prompt: QUESTION, taskType: "simple_qa" });
    const d = decide({ prompt: QUESTION, taskType: "simple_qa", maxOutputTokens: 1234, contextTokens: 5000 });
    expect(d.estimate.outputTokens).toBe(1234);
    expect(d.estimate.inputTokens).toBe(base.estimate.inputTokens + 5000);
    const doc = decide({ prompt: QUESTION, taskType: "simple_qa", attachments: [{ kind: "document", tokens: 777 }] });
    expect(doc.estimate.inputTokens).toBe(base.estimate.inputTokens + 777);
  });
});

describe("experiments", () => {
  // Each router has one experiment on the mode a factual question lands in; shipped ones are removed.
  const withExperiment = (share: number, model: string, tenants?: string[]) => {
    const off = Object.fromEntries(Object.keys(cfg.experiments).map((k) => [k, null]));
    const mode = decide({ prompt: QUESTION }).mode;
    return routerWith({ experiments: { ...off, "exp-under-test": { mode, model, share, enabled: true, ...(tenants ? { tenants } : {}) } } });
  };
  let control: Decision;
  let treatmentModel: string;
  beforeAll(() => {
    control = decide({ prompt: QUESTION, requestId: "r-1" });
    // A model that can serve the call but is not the one the router picks by itself.
    treatmentModel = control.alternatives.filter((a) => a.score !== undefined).at(-1)!.model;
  });

  it("share 1 puts every call in the treatment arm, on the experiment's model", () => {
    const r = withExperiment(1, treatmentModel);
    for (const requestId of ["r-1", "r-2", "r-3"]) {
      const d = decide({ prompt: QUESTION, requestId }, all, r);
      expect(d.experiment).toEqual({ name: "exp-under-test", arm: "treatment" });
      expect(d.model).toBe(treatmentModel);
      expect(d.reason).toMatch(/experiment exp-under-test/);
    }
  });

  it("share 0 keeps every call in the control arm, on the usual model", () => {
    const r = withExperiment(0, treatmentModel);
    const d = decide({ prompt: QUESTION, requestId: "r-1" }, all, r);
    expect(d.experiment).toEqual({ name: "exp-under-test", arm: "control" });
    expect(d.model).toBe(control.model);
  });

  it("the same requestId always lands in the same arm, and a split uses both arms", () => {
    const r = withExperiment(0.5, treatmentModel);
    const arms = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const requestId = `req-${i}`;
      const a = decide({ prompt: QUESTION, requestId }, all, r);
      const b = decide({ prompt: QUESTION, requestId }, all, r);
      expect(b.experiment).toEqual(a.experiment);
      expect(b.model).toBe(a.model);
      arms.add(a.experiment!.arm);
    }
    expect(arms).toEqual(new Set(["treatment", "control"]));
  });

  it("an experiment limited to other tenants does not apply", () => {
    const r = withExperiment(1, treatmentModel, ["some-other-tenant"]);
    const d = decide({ prompt: QUESTION, requestId: "r-1" }, all, r);
    expect(d.experiment).toBeUndefined();
    expect(d.model).toBe(control.model);
  });

  it("a disabled experiment does not apply", () => {
    const off = Object.fromEntries(Object.keys(cfg.experiments).map((k) => [k, null]));
    const r = routerWith({ experiments: { ...off, dormant: { mode: control.mode, model: treatmentModel, share: 1, enabled: false } } });
    expect(decide({ prompt: QUESTION, requestId: "r-1" }, all, r).experiment).toBeUndefined();
  });
});

describe("validation errors", () => {
  it("an empty prompt", () => {
    for (const input of [{ prompt: "" }, { prompt: "   \n " }, {}, { messages: [] }, { messages: [{ role: "user" as const, content: "  " }] }]) {
      expect(invalid(() => decide(input)).field).toBe("prompt");
    }
    // Attachments that say nothing (audio, video) do not make a prompt either.
    expect(invalid(() => decide({ messages: [{ role: "user", content: "" }], attachments: [{ kind: "audio" }] })).field).toBe("prompt");
  });

  it("an image or a document alone is a prompt: routed, to a model that can read it", () => {
    const d = decide({ messages: [{ role: "user", content: "" }], attachments: [{ kind: "image" }] });
    expect(cfg.models[d.model]!.supports.vision).toBe(true);
    // With no prompt or messages at all (route_task with attachments only).
    const bare = decide({ attachments: [{ kind: "image", mimeType: "image/png" }] });
    expect(cfg.models[bare.model]!.supports.vision).toBe(true);
    expect(bare.estimate.inputTokens).toBeGreaterThan(0);
    const pdf = decide({ messages: [{ role: "user", content: "" }], attachments: [{ kind: "document", tokens: 4500 }], needs: { documents: true } });
    expect(cfg.models[pdf.model]!.supports.documents).toBe(true);
  });

  it("an unknown mode lists the valid values and suggests the closest", () => {
    const name = Object.keys(cfg.modes)[0]!;
    const typo = name.slice(0, -1);
    const body = invalid(() => decide({ prompt: QUESTION, mode: typo }));
    expect(body.field).toBe("mode");
    expect(body.validValues).toEqual(Object.keys(cfg.modes));
    expect(body.hint).toContain(`"${name}"`);
    expect(body.message).toContain(typo);
  });

  it("an unknown model lists the valid values", () => {
    const body = invalid(() => decide({ prompt: QUESTION, model: "openai:gpt-nonexistent-9" }));
    expect(body.field).toBe("model");
    expect(body.validValues).toEqual(expect.arrayContaining(Object.keys(cfg.models)));
    expect(body.hint).toBeTruthy();
  });

  it("an unknown tenant", () => {
    const body = invalid(() => decide({ prompt: QUESTION, tenant: "no-such-tenant-anywhere" }));
    expect(body.field).toBe("tenant");
    expect(body.validValues).toEqual(Object.keys(cfg.tenants));
  });

  it("an unknown taskType", () => {
    const body = invalid(() => decide({ prompt: QUESTION, taskType: "poetry" as never }));
    expect(body.field).toBe("taskType");
    expect(body.validValues).toEqual([...TASK_TYPES]);
  });

  it("a prompt over maxPromptChars", () => {
    const r = routerWith({ router: { maxPromptChars: 200 } });
    expect(() => decide({ prompt: "a ".repeat(100) }, all, r)).not.toThrow();
    const body = invalid(() => decide({ prompt: "a ".repeat(100) + "b" }, all, r));
    expect(body.field).toBe("prompt");
    expect(body.message).toMatch(/over the limit/);
    // Messages count toward the limit too.
    invalid(() => decide({ messages: [{ role: "user", content: "x".repeat(150) }, { role: "user", content: "y".repeat(60) }] }, all, r));
  });

  it("the shipped limit applies too", () => {
    invalid(() => decide({ prompt: "z".repeat(cfg.router.maxPromptChars + 1) }));
  });

  it("the shipped limit refuses nothing the catalog's largest context window could take", () => {
    const largest = Math.max(...Object.values(cfg.models).map((m) => m.contextWindow));
    // About four characters a token in English prose and code (fewer in most other scripts).
    expect(cfg.router.maxPromptChars).toBeGreaterThanOrEqual(largest * 4);
    // A conversation past the old 400,000-character limit (a long agent session) routes.
    const turn = "The parser reads tokens one at a time and builds the tree. ".repeat(100);
    const messages = Array.from({ length: 90 }, (_, i) => ({ role: i % 2 ? ("assistant" as const) : ("user" as const), content: turn }));
    const d = decide({ messages });
    expect(d.estimate.inputTokens).toBeGreaterThan(100_000);
    expect(cfg.models[d.model]!.contextWindow).toBeGreaterThanOrEqual(d.estimate.inputTokens);
  });
});

describe("tier 4: the PreferenceAdjuster seam", () => {
  let base: Decision;
  let loser: string;
  beforeAll(() => {
    base = decide({ prompt: DESIGN });
    loser = base.alternatives.filter((a) => a.score !== undefined).at(-1)!.model;
  });

  it("a +1 adjustment makes a model win, and its reason is shown", () => {
    const adjuster = adjusterFor(loser, 1, "rated best by this team last week");
    const d = decide({ prompt: DESIGN, user: "u-7" }, { ...all, adjuster });
    expect(d.model).toBe(loser);
    expect(d.reason).toContain("rated best by this team last week");
    expect(d.adjustments).toEqual([{ model: loser, delta: 1, reason: "rated best by this team last week" }]);
    expect(adjuster.adjust).toHaveBeenCalledTimes(1);
    const q = adjuster.adjust.mock.calls[0]![0] as Parameters<PreferenceAdjuster["adjust"]>[0];
    expect(q).toMatchObject({ tenant: cfg.router.defaultTenant, user: "u-7", taskType: d.taskType, mode: d.mode });
    expect(q.candidates).toContain(loser);
  });

  it("a negative adjustment can take the winner out of first place", () => {
    const d = decide({ prompt: DESIGN }, { ...all, adjuster: adjusterFor(base.model, -1) });
    expect(d.model).not.toBe(base.model);
  });

  it("a tenant with learning: false ignores the adjuster", () => {
    const r = routerWith({ tenants: { frozen: { description: "no learning", learning: false } } });
    const plain = decide({ prompt: DESIGN, tenant: "frozen" }, all, r);
    const adjuster = adjusterFor(loser, 1);
    const d = decide({ prompt: DESIGN, tenant: "frozen" }, { ...all, adjuster }, r);
    expect(adjuster.adjust).not.toHaveBeenCalled();
    expect(d.adjustments).toEqual([]);
    expect(d.model).toBe(plain.model);
    expect(d.model).not.toBe(loser);
  });

  it("an explicit model ignores adjustments for the choice", () => {
    const d = decide({ prompt: DESIGN, model: base.model }, { ...all, adjuster: adjusterFor(loser, 5) });
    expect(d.model).toBe(base.model);
  });
});

describe("classify()", () => {
  it("returns the task type with its tier and confidence", () => {
    const c = router.classify("Translate into Italian: see you tomorrow");
    expect(c).toMatchObject({ taskType: "translation", tier: "signals" });
    expect(c.rule).toBeTruthy();
    const p = router.classify("Who painted the Mona Lisa?");
    expect(TASK_TYPES).toContain(p.taskType);
    expect(p.confidence).toBeGreaterThan(0);
  });
});

describe("the reason's wording", () => {
  it("names the task's size once (a simple question is not a 'simple simple qa')", () => {
    const d = decide({ prompt: QUESTION });
    expect(d.taskType).toBe("simple_qa");
    expect(d.complexity).toBe("simple");
    expect(d.reason).toContain("simple qa needs the");
    expect(d.reason).not.toMatch(/simple simple/);
  });
});
