// Caller intent honoured, and said (issue 11, point 3): one precedence — explicit model, tenant lock,
// hints, explicit mode or task type, priorities, preferred providers — applied in selection and
// stated in the reason; a requested length sets the output estimate; an interactive call never leads
// with a model too slow for its latency class. Through route_task over MCP and through runtime.route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerOf, taskCapability } from "../../src/config/catalog.js";
import { COST_TIERS } from "../../src/config/schema.js";
import { requestedLength } from "../../src/routing/length.js";
import type { Decision, RouteInput } from "../../src/routing/types.js";
import { startMcpHarness, type McpHarness } from "../helpers/mcp-harness.js";
import { plainModel } from "../helpers/catalog.js";

const SECRET = "sk-test-caller-intent-5ecret";
const env = {
  OPENAI_API_KEY: SECRET,
  ANTHROPIC_API_KEY: SECRET,
  OPENROUTER_API_KEY: SECRET,
  DEEPSEEK_API_KEY: SECRET,
  GEMINI_API_KEY: SECRET,
};


const overlay = {
  models: { "openai:plain-test": plainModel },
  tenants: {
    locked: { lockModel: "openai:gpt-4.1-mini" },
    "no-opus": { blockedModels: ["anthropic:claude-opus-4-5"] },
    "prefers-openai": { preferredProviders: ["openai"] },
    "prefers-anthropic": { preferredProviders: ["anthropic"] },
    "prefers-deepseek": { preferredProviders: ["deepseek"] },
    "slow-only": { allowedModels: ["deepseek:deepseek-reasoner", "openai:o3"] },
  },
};

/** A haiku-level prompt: one short factual question. */
const EASY = "What is the capital of Australia?";
/** Prompts whose best fit in realtime_assist used to be deepseek-reasoner (about 15 s typically). */
const REASONER_PROMPTS = [
  "How can we be sure if Jesus spoke Aramaic? What is the historical context of Aramaic? Since Jesus was Jewish, wouldn't he have spoken Hebrew, or alternatively spoken Greek since the Gospels were written in Greek?",
  "What is a meme? I have never read Richard Dawkins ‚The Selfish Gene‘ and i have never seen a screen or heard of the internet.",
  "If all bloops are razzies and all razzies are lazzies, are all bloops definitely lazzies? Explain step by step.",
];
const REASONER = "deepseek:deepseek-reasoner";

let h: McpHarness;

async function routeTask(args: RouteInput): Promise<Decision> {
  return h.callOk<Decision>("route_task", args as Record<string, unknown>);
}
const route = (input: RouteInput): Decision => h.runtime.route(input);
const cfg = () => h.runtime.config;
const latencyOf = (id: string) => cfg().models[id]!.latencyMs;
const interactiveCap = () => cfg().router.latencyClasses.interactive.maxTypicalLatencyMs!;

beforeAll(async () => {
  h = await startMcpHarness({ env, overlay, secrets: [SECRET], prefix: "switchboard-intent-" });
});
afterAll(async () => {
  await h?.close();
});

