// research over MCP: retrieval on Perplexity/Tavily (loopback fakes) with failover between them,
// synthesis by the routed LLM (OpenAI fake) with numbered citations, the no-LLM note, and the
// structured errors for missing keys and bad arguments.
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CreateMessageRequest, CreateMessageResult } from "@modelcontextprotocol/sdk/types.js";
import { startMcpHarness, toolOverlay, type Attempt, type ErrorBody, type McpHarness } from "../helpers/mcp-harness.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { startPerplexityFake, type PerplexityFake } from "../fakes/perplexity-fake.js";
import { startTavilyFake, type TavilyFake } from "../fakes/tavily-fake.js";

const KEYS = { openai: "sk-test-RESEARCHKEY-111", perplexity: "pplx-RESEARCHKEY-222", tavily: "tvly-RESEARCHKEY-333" } as const;

interface Citation {
  n: number;
  title: string;
  url: string;
  snippet: string;
  publishedAt?: string;
}
interface ResearchOut {
  answer: string;
  citations: Citation[];
  note?: string;
  providers: { retrieval: string; synthesis?: string };
  decision: { mode: string; tools: string[]; routedModel: string; requestId: string; reason: string };
  attempts: Attempt[];
  costUsd: number;
  latencyMs: number;
}

function startHarness(env: NodeJS.ProcessEnv, sampling?: (req: CreateMessageRequest) => CreateMessageResult): Promise<McpHarness> {
  return startMcpHarness({
    env,
    sampling,
    secrets: Object.values(KEYS),
    clientName: "research-tests",
    prefix: "switchboard-research-",
    overlay: (dir) => toolOverlay({ files: { allowedInputDirs: [dir], outputDir: join(dir, "out"), maxInlineBytes: 2000, maxFileBytes: 1_000_000 } }),
  });
}

let openai: FakeServer;
let pplx: PerplexityFake;
let tav: TavilyFake;
let h: McpHarness;

const fullEnv = () => ({
  OPENAI_API_KEY: KEYS.openai,
  OPENAI_BASE_URL: openai.url,
  PERPLEXITY_API_KEY: KEYS.perplexity,
  PERPLEXITY_BASE_URL: pplx.url,
  TAVILY_API_KEY: KEYS.tavily,
  TAVILY_BASE_URL: tav.url,
});

beforeAll(async () => {
  [openai, pplx, tav] = await Promise.all([startOpenAIFake(), startPerplexityFake(), startTavilyFake()]);
  h = await startHarness(fullEnv());
});
afterAll(async () => {
  await h?.close();
  await Promise.all([openai?.close(), pplx?.close(), tav?.close()]);
});
beforeEach(() => {
  openai.reset();
  pplx.reset();
  tav.reset();
});

async function ok(args: Record<string, unknown>, harness = h): Promise<ResearchOut> {
  const { res, out } = await harness.call<ResearchOut>("research", args);
  expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
  return out;
}
async function fail(args: Record<string, unknown>, harness = h): Promise<ErrorBody> {
  const { res, err } = await harness.call("research", args);
  expect(res.isError, JSON.stringify(res.structuredContent)).toBe(true);
  return err;
}

const QUESTION = "Who won the 2022 FIFA World Cup final?";

