// run_llm happy paths over MCP: plain answers from each provider, cost from the catalog,
// streaming progress, function tools, answers through the client's own model (sampling), and
// keys kept out of every result, error and resource (every call in these suites goes through
// the same check in test/helpers/mcp-harness).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CreateMessageRequest, CreateMessageResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { modelName } from "../../src/config/catalog.js";
import { KEYS, SECRETS, fakeEnv, requestsFor, startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { expectNoSecrets } from "../helpers/mcp-harness.js";
import { PROMPT, startRunLlmHarness, type RunLlmHarness, type RunOutput } from "../helpers/run-llm.js";

let fakes: Fakes;
let h: RunLlmHarness;

beforeAll(async () => {
  fakes = await startFakes();
  h = await startRunLlmHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }) });
});
afterAll(async () => {
  await h.close();
  await fakes.close();
});
beforeEach(() => fakes.reset());

/** Catalog price of a result: (uncached input, cached input, output) x price per 1M tokens. */
function expectedCost(out: RunOutput): number {
  const m = h.runtime.config.models[out.model]!;
  const { inputTokens, outputTokens, cachedInputTokens } = out.usage;
  const cached = Math.min(cachedInputTokens, inputTokens);
  return ((inputTokens - cached) * m.price.input + cached * (m.price.cachedInput ?? m.price.input) + outputTokens * m.price.output) / 1e6;
}

