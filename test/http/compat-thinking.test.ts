// Reasoning through the compatible endpoints, with the official SDKs and the provider fakes (which
// refuse what the real APIs refuse: a thinking budget out of range, a temperature with thinking, a
// tool-use turn without its thinking block, a signature that is not theirs, reasoning_effort on a
// model without it, a temperature on a reasoning model). Anthropic's thinking and OpenAI's
// reasoning_effort reach the models that take them, translated, and are dropped with a note
// elsewhere; thinking blocks come back whole and streamed, and round-trip in a tool-use loop.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { fakeSignature } from "../fakes/anthropic-fake.js";
import { sdkClients, startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

// Opus rather than Sonnet 4.5: the Anthropic SDK warns about Sonnet 4.5 ids as deprecated.
const OPUS = "anthropic:claude-opus-4-5";
const GPT5_MINI = "openai:gpt-5-mini";
const MINI = "openai:gpt-4.1-mini";
const NOTES = "x-switchboard-notes";

let server: CompatServer;
let fakes: CompatServer["fakes"];

const anthropic = () => sdkClients(server).anthropic;
const openai = () => sdkClients(server).openai;

beforeAll(async () => {
  server = await startCompatServer();
  fakes = server.fakes;
}, 60_000);
afterEach(() => server.reset());
afterAll(() => server?.close());

const THOUGHT = "The user wants the weather; I should call get_weather for Lima.";
const weather: Anthropic.Tool[] = [{ name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } } } }];
const ask: Anthropic.MessageParam = { role: "user", content: "Weather in Lima?" };
/** Sent as clients such as Claude Code send it (this SDK's types have no temperature: the current Messages API takes none). */
const temperature = { temperature: 0.4 };