describe("research: web kind", () => {
  it("retrieves on Perplexity, then the routed LLM answers from numbered sources", async () => {
    openai.enqueue({ reply: { text: "Argentina won the final on penalties [1][2].", usage: { input: 900, output: 40 } } });
    const out = await ok({ question: QUESTION });

    expect(out.answer).toBe("Argentina won the final on penalties [1][2].");
    expect(out.citations).toEqual([
      { n: 1, title: "Source 1: example.org", url: "https://example.org/who-won-the-2022-fifa-world-cup-final-1", snippet: "Snippet from source 1.", publishedAt: "2025-06-02" },
      { n: 2, title: "Source 2: example.com", url: "https://example.com/who-won-the-2022-fifa-world-cup-final-2", snippet: "Snippet from source 2.", publishedAt: "2025-06-02" },
    ]);
    expect(out.note).toBeUndefined();
    expect(out.providers.retrieval).toBe("perplexity:sonar-pro");
    expect(out.providers.synthesis).toMatch(/^openai:/);
    expect(out.providers.synthesis).toBe(out.decision.routedModel);
    expect(out.decision.mode).toBe("research_analyst");
    expect(out.decision.tools).toEqual(expect.arrayContaining(["web_search", "deep_retrieval", "citation_builder"]));
    expect(out.attempts.map((a) => [a.model, a.outcome])).toEqual([
      ["perplexity:sonar-pro", "ok"],
      [out.providers.synthesis, "ok"],
    ]);
    // sonar-pro's per-request price plus the LLM's token cost.
    const m = h.runtime.config.models[out.providers.synthesis!]!;
    expect(out.costUsd).toBeCloseTo(0.006 + (900 * m.price.input + 40 * m.price.output) / 1e6, 8);

    expect(pplx.requests).toHaveLength(1);
    expect(pplx.requests[0]!.body).toMatchObject({ model: "sonar-pro", messages: expect.arrayContaining([{ role: "user", content: QUESTION }]) });
    expect(pplx.requests[0]!.headers["authorization"]).toBe(`Bearer ${KEYS.perplexity}`);
    expect(tav.requests).toHaveLength(0);

    // The synthesis model saw the question and both sources, numbered, in its prompt.
    expect(openai.requests).toHaveLength(1);
    const body = openai.requests[0]!.body as { model: string; messages: Array<{ role: string; content: string }> };
    expect(`openai:${body.model}`).toBe(out.providers.synthesis);
    expect(body.messages[0]).toMatchObject({ role: "system", content: expect.stringContaining("numbered sources") });
    const user = body.messages.find((x) => x.role === "user")!.content;
    expect(user).toContain(`Question: ${QUESTION}`);
    expect(user).toContain("[1] Source 1: example.org (https://example.org/who-won-the-2022-fifa-world-cup-final-1), 2025-06-02\nSnippet from source 1.");
    expect(user).toContain("[2] Source 2: example.com (https://example.com/who-won-the-2022-fifa-world-cup-final-2)");
  });

  it("falls back to Tavily when Perplexity keeps failing with 503, and still answers", async () => {
    pplx.enqueue({ fault: { kind: "status", status: 503 } }, { fault: { kind: "status", status: 503 } });
    openai.enqueue({ reply: { text: "Argentina [1]." } });
    const out = await ok({ question: QUESTION });

    expect(out.answer).toBe("Argentina [1].");
    expect(out.providers.retrieval).toBe("tavily:advanced");
    expect(out.attempts.map((a) => [a.model, a.outcome, a.errorCode])).toEqual([
      ["perplexity:sonar-pro", "error", "provider_unavailable"],
      ["perplexity:sonar-pro", "error", "provider_unavailable"],
      ["tavily:advanced", "ok", undefined],
      [out.providers.synthesis, "ok", undefined],
    ]);
    expect(out.attempts[0]!.message).toContain("503");
    expect(pplx.requests).toHaveLength(2);
    expect(tav.requests).toHaveLength(1);
    expect(tav.requests[0]!.body).toMatchObject({ query: QUESTION, search_depth: "advanced", topic: "general", max_results: 5 });
    // Tavily's default fake results, five of them (jobSettings.retrieval.maxSources).
    expect(out.citations).toHaveLength(5);
    expect(out.citations[0]).toEqual({
      n: 1,
      title: `${QUESTION} — result 1`,
      url: "https://example.org/who-won-the-2022-fifa-world-cup-final-1",
      snippet: `Snippet 1 about ${QUESTION}: deterministic fake content for tests.`,
    });
    expect(openai.requests[0]!.body.messages.at(-1).content).toContain("[5] ");
  });

  it("merges duplicate sources (same URL up to query, fragment or trailing slash) before numbering", async () => {
    pplx.enqueue({
      text: "x [1]",
      citations: [],
      searchResults: [
        { title: "A", url: "https://a.example/page", snippet: "a" },
        { title: "A again", url: "https://a.example/page/?utm=1", snippet: "a2" },
        { title: "A fragment", url: "https://a.example/page#top", snippet: "a3" },
        { title: "B", url: "https://b.example/", snippet: "b" },
      ],
    });
    const out = await ok({ question: QUESTION });
    expect(out.citations.map((c) => [c.n, c.title])).toEqual([
      [1, "A"],
      [2, "B"],
    ]);
  });
});