describe("run_llm: plain success", () => {
  it("answers on OpenAI with usage, catalog cost, decision and a single ok attempt", async () => {
    fakes.openai.enqueue({ reply: { text: "Lima.", usage: { input: 1200, output: 300, cached: 200 } } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini", system: "Be brief.", temperature: 0.2 });

    expect(out).toMatchObject({ text: "Lima.", model: "openai:gpt-4.1-mini", provider: "openai", finishReason: "stop", escalated: false, toolCalls: [] });
    expect(out.usage).toEqual({ inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200 });
    // gpt-4.1-mini: input 0.4, cached 0.1, output 1.6 per 1M
    expect(out.costUsd).toBeCloseTo((1000 * 0.4 + 200 * 0.1 + 300 * 1.6) / 1e6, 10);
    expect(out.costUsd).toBeCloseTo(expectedCost(out), 10);
    expect(out.attempts).toEqual([{ model: "openai:gpt-4.1-mini", provider: "openai", outcome: "ok", latencyMs: expect.any(Number) }]);
    expect(out.decision).toMatchObject({ routedModel: "openai:gpt-4.1-mini", tier: "explicit", mode: expect.any(String), taskType: expect.any(String) });
    expect(out.decision.requestId).toMatch(/\S/);
    expect(out.decision.reason).toContain("openai:gpt-4.1-mini");
    expect(out.latencyMs).toBeGreaterThanOrEqual(0);

    const [req] = fakes.openai.requests;
    expect(fakes.openai.requests).toHaveLength(1);
    expect(fakes.anthropic.requests).toHaveLength(0);
    expect(req?.body).toMatchObject({ model: "gpt-4.1-mini", temperature: 0.2, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: PROMPT }] });
    expect(req?.body.stream).toBeFalsy();
  });

  it("answers on Anthropic with usage, catalog cost and finish reason", async () => {
    fakes.anthropic.enqueue({ reply: { text: "Lima is the capital.", usage: { input: 500, output: 40 } } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5", system: "Be brief." });

    expect(out).toMatchObject({ text: "Lima is the capital.", model: "anthropic:claude-haiku-4-5", provider: "anthropic", finishReason: "stop", escalated: false });
    expect(out.usage).toEqual({ inputTokens: 500, outputTokens: 40, cachedInputTokens: 0 });
    // claude-haiku-4-5: input 1.0, output 5.0 per 1M
    expect(out.costUsd).toBeCloseTo((500 * 1 + 40 * 5) / 1e6, 10);
    expect(out.costUsd).toBeGreaterThan(0);
    expect(out.attempts.map((a) => [a.model, a.outcome])).toEqual([["anthropic:claude-haiku-4-5", "ok"]]);
    expect(out.decision.routedModel).toBe("anthropic:claude-haiku-4-5");

    expect(fakes.openai.requests).toHaveLength(0);
    const [req] = fakes.anthropic.requests;
    expect(req?.body).toMatchObject({ model: "claude-haiku-4-5", system: "Be brief.", messages: [{ role: "user", content: PROMPT }] });
  });

  it("prices Anthropic cache reads at the cached rate (input_tokens leaves them out)", async () => {
    fakes.anthropic.enqueue({ reply: { text: "Lima.", usage: { input: 20, output: 7, cached: 100 } } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    // Reported like OpenAI: inputTokens includes the cached tokens.
    expect(out.usage).toEqual({ inputTokens: 120, outputTokens: 7, cachedInputTokens: 100 });
    // claude-haiku-4-5: input 1.0, cached 0.1, output 5.0 per 1M
    expect(out.costUsd).toBeCloseTo((20 * 1 + 100 * 0.1 + 7 * 5) / 1e6, 10);
  });

  it("routes without a forced model and reports the router's choice as routedModel", async () => {
    const decision = (await h.client.callTool({ name: "route_task", arguments: { prompt: PROMPT } })).structuredContent as { model: string };
    const out = await h.ok({ prompt: PROMPT });
    expect(out.decision.routedModel).toBe(decision.model);
    expect(out.model).toBe(decision.model);
    expect(out.text).toContain(`fake answer from ${decision.model.slice(decision.model.indexOf(":") + 1)}`);
    expect(out.costUsd).toBeGreaterThan(0);
    expect(out.costUsd).toBeCloseTo(expectedCost(out), 10);
  });
});

describe("run_llm: streaming progress", () => {
  const long = Array.from({ length: 60 }, (_, i) => `sentence ${i} of a long streamed answer.`).join(" ");

  it.each([
    ["openai:gpt-4.1-mini", () => fakes.openai],
    ["anthropic:claude-haiku-4-5", () => fakes.anthropic],
  ] as const)("streams %s with increasing progress and returns the whole text", async (model, fake) => {
    fake().enqueue({ reply: { text: long, chunks: 30, usage: { input: 10, output: 500 } } });
    const seen: Progress[] = [];
    const out = await h.ok({ prompt: PROMPT, model }, { onprogress: (p) => void seen.push(p) });

    expect(out.text).toBe(long);
    expect(out.usage).toMatchObject({ inputTokens: 10, outputTokens: 500 });
    expect(fake().requests[0]?.body.stream).toBe(true);
    // One "calling" notification, then one per ~200 streamed characters.
    expect(seen.length).toBeGreaterThanOrEqual(Math.floor(long.length / 200));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.at(-1)!.progress).toBeLessThanOrEqual(long.length);
    expect(seen.at(-1)!.progress).toBeGreaterThan(long.length - 200);
    expect(seen[0]!.message).toContain(model);
  });

  it("does not stream when no progress token is given", async () => {
    await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(fakes.openai.requests[0]?.body.stream).toBeFalsy();
  });
});

describe("run_llm: function tools", () => {
  const functionTools = [{ name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } }];

  it("returns OpenAI tool calls with JSON arguments and sends the tools", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", reply: { text: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Lima"}' }] } });
    const out = await h.ok({ prompt: "What is the weather in Lima?", model: "openai:gpt-4.1-mini", functionTools });

    expect(out.model).toBe("openai:gpt-4.1-mini");
    expect(out.finishReason).toBe("tool_calls");
    expect(out.toolCalls).toEqual([{ id: "call_1", name: "get_weather", arguments: '{"city":"Lima"}' }]);
    expect(JSON.parse(out.toolCalls[0]!.arguments)).toEqual({ city: "Lima" });
    expect(out.escalated).toBe(false);

    const [req] = requestsFor(fakes.openai, "gpt-4.1-mini");
    expect(req?.body.tools).toEqual([
      { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: functionTools[0]!.parameters } },
    ]);
  });

  it("returns Anthropic tool_use calls with JSON arguments and sends the tools", async () => {
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", reply: { text: "Checking.", toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: '{"city":"Lima"}' }] } });
    const out = await h.ok({ prompt: "What is the weather in Lima?", model: "anthropic:claude-haiku-4-5", functionTools });

    expect(out.finishReason).toBe("tool_calls");
    expect(out.text).toBe("Checking.");
    expect(out.toolCalls).toEqual([{ id: "toolu_1", name: "get_weather", arguments: '{"city":"Lima"}' }]);
    const [req] = requestsFor(fakes.anthropic, "claude-haiku-4-5");
    expect(req?.body.tools).toEqual([{ name: "get_weather", description: "Weather for a city", input_schema: functionTools[0]!.parameters }]);
  });

  it("assembles streamed tool-call arguments", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", reply: { text: "", chunks: 5, toolCalls: [{ id: "call_s", name: "get_weather", arguments: '{"city":"Cusco"}' }] } });
    const out = await h.ok({ prompt: "What is the weather in Cusco?", model: "openai:gpt-4.1-mini", functionTools }, { onprogress: () => undefined });
    expect(fakes.openai.requests[0]?.body.stream).toBe(true);
    expect(out.toolCalls).toEqual([{ id: "call_s", name: "get_weather", arguments: '{"city":"Cusco"}' }]);
  });
});