describe("thinking on /v1/messages, served by Anthropic", () => {
  it("reaches the model with a budget below max_tokens (raised to fit) and no temperature, and the note says so", async () => {
    fakes.anthropic.setDefault({ text: "Sunny." });
    const { data, response } = await anthropic()
      .messages.create({ model: OPUS, max_tokens: 1000, ...temperature, thinking: { type: "enabled", budget_tokens: 4000 }, messages: [ask] })
      .withResponse();
    expect(data.model).toBe(OPUS);
    const sent = fakes.anthropic.requests[0]!.body;
    expect(sent.thinking).toEqual({ type: "enabled", budget_tokens: 4000 });
    expect(sent.max_tokens).toBe(5000);
    expect(sent).not.toHaveProperty("temperature");
    expect(response.headers.get(NOTES)).toBe("thinking passed to Anthropic (budget_tokens 4000, max_tokens raised to 5000); temperature dropped: Anthropic's Messages API takes none");
  });

  it("returns thinking and redacted_thinking blocks whole, before the text, signatures intact", async () => {
    fakes.anthropic.setDefault({ thinking: [{ thinking: THOUGHT }, { redacted: "EmwKAhgBEgy3va3pzix" }], text: "Sunny, 24°C." });
    const res = await anthropic().messages.create({ model: OPUS, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2048 }, messages: [ask] });
    expect(res.content).toEqual([
      { type: "thinking", thinking: THOUGHT, signature: fakeSignature(THOUGHT) },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
      { type: "text", text: "Sunny, 24°C." },
    ]);
  });

  it("streams thinking as it arrives (thinking_delta, then signature_delta) in its own block before the text", async () => {
    fakes.anthropic.setDefault({ thinking: [{ thinking: THOUGHT }], text: "Sunny, 24°C.", chunks: 3 });
    const stream = anthropic().messages.stream({ model: OPUS, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2048 }, messages: [ask] });
    const thinking: string[] = [];
    const order: string[] = [];
    stream.on("thinking", (piece) => thinking.push(piece));
    stream.on("streamEvent", (e) => {
      if (e.type === "content_block_delta") order.push(`${e.index}:${e.delta.type}`);
    });
    const final = await stream.finalMessage();
    const { response } = await stream.withResponse();
    expect(thinking.join("")).toBe(THOUGHT);
    expect(thinking.length).toBeGreaterThan(1);
    expect(final.content).toEqual([
      { type: "thinking", thinking: THOUGHT, signature: fakeSignature(THOUGHT) },
      { type: "text", text: "Sunny, 24°C." },
    ]);
    // Block 0 is the thinking, its signature last; block 1 the text.
    expect(order.filter((o) => o.startsWith("0:")).at(-1)).toBe("0:signature_delta");
    expect(order.findIndex((o) => o.startsWith("1:text_delta"))).toBeGreaterThan(order.indexOf("0:signature_delta"));
    expect(response.headers.get(NOTES)).toBe("thinking passed to Anthropic (budget_tokens 2048)");
  });

  it("round-trips a tool-use turn's thinking to Anthropic with the tool_result, so thinking stays on", async () => {
    fakes.anthropic.enqueue({ reply: { thinking: [{ thinking: THOUGHT }], toolCalls: [{ id: "toolu_7", name: "get_weather", arguments: '{"city":"Lima"}' }] } });
    const c = anthropic();
    const thinking = { type: "enabled", budget_tokens: 2048 } as const;
    const first = await c.messages.create({ model: OPUS, max_tokens: 4000, thinking, tools: weather, messages: [ask] });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);

    fakes.anthropic.setDefault({ text: "19°C in Lima." });
    const { data: second, response } = await c.messages
      .create({
        model: OPUS,
        max_tokens: 4000,
        thinking,
        tools: weather,
        messages: [ask, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_7", content: '{"celsius":19}' }] }],
      })
      .withResponse();
    // The fake refuses a tool-use turn without its thinking block, or a signature not its own.
    expect(second.content).toEqual([{ type: "text", text: "19°C in Lima." }]);
    expect(second.model).toBe(OPUS);
    const sent = fakes.anthropic.requests.at(-1)!.body;
    expect(sent.thinking).toEqual(thinking);
    expect(sent.messages[1].content).toEqual([
      { type: "thinking", thinking: THOUGHT, signature: fakeSignature(THOUGHT) },
      { type: "tool_use", id: "toolu_7", name: "get_weather", input: { city: "Lima" } },
    ]);
    expect(sent.messages[2].content).toEqual([{ type: "tool_result", tool_use_id: "toolu_7", content: '{"celsius":19}' }]);
    expect(response.headers.get(NOTES)).toBe("thinking passed to Anthropic (budget_tokens 2048)");
  });

  it("drops thinking with a note when the last tool-use turn has no thinking block (another model answered it)", async () => {
    fakes.anthropic.setDefault({ text: "19°C in Lima." });
    const { data, response } = await anthropic()
      .messages.create({
        model: OPUS,
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        tools: weather,
        messages: [
          ask,
          { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Lima" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: '{"celsius":19}' }] },
        ],
      })
      .withResponse();
    expect(data.model).toBe(OPUS);
    expect(fakes.anthropic.requests[0]!.body).not.toHaveProperty("thinking");
    expect(response.headers.get(NOTES)).toBe("thinking dropped: the last assistant turn with tool calls has no thinking block (another model answered it)");
  });

  it("refuses a thinking request Anthropic would refuse, naming the field", async () => {
    for (const thinking of [{ type: "enabled" }, { type: "enabled", budget_tokens: 500 }]) {
      const res = await fetch(`${server.handle.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": TOKENS.default, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: OPUS, max_tokens: 4000, thinking, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe("thinking.budget_tokens");
    }
    expect(fakes.anthropic.requests).toHaveLength(0);
  });
});

describe("thinking on /v1/messages, served by OpenAI", () => {
  it("becomes reasoning_effort for a model that takes it (budget mapped), without temperature", async () => {
    fakes.openai.setDefault({ text: "Sunny." });
    const { data, response } = await anthropic()
      .messages.create({ model: GPT5_MINI, max_tokens: 21000, ...temperature, thinking: { type: "enabled", budget_tokens: 20000 }, messages: [ask] })
      .withResponse();
    expect(data.model).toBe(GPT5_MINI);
    const sent = fakes.openai.requests[0]!.body;
    expect(sent.reasoning_effort).toBe("high");
    expect(sent).not.toHaveProperty("temperature");
    expect(response.headers.get(NOTES)).toBe("thinking passed as reasoning_effort=high; temperature dropped: openai:gpt-5-mini takes none");
  });

  it("is dropped with a note for a model that takes no reasoning setting", async () => {
    fakes.openai.setDefault({ text: "Sunny." });
    const { data, response } = await anthropic()
      .messages.create({ model: MINI, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 2048 }, messages: [ask] })
      .withResponse();
    expect(data.model).toBe(MINI);
    expect(fakes.openai.requests[0]!.body).not.toHaveProperty("reasoning_effort");
    expect(response.headers.get(NOTES)).toBe("thinking dropped: openai:gpt-4.1-mini takes no reasoning setting");
  });
});

describe("reasoning_effort on /v1/chat/completions", () => {
  it("reaches an OpenAI model that takes it, without the temperature it refuses, and the note says so", async () => {
    fakes.openai.setDefault({ text: "42" });
    const { data, response } = await openai()
      .chat.completions.create({ model: GPT5_MINI, reasoning_effort: "low", temperature: 0.2, messages: [{ role: "user", content: "6 x 7?" }] })
      .withResponse();
    expect(data.model).toBe(GPT5_MINI);
    const sent = fakes.openai.requests[0]!.body;
    expect(sent.reasoning_effort).toBe("low");
    expect(sent).not.toHaveProperty("temperature");
    expect(response.headers.get(NOTES)).toBe("reasoning_effort passed as reasoning_effort=low; temperature dropped: openai:gpt-5-mini takes none");
  });

  it("goes to a model as the nearest effort it takes: minimal reaches gpt-5-mini as asked, and o3 as low, with a note", async () => {
    fakes.openai.setDefault({ text: "42" });
    const ask = { reasoning_effort: "minimal" as const, messages: [{ role: "user" as const, content: "6 x 7?" }] };
    const gpt5 = await openai().chat.completions.create({ model: GPT5_MINI, ...ask }).withResponse();
    expect(fakes.openai.requests[0]!.body.reasoning_effort).toBe("minimal");
    expect(gpt5.response.headers.get(NOTES)).toBe("reasoning_effort passed as reasoning_effort=minimal");
    const o3 = await openai().chat.completions.create({ model: "openai:o3", ...ask }).withResponse();
    expect(o3.data.model).toBe("openai:o3");
    expect(fakes.openai.requests[1]!.body.reasoning_effort).toBe("low");
    expect(o3.response.headers.get(NOTES)).toBe("reasoning_effort passed as reasoning_effort=low (minimal asked; openai:o3 takes low, medium, high)");
  });

  it("does not reach a model without it (the note says so), streamed", async () => {
    fakes.openai.setDefault({ text: "42", chunks: 2 });
    const { data: stream, response } = await openai()
      .chat.completions.create({ model: MINI, stream: true, reasoning_effort: "high", temperature: 0.2, messages: [{ role: "user", content: "6 x 7?" }] })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("42");
    const sent = fakes.openai.requests[0]!.body;
    expect(sent).not.toHaveProperty("reasoning_effort");
    expect(sent.temperature).toBe(0.2);
    expect(response.headers.get(NOTES)).toBe("reasoning_effort dropped: openai:gpt-4.1-mini takes no reasoning setting");
  });

  it("becomes thinking for an Anthropic model, whose thinking blocks are not returned", async () => {
    fakes.anthropic.setDefault({ thinking: [{ thinking: THOUGHT }], text: "42" });
    const { data, response } = await openai()
      .chat.completions.create({ model: OPUS, reasoning_effort: "medium", max_completion_tokens: 1000, messages: [{ role: "user", content: "6 x 7?" }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe("42");
    expect(JSON.stringify(data)).not.toContain(THOUGHT);
    const sent = fakes.anthropic.requests[0]!.body;
    expect(sent.thinking).toEqual({ type: "enabled", budget_tokens: 8192 });
    expect(sent.max_tokens).toBe(9192);
    expect(response.headers.get(NOTES)).toMatch(/^reasoning_effort passed to Anthropic as thinking \(budget_tokens 8192, max_tokens raised to 9192\); its thinking is not returned/);
  });

  it("refuses an effort OpenAI does not know, naming the field", async () => {
    const err = (await openai()
      .chat.completions.create({ model: GPT5_MINI, reasoning_effort: "extreme" as "high", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err.error as { param: string }).param).toBe("reasoning_effort");
  });
});