describe("research: kinds map to Tavily depth and topics", () => {
  it.each([
    ["deep", "tavily:advanced", "advanced", "general"],
    ["finance", "tavily:advanced", "advanced", "finance"],
    ["news", "tavily:basic", "basic", "news"],
  ] as const)("%s runs on %s with search_depth %s, topic %s", async (kind, service, depth, topic) => {
    const out = await ok({ question: "What moved the bond market this week?", kind });
    expect(out.providers.retrieval).toBe(service);
    expect(pplx.requests).toHaveLength(0);
    expect(tav.requests).toHaveLength(1);
    expect(tav.requests[0]!.body).toMatchObject({ query: "What moved the bond market this week?", search_depth: depth, topic });
    expect(tav.requests[0]!.headers["authorization"]).toBe(`Bearer ${KEYS.tavily}`);
    expect(out.citations.length).toBeGreaterThan(0);
    if (kind === "news") expect(out.citations[0]!.publishedAt).toBe("Mon, 02 Jun 2025 10:00:00 GMT");
  });
});

describe("research: maxSources, includeDomains and recencyDays reach the provider", () => {
  it("Tavily gets max_results, include_domains and a time range (days only applies to its news topic)", async () => {
    const out = await ok({ question: "recent results on protein folding", kind: "deep", maxSources: 3, includeDomains: ["nature.com", "science.org"], recencyDays: 7 });
    const body = tav.requests[0]!.body;
    expect(body).toMatchObject({ max_results: 3, include_domains: ["nature.com", "science.org"], time_range: "week" });
    expect(body.days).toBeUndefined();
    expect(out.citations).toHaveLength(3);
    for (const c of out.citations) expect(new URL(c.url).hostname).toMatch(/^(nature\.com|science\.org)$/);
  });

  it("Perplexity gets search_domain_filter and search_recency_filter; maxSources caps the citations", async () => {
    const out = await ok({ question: QUESTION, maxSources: 1, includeDomains: ["fifa.com"], recencyDays: 7 });
    expect(pplx.requests[0]!.body).toMatchObject({ search_domain_filter: ["fifa.com"], search_recency_filter: "week" });
    expect(out.citations).toHaveLength(1);
    expect(openai.requests[0]!.body.messages.at(-1).content).not.toContain("[2]");
  });

  it.each([
    [1, "day"],
    [30, "month"],
    [400, "year"],
  ] as const)("recencyDays %i becomes search_recency_filter %s", async (days, filter) => {
    await ok({ question: QUESTION, recencyDays: days });
    expect(pplx.requests[0]!.body.search_recency_filter).toBe(filter);
  });

  it("leaves the filters out when not asked", async () => {
    await ok({ question: QUESTION, kind: "deep" });
    expect(tav.requests[0]!.body).not.toHaveProperty("include_domains");
    expect(tav.requests[0]!.body).not.toHaveProperty("days");
  });
});