describe("hints (MCP sampling: in order, substring, advisory)", () => {
  it("a hint for claude-sonnet on a haiku-level prompt wins the primary, and the reason says so (observed bug)", async () => {
    const d = await routeTask({ prompt: EASY, modelPreferences: { hints: [{ name: "claude-sonnet" }] } });
    expect(d.model).toBe("anthropic:claude-sonnet-4-5");
    expect(d.reason).toContain('hint "claude-sonnet" → anthropic:claude-sonnet-4-5');
  });

  it("hints are evaluated in order: the first that matches an eligible model wins", async () => {
    const a = await routeTask({ prompt: EASY, modelPreferences: { hints: [{ name: "gpt-4.1-nano" }, { name: "claude-sonnet" }] } });
    expect(a.model).toBe("openai:gpt-4.1-nano");
    const b = await routeTask({ prompt: EASY, modelPreferences: { hints: [{ name: "claude-sonnet" }, { name: "gpt-4.1-nano" }] } });
    expect(b.model).toBe("anthropic:claude-sonnet-4-5");
  });

  it("matches display names and ignores case, dots and spaces", () => {
    expect(route({ prompt: EASY, modelPreferences: { hints: [{ name: "Claude Sonnet 4.5" }] } }).model).toBe("anthropic:claude-sonnet-4-5");
    expect(route({ prompt: EASY, modelPreferences: { hints: [{ name: "claude-sonnet-4.5" }] } }).model).toBe("anthropic:claude-sonnet-4-5");
  });

  it("within one hint that matches several models, the best-scored of them wins", () => {
    const d = route({ prompt: EASY, modelPreferences: { hints: [{ name: "claude" }] } });
    // An easy question in a standard-capped mode: Haiku fits best among the Claude models.
    expect(d.model).toBe("anthropic:claude-haiku-4-5");
    expect(d.reason).toContain('hint "claude" → anthropic:claude-haiku-4-5');
  });

  it("a hint the tenant's policy blocks is not used, and the reason says why", async () => {
    const d = await routeTask({ prompt: EASY, tenant: "no-opus", modelPreferences: { hints: [{ name: "claude-opus" }] } });
    expect(d.model).not.toBe("anthropic:claude-opus-4-5");
    expect(d.reason).toContain('hint "claude-opus" not used: anthropic:claude-opus-4-5 is not allowed for tenant no-opus');
  });

  it("a hint for a model that cannot do what the call needs is not used, and says why", () => {
    const d = route({ prompt: EASY, tools: ["timeline_commands"], modelPreferences: { hints: [{ name: "plain-test" }] } });
    expect(d.model).not.toBe("openai:plain-test");
    expect(d.reason).toContain('hint "plain-test" not used: openai:plain-test: does not support tool calls');
    // Without tools the same hint is honoured.
    expect(route({ prompt: EASY, modelPreferences: { hints: [{ name: "plain-test" }] } }).model).toBe("openai:plain-test");
  });

  it("a hint that matches nothing in the catalog says so, and the next hint is tried", async () => {
    const d = await routeTask({ prompt: EASY, modelPreferences: { hints: [{ name: "llama-9000" }, { name: "gpt-4.1-mini" }] } });
    expect(d.model).toBe("openai:gpt-4.1-mini");
    expect(d.reason).toContain('hint "llama-9000" not used: it matches no model in the catalog');
    expect(d.reason).toContain('hint "gpt-4.1-mini" → openai:gpt-4.1-mini');
  });

  it("a hint outranks the mode's cost ceiling, but models it let past stay out when another hint won", () => {
    const d = route({ prompt: EASY, mode: "realtime_assist", modelPreferences: { hints: [{ name: "claude-opus" }] } });
    expect(d.model).toBe("anthropic:claude-opus-4-5");
    expect(cfg().modes.realtime_assist!.maxCostTier).not.toBe("premium");
    const e = route({ prompt: EASY, mode: "realtime_assist", modelPreferences: { hints: [{ name: "gpt-4.1-nano" }, { name: "claude-opus" }] } });
    expect(e.model).toBe("openai:gpt-4.1-nano");
    expect(e.fallbacks.map((f) => f.model)).not.toContain("anthropic:claude-opus-4-5");
  });

  it("without hints, nothing about hints is said", () => {
    expect(route({ prompt: EASY }).reason).not.toMatch(/hint/i);
  });
});