describe("run_llm: secrets", () => {
  it("sends the keys to the providers (so the checks below are meaningful)", async () => {
    await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(fakes.openai.requests[0]?.headers["authorization"]).toBe(`Bearer ${KEYS.openai}`);
    const a = fakes.anthropic.requests[0]?.headers;
    expect(`${a?.["x-api-key"] ?? ""} ${a?.["authorization"] ?? ""}`).toContain(KEYS.anthropic);
  });

  it("keeps a key echoed in a 401 out of the result", async () => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status: 401, message: `Incorrect API key provided: ${KEYS.openai}.` } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.attempts[0]).toMatchObject({ errorCode: "auth_failed", outcome: "error" });
    expect(out.attempts[0]!.message).toMatch(/rejected the credentials/);
  });

  it.each([
    [400, "invalid_request"],
    [500, "provider_unavailable"],
  ])("redacts a key echoed in a %i's message (kept for diagnosis otherwise)", async (status, code) => {
    fakes.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status, message: `bad header Authorization: Bearer ${KEYS.openai} (key ${KEYS.openai})` } });
    const out = await h.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(out.attempts[0]).toMatchObject({ errorCode: code, outcome: "error" });
    expect(out.attempts[0]!.message).toContain("[redacted]");
    expect(out.attempts[0]!.message).toContain("bad header");
  });

  it("redacts a key that matches no key pattern by its exact value", async () => {
    // "ant-test-SECRETKEY-456" does not look like sk-...; only the list of configured secrets catches it.
    fakes.anthropic.enqueue({ model: "claude-haiku-4-5", fault: { kind: "status", status: 400, message: `unknown key ${KEYS.anthropic} for this workspace` } });
    const out = await h.ok({ prompt: PROMPT, model: "anthropic:claude-haiku-4-5" });
    expect(out.attempts[0]).toMatchObject({ errorCode: "invalid_request" });
    expect(out.attempts[0]!.message).toContain("unknown key [redacted] for this workspace");
  });

  it("redacts echoed keys in the structured error when every model fails", async () => {
    for (let i = 0; i < 40; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 503, message: `overloaded for ${KEYS.openai}` } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 529, message: `overloaded for ${KEYS.anthropic}` } });
    }
    const { res, err } = await h.run({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
    expect(res.isError).toBe(true);
    expect(err.code).toBe("provider_unavailable");
    expect(err.message).toContain("[redacted]");
    expectNoSecrets(res, SECRETS);
  });

  it("shows no key in the status or config resources, or in the tool listing", async () => {
    const { resources } = await h.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("switchboard://status");
    for (const r of resources) {
      const read = await h.client.readResource({ uri: r.uri });
      expect(read.contents.length).toBeGreaterThan(0);
      expectNoSecrets(read, SECRETS);
    }
    const status = await h.readStatus();
    expect(status.providers.find((p) => p.name === "openai")).toMatchObject({ configured: true, keyEnv: "OPENAI_API_KEY", baseUrl: fakes.openai.url });
    expectNoSecrets(await h.client.listTools(), SECRETS);
  });
});

