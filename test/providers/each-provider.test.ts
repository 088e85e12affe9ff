// Every provider Switchboard offers can serve on its own key: for each LLM provider, a Runtime whose
// env holds only that provider's key (and base URL, pointing at a loopback fake) routes to it, runs
// run_llm on it with the provider's own model name, and lists it configured in switchboard://status.
// Service keys alone enable their jobs (Tavily or Perplexity: research; ElevenLabs: voiceover; a
// Replicate token alone is covered by test/tools/media-tools.test.ts).
import { request as httpRequest } from "node:http";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { modelName, providerOf } from "../../src/config/model-id.js";
import { startMcpHarness, toolOverlay, type McpHarness } from "../helpers/mcp-harness.js";
import type { RunOutput } from "../helpers/run-llm.js";
import { startOpenAIFake, type FakeServer, type RecordedRequest } from "../fakes/openai-fake.js";
import { startAnthropicFake } from "../fakes/anthropic-fake.js";
import { listenLoopback, type Loopback } from "../fakes/loopback.js";
import { startTavilyFake, type TavilyFake } from "../fakes/tavily-fake.js";
import { startPerplexityFake, type PerplexityFake } from "../fakes/perplexity-fake.js";
import { startElevenLabsFake, type ElevenLabsFake } from "../fakes/elevenlabs-fake.js";

const PROMPT = "What is the capital of Peru?";
/** One distinctive key per provider; all of them are checked for in every result. */
const KEYS = {
  openai: "sk-test-EACHKEY-openai",
  anthropic: "ant-test-EACHKEY-anthropic",
  openrouter: "or-test-EACHKEY-openrouter",
  deepseek: "ds-test-EACHKEY-deepseek",
  google: "gm-test-EACHKEY-google",
  tavily: "tvly-test-EACHKEY-tavily",
  perplexity: "pplx-test-EACHKEY-perplexity",
  elevenlabs: "xi-test-EACHKEY-elevenlabs",
} as const;
const SECRETS = Object.values(KEYS);

/** Google's OpenAI-compatible endpoint lives under /v1beta/openai, not /v1. */
const GOOGLE_BASE_PATH = "/v1beta/openai";

interface Decision {
  model: string;
  provider: string;
  fallbacks: Array<{ model: string; provider: string }>;
}

interface LlmCase {
  provider: string;
  /** The env var holding its key (null: keyless, turned on by its base URL). */
  keyEnv: string | null;
  wire: "openai" | "anthropic";
}

const LLM_CASES: LlmCase[] = [
  { provider: "openai", keyEnv: "OPENAI_API_KEY", wire: "openai" },
  { provider: "anthropic", keyEnv: "ANTHROPIC_API_KEY", wire: "anthropic" },
  { provider: "openrouter", keyEnv: "OPENROUTER_API_KEY", wire: "openai" },
  { provider: "deepseek", keyEnv: "DEEPSEEK_API_KEY", wire: "openai" },
  { provider: "google", keyEnv: "GEMINI_API_KEY", wire: "openai" },
  { provider: "ollama", keyEnv: null, wire: "openai" },
];

/**
 * A path-rewriting pass-through in front of the OpenAI fake: serves `<origin>/v1beta/openai/...` the
 * way Google does, records the path the SDK used, and forwards to the fake's `/v1/...`.
 */
type GoogleFront = Loopback & { url: string; paths: string[] };

async function startGoogleFront(fake: FakeServer): Promise<GoogleFront> {
  const target = new URL(fake.url); // http://127.0.0.1:PORT/v1
  const paths: string[] = [];
  const front = await listenLoopback(async (req, res) => {
    const path = req.url ?? "/";
    paths.push(path.split("?")[0]!);
    const rewritten = path.startsWith(GOOGLE_BASE_PATH + "/") ? target.pathname + path.slice(GOOGLE_BASE_PATH.length) : "/not-google" + path;
    await new Promise<void>((resolve, reject) => {
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: rewritten, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on("end", resolve);
        upRes.on("error", reject);
      });
      up.on("error", reject);
      req.pipe(up);
    });
  });
  return { ...front, url: front.origin + GOOGLE_BASE_PATH, paths };
}

function startHarness(env: NodeJS.ProcessEnv, overlay?: (dir: string) => Record<string, unknown>): Promise<McpHarness> {
  return startMcpHarness({
    env,
    secrets: SECRETS,
    clientName: "each-provider-tests",
    prefix: "switchboard-each-provider-",
    overlay: overlay ?? toolOverlay({}),
  });
}