describe("precedence: model > tenant lock > hint > mode/task > priorities > preferred providers", () => {
  it("an explicit model beats the tenant's lock and every hint", async () => {
    const d = await routeTask({ prompt: EASY, tenant: "locked", model: "anthropic:claude-haiku-4-5", modelPreferences: { hints: [{ name: "claude-sonnet" }] } });
    expect(d.model).toBe("anthropic:claude-haiku-4-5");
    expect(d.tier).toBe("explicit");
    expect(d.reason).toBe('The caller asked for anthropic:claude-haiku-4-5; hint "claude-sonnet" not used: an explicit model outranks hints.');
  });

  it("the tenant's lock beats hints", async () => {
    const d = await routeTask({ prompt: EASY, tenant: "locked", modelPreferences: { hints: [{ name: "claude-sonnet" }] } });
    expect(d.model).toBe("openai:gpt-4.1-mini");
    expect(d.reason).toBe(`Tenant locked is locked to openai:gpt-4.1-mini by policy; hint "claude-sonnet" not used: the tenant's lock outranks hints.`);
  });

  it("a hint beats an explicit mode and task type", async () => {
    const plain = await routeTask({ prompt: EASY, mode: "realtime_assist", taskType: "simple_qa" });
    expect(plain.model).not.toBe("anthropic:claude-sonnet-4-5");
    const d = await routeTask({ prompt: EASY, mode: "realtime_assist", taskType: "simple_qa", modelPreferences: { hints: [{ name: "claude-sonnet" }] } });
    expect(d.model).toBe("anthropic:claude-sonnet-4-5");
    expect(d.mode).toBe("realtime_assist");
  });

  it("a hint beats priorities", () => {
    const d = route({ prompt: EASY, modelPreferences: { intelligencePriority: 1, costPriority: 0, hints: [{ name: "gpt-4.1-nano" }] } });
    expect(d.model).toBe("openai:gpt-4.1-nano");
  });

  it("an explicit mode keeps its cost ceiling against priorities; an inferred one gives way", async () => {
    const prefs = { intelligencePriority: 1, costPriority: 0 };
    const inferred = await routeTask({ prompt: EASY, modelPreferences: prefs });
    expect(inferred.mode).toBe("realtime_assist");
    expect(inferred.costTier).toBe("premium");
    const named = await routeTask({ prompt: EASY, mode: "realtime_assist", modelPreferences: prefs });
    const ceiling = cfg().modes.realtime_assist!.maxCostTier;
    expect(named.costTier).toBe(ceiling);
    expect(COST_TIERS.indexOf(cfg().models[named.model]!.tier)).toBeLessThanOrEqual(COST_TIERS.indexOf(ceiling));
    expect(named.reason).toContain(`capped at ${ceiling} by the requested mode`);
  });

  it("priorities beat the tenant's preferred providers (which only break near-ties)", () => {
    const d = route({ prompt: EASY, tenant: "prefers-deepseek", modelPreferences: { intelligencePriority: 1, costPriority: 0 } });
    expect(d.provider).not.toBe("deepseek");
    expect(d.costTier).toBe("premium");
    expect(d.reason).not.toContain("tenant prefers");
  });
});

describe("priorities move the tier", () => {
  it("intelligencePriority 1 and costPriority 0 on a haiku-level prompt give the strongest capable model, not Haiku (observed bug)", async () => {
    const d = await routeTask({ prompt: EASY, modelPreferences: { intelligencePriority: 1, costPriority: 0 } });
    expect(d.model).not.toBe("anthropic:claude-haiku-4-5");
    expect(d.costTier).toBe("premium");
    expect(cfg().models[d.model]!.tier).toBe("premium");
    expect(d.reason).toContain("intelligencePriority 1 with costPriority 0: the strongest capable model");
    // Capability first: no premium model fast enough for the call fits the task better.
    const weights = cfg().tasks[d.taskType!].weights;
    const best = Math.max(
      ...Object.entries(cfg().models)
        .filter(([id, m]) => m.tier === "premium" && m.latencyMs <= interactiveCap() && Object.hasOwn(env, cfg().providers[providerOf(id)]!.apiKeyEnv ?? ""))
        .map(([, m]) => taskCapability(m, weights)),
    );
    expect(taskCapability(cfg().models[d.model]!, weights)).toBe(best);
  });

  it("costPriority 0.8 or more targets the economy tier and says so", () => {
    const prompt = "Explain the difference between TCP and UDP in detail, with examples of when to use each.";
    const base = route({ prompt });
    const d = route({ prompt, modelPreferences: { costPriority: 0.9 } });
    expect(d.costTier).toBe("economy");
    expect(d.reason).toContain("costPriority 0.9: economy");
    expect(d.estimate.costUsd).toBeLessThanOrEqual(base.estimate.costUsd);
  });

  it("costSensitivity keeps its one-step behaviour", () => {
    const d = route({ prompt: "Design a multi-region active-active architecture for our payments platform, covering data consistency, failover and cost.", costSensitivity: "high" });
    expect(d.reason).toContain("cost-sensitive");
  });
});