const sampled: CreateMessageRequest[] = [];
let reply: (req: CreateMessageRequest) => CreateMessageResult;

const answer = (text: string, model = "client-model-x"): CreateMessageResult => ({ model, role: "assistant", content: { type: "text", text }, stopReason: "endTurn" });


const sampling = (req: CreateMessageRequest) => {
  sampled.push(req);
  return reply(req);
};

describe("run_llm: sampling (the MCP client's own model)", () => {
  beforeEach(() => {
    sampled.length = 0;
    reply = () => answer("Lima, from the client's model.");
  });

  describe("run_llm: sampling with no keys", () => {
    let sh: RunLlmHarness;
    beforeAll(async () => {
      sh = await startRunLlmHarness({ env: {}, sampling });
    });
    afterAll(() => sh.close());

    it("answers through the client's model, asking for the routed model by name", async () => {
      const out = await sh.ok({ prompt: PROMPT, system: "Be brief.", maxOutputTokens: 300 });

      expect(out.text).toBe("Lima, from the client's model.");
      expect(out.model).toBe("sampling:client-model-x");
      expect(out.model.startsWith("sampling:")).toBe(true);
      expect(out.provider).toBe("sampling");
      expect(out.finishReason).toBe("stop");
      expect(out.costUsd).toBe(0);
      // Every catalog model is skipped for lack of keys, then the client answers.
      expect(out.attempts.at(-1)).toMatchObject({ model: "sampling:client", provider: "sampling", outcome: "ok" });
      expect(out.attempts.slice(0, -1).every((a) => a.outcome === "skipped" && a.errorCode === "no_provider_configured")).toBe(true);
      expect(out.attempts[0]!.model).toBe(out.decision.routedModel);

      expect(sampled).toHaveLength(1);
      const params = sampled[0]!.params;
      expect(params.modelPreferences?.hints).toContainEqual({ name: modelName(out.decision.routedModel) });
      expect(params.modelPreferences?.hints?.[0]).toEqual({ name: modelName(out.decision.routedModel) });
      expect(params.messages).toEqual([{ role: "user", content: { type: "text", text: PROMPT } }]);
      expect(params.systemPrompt).toBe("Be brief.");
      expect(params.maxTokens).toBe(300);
      for (const k of ["costPriority", "speedPriority", "intelligencePriority"] as const) {
        expect(params.modelPreferences?.[k]).toBeGreaterThanOrEqual(0);
        expect(params.modelPreferences?.[k]).toBeLessThanOrEqual(1);
      }
      expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(0);
    });

    it("passes the caller's hints and priorities through after the routed model", async () => {
      const out = await sh.ok({
        prompt: PROMPT,
        model: "anthropic:claude-haiku-4-5",
        modelPreferences: { hints: [{ name: "claude" }], costPriority: 0.9, speedPriority: 0.1, intelligencePriority: 0.4 },
      });
      expect(out.decision.routedModel).toBe("anthropic:claude-haiku-4-5");
      const prefs = sampled[0]!.params.modelPreferences;
      expect(prefs?.hints).toEqual([{ name: "claude-haiku-4-5" }, { name: "claude" }]);
      expect(prefs).toMatchObject({ costPriority: 0.9, speedPriority: 0.1, intelligencePriority: 0.4 });
    });

    it("streams the sampled answer as progress when asked", async () => {
      const long = "x".repeat(450);
      reply = () => answer(long);
      const seen: number[] = [];
      const out = await sh.ok({ prompt: PROMPT }, { onprogress: (p) => void seen.push(p.progress) });
      expect(out.text).toBe(long);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.at(-1)).toBe(long.length);
    });

    it("maps a client that stops at maxTokens to finishReason length", async () => {
      reply = () => ({ ...answer("cut"), stopReason: "maxTokens" });
      // Nothing stronger can be called (no keys), so the client's answer stands.
      const out = await sh.ok({ prompt: PROMPT });
      expect(out.finishReason).toBe("length");
      expect(out.text).toBe("cut");
    });

    it("returns a structured error when the client's sampling fails", async () => {
      reply = () => {
        throw new Error("user declined the sampling request");
      };
      const err = await sh.fail({ prompt: PROMPT });
      // A declined request is the client's answer: not an outage, not worth asking again.
      expect(err.code).toBe("cancelled");
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/declined/);
      expect(err.attempts!.filter((a) => a.model === "sampling:client")).toHaveLength(1);
      expect(err.attempts!.at(-1)).toMatchObject({ model: "sampling:client", outcome: "error", errorCode: "cancelled" });
    });
  });

  describe("run_llm: sampling as the last resort", () => {
    let sh: RunLlmHarness;
    beforeAll(async () => {
      sh = await startRunLlmHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }), sampling });
    });
    afterAll(() => sh.close());

    it("is not used while a provider answers", async () => {
      const out = await sh.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
      expect(out.model).toBe("openai:gpt-4.1-mini");
      expect(sampled).toHaveLength(0);
    });

    it("answers after every provider fails", async () => {
      for (let i = 0; i < 40; i++) {
        fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
        fakes.anthropic.enqueue({ fault: { kind: "status", status: 503 } });
      }
      const out = await sh.ok({ prompt: PROMPT, model: "openai:gpt-4.1-mini" });
      expect(out.model).toBe("sampling:client-model-x");
      expect(out.attempts.at(-1)).toMatchObject({ model: "sampling:client", outcome: "ok" });
      const failed = out.attempts.slice(0, -1);
      expect(failed.length).toBeGreaterThan(2);
      expect(failed.every((a) => a.outcome === "error" && a.errorCode === "provider_unavailable")).toBe(true);
      expect(new Set(failed.map((a) => a.provider))).toEqual(new Set(["openai", "anthropic"]));
      expect(sampled).toHaveLength(1);
    });
  });

  describe("run_llm: neither keys nor sampling", () => {
    let sh: RunLlmHarness;
    beforeAll(async () => {
      sh = await startRunLlmHarness({ env: {} });
    });
    afterAll(() => sh.close());

    it("returns no_provider_configured naming the env vars and sampling", async () => {
      const err = await sh.fail({ prompt: PROMPT });
      expect(err.code).toBe("no_provider_configured");
      expect(err.retryable).toBe(false);
      expect(err.hint).toMatch(/OPENAI_API_KEY/);
      expect(err.hint).toMatch(/sampling/);
      expect(err.attempts!.some((a) => a.model.startsWith("sampling:"))).toBe(false);
    });
  });
});

describe("run_llm: progress across retries", () => {
  it("never repeats or lowers a progress value, even when an attempt is retried", async () => {
    const fk = await startFakes();
    const hh = await startRunLlmHarness({ env: fakeEnv({ openai: fk.openai.url, anthropic: fk.anthropic.url }) });
    try {
      fk.openai.enqueue({ model: "gpt-4.1-mini", fault: { kind: "status", status: 429, retryAfter: 0 } });
      fk.openai.enqueue({ model: "gpt-4.1-mini", reply: { text: "x".repeat(1500), chunks: 10 } });
      const seen: number[] = [];
      const res = await hh.run({ prompt: PROMPT, model: "openai:gpt-4.1-mini" }, { onprogress: (p) => seen.push(p.progress) });
      expect(res.res.isError).toBeFalsy();
      expect(seen.length).toBeGreaterThan(2);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    } finally {
      await hh.close();
      await fk.close();
    }
  });
});