async function expectOnlyConfigured(h: McpHarness, ...names: string[]): Promise<void> {
  const status = await h.readStatus();
  const configured = status.providers.filter((p) => p.configured).map((p) => p.name);
  expect(configured.sort()).toEqual([...names].sort());
}

describe("the shipped catalog", () => {
  const { config } = loadConfig({ env: {} });

  it("gives every LLM provider at least one model, and every service provider at least one service", () => {
    for (const [name, p] of Object.entries(config.providers)) {
      const models = Object.keys(config.models).filter((id) => providerOf(id) === name);
      const services = Object.keys(config.services).filter((id) => providerOf(id) === name);
      if (p.api === "tavily" || p.api === "replicate" || p.api === "elevenlabs") expect(services.length, name).toBeGreaterThan(0);
      else expect(models.length + services.length, name).toBeGreaterThan(0);
    }
    for (const c of LLM_CASES) {
      expect(Object.keys(config.models).some((id) => providerOf(id) === c.provider), c.provider).toBe(true);
      expect(config.providers[c.provider]?.apiKeyEnv ?? null, c.provider).toBe(c.keyEnv);
    }
  });

  it("reaches Gemini directly through Google's OpenAI-compatible endpoint with GEMINI_API_KEY", () => {
    expect(config.providers.google).toMatchObject({
      api: "openai-compatible",
      baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
      apiKeyEnv: "GEMINI_API_KEY",
    });
    expect(Object.keys(config.models).filter((id) => providerOf(id) === "google")).toEqual(
      expect.arrayContaining(["google:gemini-2.5-pro", "google:gemini-2.5-flash"]),
    );
  });
});

describe.each(LLM_CASES)("$provider alone", ({ provider, keyEnv, wire }) => {
  // A fake of its own per provider: no pooled connection from another suite's client is reused.
  let fake: FakeServer;
  let google: GoogleFront | undefined;
  let h: McpHarness;
  const baseUrl = () => google?.url ?? fake.url;
  const received = (model: string): RecordedRequest[] => fake.requests.filter((r) => r.body?.model === model);

  beforeAll(async () => {
    fake = wire === "anthropic" ? await startAnthropicFake() : await startOpenAIFake();
    if (provider === "google") google = await startGoogleFront(fake);
    const env: NodeJS.ProcessEnv = { [`${provider.toUpperCase()}_BASE_URL`]: baseUrl() };
    if (keyEnv) env[keyEnv] = KEYS[provider as keyof typeof KEYS];
    h = await startHarness(env);
  });
  afterAll(async () => {
    await h?.close();
    await google?.close();
    await fake?.close();
  });

  it("is the only provider switchboard://status lists as configured", async () => {
    await expectOnlyConfigured(h, provider);
    const status = await h.readStatus();
    expect(status.providers.find((p) => p.name === provider)).toMatchObject({ configured: true, keyEnv, baseUrl: baseUrl() });
  });

  it("route_task routes to its models only (primary and fallbacks)", async () => {
    const d = await h.callOk<Decision>("route_task", { prompt: PROMPT });
    expect(d.provider).toBe(provider);
    expect(providerOf(d.model)).toBe(provider);
    for (const f of d.fallbacks) expect(f.provider, f.model).toBe(provider);
  });

  it("run_llm answers on it, and the fake sees the provider's own model name", async () => {
    const out = await h.callOk<RunOutput>("run_llm", { prompt: PROMPT });
    expect(out.provider).toBe(provider);
    expect(providerOf(out.model)).toBe(provider);
    expect(out.decision.routedModel).toBe(out.model);
    expect(out.text).toContain("fake answer");
    expect(out.attempts.map((a) => [a.model, a.outcome])).toEqual([[out.model, "ok"]]);

    const reqs = received(modelName(out.model));
    expect(reqs, JSON.stringify(fake.requests.map((r) => r.body?.model))).toHaveLength(1);
    const req = reqs[0]!;
    if (wire === "anthropic") {
      expect(req.path).toBe("/v1/messages");
      const auth = [req.headers["x-api-key"], req.headers["authorization"]].join(" ");
      expect(auth).toContain(KEYS.anthropic);
    } else {
      expect(req.path).toBe("/v1/chat/completions");
      if (keyEnv) expect(req.headers["authorization"]).toBe(`Bearer ${KEYS[provider as keyof typeof KEYS]}`);
    }
    if (provider === "google") {
      // The SDK called the OpenAI-compatible chat completions path under the configured base URL.
      expect(google?.paths).toEqual([`${GOOGLE_BASE_PATH}/chat/completions`]);
    }
  });
});