describe("a tenant's preferred providers break near-ties, visibly", () => {
  // Quality first on an easy question: Claude Sonnet 4.5 and GPT-4.1 score within a few percent.
  const prefs = { intelligencePriority: 1, costPriority: 0 };

  it("the preferred provider's model wins a near-tie and the reason says so", async () => {
    const neutral = route({ prompt: EASY, modelPreferences: prefs });
    const runnerUp = neutral.alternatives[0]!;
    expect(runnerUp.provider).not.toBe(neutral.provider);
    const tenant = `prefers-${runnerUp.provider}`;
    expect(Object.keys(cfg().tenants)).toContain(tenant);
    const d = await routeTask({ prompt: EASY, tenant, modelPreferences: prefs });
    expect(d.provider).toBe(runnerUp.provider);
    expect(d.reason).toContain(`tenant prefers ${runnerUp.provider}`);
    expect(d.alternatives.find((a) => a.model === neutral.model)?.why).toContain(`tenant ${tenant} prefers ${runnerUp.provider}`);
  });

  it("a preferred provider far behind does not win", () => {
    const neutral = route({ prompt: EASY, modelPreferences: prefs });
    const d = route({ prompt: EASY, tenant: "prefers-deepseek", modelPreferences: prefs });
    expect(d.model).toBe(neutral.model);
  });
});

describe("a requested length sets the output estimate", () => {
  const W = 1.35;
  const table: Array<[string, number | undefined]> = [
    ["Write a 5000-word essay on the history of the printing press.", Math.round(5000 * W)],
    ["Write 5,000 words on climate policy.", Math.round(5000 * W)],
    ["Give me a 5,000-word report on the market.", Math.round(5000 * W)],
    ["Write about 5k words on the topic.", Math.round(5000 * W)],
    ["Write two pages on the French Revolution.", Math.round(2 * 500 * W)],
    ["Draft a 3-page memo about the reorganisation.", Math.round(3 * 500 * W)],
    ["Summarize the meeting in three bullets.", 60],
    ["List the findings in 10 bullet points.", 200],
    ["Explain recursion in 50 words.", Math.round(50 * W)],
    ["Write a paragraph about dogs.", Math.round(120 * W)],
    ["Write a haiku about autumn.", 25],
    ["Describe Paris in one sentence.", Math.round(20 * W)],
    ["Write a product description of at most 2000 characters.", 500],
    ["Write 500-800 words on remote work.", Math.round(800 * W)],
    ["Write five hundred words about the sea.", Math.round(500 * W)],
    ["Answer in a few sentences: why is the sky blue?", Math.round(3 * 20 * W)],
    ["Escribe un ensayo de 500 palabras sobre el agua.", Math.round(500 * 1.7)],
    ["Écris un texte de 300 mots sur Paris.", Math.round(300 * 1.7)],
    ["Schreibe einen Aufsatz mit 400 Wörtern über Berlin.", Math.round(400 * 1.7)],
    // Lengths that describe the input, or things that are not lengths.
    ["Summarize this 2,000-word article for me.", undefined],
    ["Proofread the following 3 pages.", undefined],
    ["Two lines intersect at a point; find the angle between them.", undefined],
    ["Write a story with three characters.", undefined],
    ["Meso can type 15 pages in 5 minutes. How long do 40 pages take?", undefined],
    ["Each test case consists of two lines.", undefined],
    ["Build a 3-page website for my bakery.", undefined],
    ["What is a haiku?", undefined],
  ];

  it.each(table)("%s → %s", (prompt, tokens) => {
    expect(requestedLength(prompt, 128000)?.outputTokens).toBe(tokens);
  });

  it("a 5000-word essay is estimated at about 6,750 output tokens, not 1,500 (observed bug)", async () => {
    const d = await routeTask({ prompt: "Write a 5000-word essay on the history of the printing press." });
    expect(d.estimate.outputTokens).toBe(6750);
  });

  it("the caller's maxOutputTokens still wins", async () => {
    const d = await routeTask({ prompt: "Write a 5000-word essay on the history of the printing press.", maxOutputTokens: 1234 });
    expect(d.estimate.outputTokens).toBe(1234);
  });

  it("is capped at the largest maxOutput in the catalog", () => {
    const max = Math.max(...Object.values(cfg().models).map((m) => m.maxOutput));
    expect(route({ prompt: "Write 900,000 words of fan fiction." }).estimate.outputTokens).toBe(max);
  });

  it("on a coding task it only raises the estimate (the code is not counted in the words)", () => {
    const plain = route({ prompt: "Fix this function and explain it.\n\ndef f(x):\n    return x +", taskType: "debugging" });
    const short = route({ prompt: "Fix this function and explain the change in less than 20 words.\n\ndef f(x):\n    return x +", taskType: "debugging" });
    expect(short.estimate.outputTokens).toBe(plain.estimate.outputTokens);
  });

  it("reads a prompt quickly", () => {
    const prompt = "Please write a detailed, well-structured 1,500-word article about the economics of renewable energy in Europe. ".repeat(20);
    requestedLength(prompt, 128000);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) requestedLength(prompt, 128000);
    expect((performance.now() - t0) / 200).toBeLessThan(0.5);
  });
});