describe("research: without an LLM", () => {
  let bare: McpHarness;
  beforeAll(async () => {
    bare = await startHarness({ PERPLEXITY_API_KEY: KEYS.perplexity, PERPLEXITY_BASE_URL: pplx.url, TAVILY_API_KEY: KEYS.tavily, TAVILY_BASE_URL: tav.url });
  });
  afterAll(() => bare?.close());

  it("returns the sources with a note (and Perplexity's own summary), not an error", async () => {
    pplx.enqueue({ text: "Perplexity's own summary [1].", citations: ["https://a.example/1", "https://b.example/2"] });
    const out = await ok({ question: QUESTION }, bare);
    expect(out.answer).toBe("Perplexity's own summary [1].");
    expect(out.citations.map((c) => c.url)).toEqual(["https://a.example/1", "https://b.example/2"]);
    expect(out.note).toMatch(/no LLM is available/);
    expect(out.note).toContain("OPENAI_API_KEY");
    expect(out.note).toContain("search provider's own summary");
    expect(out.providers).toEqual({ retrieval: "perplexity:sonar-pro" });
    expect(out.attempts.map((a) => a.model)).toEqual(["perplexity:sonar-pro"]);
    expect(out.costUsd).toBeCloseTo(0.006, 10);
    expect(openai.requests).toHaveLength(0);
  });

  it("answers through the client's own model when the client supports sampling", async () => {
    const seen: CreateMessageRequest[] = [];
    const sampler = await startHarness(
      { PERPLEXITY_API_KEY: KEYS.perplexity, PERPLEXITY_BASE_URL: pplx.url },
      (req) => {
        seen.push(req);
        return { role: "assistant", model: "client-model-z", content: { type: "text", text: "Argentina, per [1]." } };
      },
    );
    try {
      const out = await ok({ question: QUESTION }, sampler);
      expect(out.answer).toBe("Argentina, per [1].");
      expect(out.note).toBeUndefined();
      expect(out.providers).toEqual({ retrieval: "perplexity:sonar-pro", synthesis: "sampling:client-model-z" });
      expect(seen).toHaveLength(1);
      const msg = seen[0]!.params.messages[0]!.content as { type: string; text: string };
      expect(msg.text).toContain("[1] Source 1: example.org");
      expect(seen[0]!.params.systemPrompt).toContain("numbered sources");
      expect(openai.requests).toHaveLength(0);
    } finally {
      await sampler.close();
    }
  });
});

describe("research: errors", () => {
  it("no retrieval key at all -> no_provider_configured naming PERPLEXITY_API_KEY and TAVILY_API_KEY", async () => {
    const noRetrieval = await startHarness({ OPENAI_API_KEY: KEYS.openai, OPENAI_BASE_URL: openai.url });
    try {
      const err = await fail({ question: QUESTION }, noRetrieval);
      expect(err.code).toBe("no_provider_configured");
      expect(err.retryable).toBe(false);
      expect(err.hint).toContain("PERPLEXITY_API_KEY");
      expect(err.hint).toContain("TAVILY_API_KEY");
      expect(err.attempts).toEqual([
        expect.objectContaining({ model: "perplexity:sonar-pro", outcome: "skipped", errorCode: "no_provider_configured" }),
        expect.objectContaining({ model: "tavily:advanced", outcome: "skipped", errorCode: "no_provider_configured" }),
      ]);
      expect(pplx.requests).toHaveLength(0);
      expect(tav.requests).toHaveLength(0);
      expect(openai.requests).toHaveLength(0);
    } finally {
      await noRetrieval.close();
    }
  });

  it("unknown kind -> invalid_request listing the valid kinds, before any request", async () => {
    const err = await fail({ question: QUESTION, kind: "academic" });
    expect(err).toMatchObject({ code: "invalid_request", field: "kind", retryable: false });
    expect(err.validValues).toEqual(["web", "deep", "finance", "news"]);
    expect(pplx.requests).toHaveLength(0);
    expect(tav.requests).toHaveLength(0);
  });

  it.each([
    [{ question: "hi" }, "question"],
    [{ question: QUESTION, maxSources: 0 }, "maxSources"],
    [{ question: QUESTION, includeDomains: ["not a domain/"] }, "includeDomains.0"],
    [{ question: QUESTION, quetsion: "typo" }, "quetsion"],
  ])("rejects %j with invalid_request on %s", async (args, field) => {
    const err = await fail(args);
    expect(err.code).toBe("invalid_request");
    expect(err.field).toBe(field);
    expect(pplx.requests).toHaveLength(0);
  });

  it("both retrieval providers failing -> one structured error with every attempt", async () => {
    pplx.enqueue({ fault: { kind: "status", status: 503 } }, { fault: { kind: "status", status: 503 } });
    tav.enqueue({ fault: { kind: "status", status: 500 } }, { fault: { kind: "status", status: 500 } });
    const err = await fail({ question: QUESTION });
    expect(err.code).toBe("provider_unavailable");
    expect(err.retryable).toBe(true);
    expect(err.attempts?.map((a) => [a.model, a.outcome])).toEqual([
      ["perplexity:sonar-pro", "error"],
      ["perplexity:sonar-pro", "error"],
      ["tavily:advanced", "error"],
      ["tavily:advanced", "error"],
    ]);
    expect(openai.requests).toHaveLength(0);
  });
});
