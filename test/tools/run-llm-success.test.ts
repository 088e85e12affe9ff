// run_llm happy paths over MCP: plain answers from each provider, cost from the catalog,
// streaming progress, and function tools.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { PROMPT, fakeEnv, requestsFor, startFakes, startHarness, type Fakes, type Harness, type RunOutput } from "./run-llm-helpers.js";

let fakes: Fakes;
let h: Harness;

beforeAll(async () => {
  fakes = await startFakes();
  h = await startHarness({ env: fakeEnv({ openai: fakes.openai.url, anthropic: fakes.anthropic.url }) });
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