describe("interactive calls never lead with a model too slow for the latency class", () => {
  const firstTwo = (d: Decision) => [d.model, ...d.fallbacks.slice(0, 1).map((f) => f.model)];

  it("realtime_assist never puts deepseek-reasoner first or as first fallback (observed bug)", async () => {
    for (const prompt of REASONER_PROMPTS) {
      for (const d of [await routeTask({ prompt }), await routeTask({ prompt, mode: "realtime_assist" })]) {
        expect(d.mode).toBe("realtime_assist");
        expect(d.latency).toBe("interactive");
        for (const id of firstTwo(d)) expect(latencyOf(id), `${id} for "${prompt.slice(0, 40)}"`).toBeLessThanOrEqual(interactiveCap());
      }
    }
  });

  it("holds for inferred modes and the default tenant across many prompts", () => {
    for (const prompt of [...REASONER_PROMPTS, EASY, "Prove that the square root of 2 is irrational.", "Plan a three-week launch for a mobile app."]) {
      const d = route({ prompt });
      if (d.latency !== "interactive") continue;
      for (const id of firstTwo(d)) expect(latencyOf(id)).toBeLessThanOrEqual(interactiveCap());
    }
  });

  it("the slow model may still appear later in the fallbacks", () => {
    const later = REASONER_PROMPTS.map((prompt) => route({ prompt, mode: "realtime_assist" })).flatMap((d) => d.fallbacks.slice(1).map((f) => f.model));
    expect(later).toContain(REASONER);
  });

  it("a hint for deepseek-reasoner does not lift the cap (hints are advisory); the reason says why and how", async () => {
    const d = await routeTask({ prompt: EASY, mode: "realtime_assist", modelPreferences: { hints: [{ name: "deepseek-reasoner" }] } });
    expect(d.model).not.toBe(REASONER);
    expect(d.reason).toContain(`hint "deepseek-reasoner" not used: ${REASONER} typically takes ${latencyOf(REASONER)} ms, over the ${interactiveCap()} ms`);
    expect(d.reason).toContain("name it as model, or ask for latency background");
  });

  it("background latency has no cap: the same hint then wins", () => {
    const d = route({ prompt: EASY, mode: "realtime_assist", latency: "background", modelPreferences: { hints: [{ name: "deepseek-reasoner" }] } });
    expect(d.model).toBe(REASONER);
  });

  it("a caller naming deepseek-reasoner as model gets it; its first fallback is still fast", async () => {
    const d = await routeTask({ prompt: EASY, mode: "realtime_assist", model: REASONER });
    expect(d.model).toBe(REASONER);
    expect(latencyOf(d.fallbacks[0]!.model)).toBeLessThanOrEqual(interactiveCap());
  });

  it("when only slow models can serve, one leads anyway and the reason says so", () => {
    const d = route({ prompt: EASY, tenant: "slow-only", mode: "realtime_assist" });
    expect([REASONER, "openai:o3"]).toContain(d.model);
    expect(d.reason).toContain(`no model within the interactive latency class's ${interactiveCap()} ms could serve`);
  });

  it("alternatives that outscored the primary but are too slow say so", () => {
    const ds = REASONER_PROMPTS.map((prompt) => route({ prompt }));
    const whys = ds.flatMap((d) => d.alternatives.filter((a) => a.model === REASONER).map((a) => a.why));
    expect(whys.some((w) => w.includes(`over the ${interactiveCap()} ms an interactive call allows`))).toBe(true);
  });
});