describe("google alone: each Gemini model is callable by name", () => {
  let fake: FakeServer;
  let google: GoogleFront;
  let h: McpHarness;
  beforeAll(async () => {
    fake = await startOpenAIFake();
    google = await startGoogleFront(fake);
    h = await startHarness({ GEMINI_API_KEY: KEYS.google, GOOGLE_BASE_URL: google.url });
  });
  afterAll(async () => {
    await h?.close();
    await google?.close();
    await fake?.close();
  });

  it.each(["google:gemini-2.5-pro", "google:gemini-2.5-flash"])("%s", async (model) => {
    fake.reset();
    google.paths.length = 0;
    const out = await h.callOk<RunOutput>("run_llm", { prompt: PROMPT, model });
    expect(out.model).toBe(model);
    expect(out.provider).toBe("google");
    expect(fake.requests.map((r) => r.body?.model)).toEqual([modelName(model)]);
    expect(google.paths).toEqual([`${GOOGLE_BASE_PATH}/chat/completions`]);
  });
});

describe("service keys alone", () => {
  let tav: TavilyFake;
  let pplx: PerplexityFake;
  let eleven: ElevenLabsFake;
  beforeAll(async () => {
    [tav, pplx, eleven] = await Promise.all([startTavilyFake(), startPerplexityFake(), startElevenLabsFake()]);
  });
  afterAll(async () => {
    await Promise.all([tav?.close(), pplx?.close(), eleven?.close()]);
  });

  interface ResearchOut {
    answer: string;
    citations: Array<{ n: number; url: string }>;
    note?: string;
    providers: { retrieval: string; synthesis?: string };
  }

  it("Tavily: research returns sources (no LLM to synthesize, so a note says so)", async () => {
    const h = await startHarness({ TAVILY_API_KEY: KEYS.tavily, TAVILY_BASE_URL: tav.url });
    try {
      await expectOnlyConfigured(h, "tavily");
      const out = await h.callOk<ResearchOut>("research", { question: "Who won the 2022 FIFA World Cup final?" });
      expect(out.providers.retrieval.startsWith("tavily:")).toBe(true);
      expect(out.citations.length).toBeGreaterThan(0);
      expect(out.citations[0]).toMatchObject({ n: 1 });
      expect(out.note).toMatch(/no LLM is available/);
      expect(tav.requests.filter((r) => r.path === "/search")).toHaveLength(1);
      expect(pplx.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it("Perplexity: research returns sources with Perplexity's own answer; run_llm is not served by it", async () => {
    const h = await startHarness({ PERPLEXITY_API_KEY: KEYS.perplexity, PERPLEXITY_BASE_URL: pplx.url });
    try {
      await expectOnlyConfigured(h, "perplexity");
      pplx.enqueue({ text: "Argentina won [1].", citations: ["https://a.example/1"] });
      const out = await h.callOk<ResearchOut>("research", { question: "Who won the 2022 FIFA World Cup final?" });
      expect(out.providers).toEqual({ retrieval: "perplexity:sonar-pro" });
      expect(out.answer).toBe("Argentina won [1].");
      expect(out.citations.map((c) => c.url)).toEqual(["https://a.example/1"]);

      // Sonar is a retrieval service here, not a catalog LLM: run_llm asks for an LLM key.
      const err = await h.callFail("run_llm", { prompt: PROMPT });
      expect(err.code).toBe("no_provider_configured");
    } finally {
      await h.close();
    }
  });

  it("ElevenLabs: voiceover speaks and saves the audio", async () => {
    const h = await startHarness({ ELEVENLABS_API_KEY: KEYS.elevenlabs, ELEVENLABS_BASE_URL: eleven.url }, (dir) =>
      toolOverlay({ files: { allowedInputDirs: [dir], outputDir: join(dir, "out"), maxInlineBytes: 2000, maxFileBytes: 1_000_000 } }),
    );
    try {
      await expectOnlyConfigured(h, "elevenlabs");
      const out = await h.callOk<{ provider: string; model: string; file: { path: string; bytes: number } }>("voiceover", { text: "Hello there." });
      expect(out.provider).toBe("elevenlabs");
      expect(providerOf(out.model)).toBe("elevenlabs");
      expect(out.file.bytes).toBeGreaterThan(0);
      expect(out.file.path.startsWith(join(h.dir, "out") + sep)).toBe(true);
      expect(eleven.requests).toHaveLength(1);
      expect(eleven.requests[0]!.headers["xi-api-key"]).toBe(KEYS.elevenlabs);
    } finally {
      await h.close();
    }
  });
});
