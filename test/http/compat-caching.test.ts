// Prompt caching through the compatible endpoints, with the official SDKs and the provider fakes:
// Anthropic's cache_control breakpoints reach an Anthropic model on the blocks that carried them
// (at most four, the last kept), are dropped with a note for OpenAI, and cache reads and writes
// come back in each API's usage and are priced at the catalog's cachedInput and cacheWrite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { sdkClients, startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

// Opus rather than Sonnet 4.5: the Anthropic SDK warns about Sonnet 4.5 ids as deprecated.
const OPUS = "anthropic:claude-opus-4-5";
/** cacheWrite removed by the overlay below: its cache writes cost the input price. */
const HAIKU = "anthropic:claude-haiku-4-5";
const MINI = "openai:gpt-4.1-mini";
const NOTES = "x-switchboard-notes";

let server: CompatServer;
let fakes: CompatServer["fakes"];

const anthropic = () => sdkClients(server).anthropic;
const openai = () => sdkClients(server).openai;

beforeAll(async () => {
  server = await startCompatServer({ models: { [HAIKU]: { price: { cacheWrite: null } } } });
  fakes = server.fakes;
}, 60_000);
afterEach(() => server.reset());
afterAll(() => server?.close());

const tool = (name: string, ttl?: "5m" | "1h"): Anthropic.Tool => ({
  name,
  description: `The ${name} tool`,
  input_schema: { type: "object", properties: { q: { type: "string" } } },
  ...(ttl ? { cache_control: { type: "ephemeral", ttl } } : {}),
});
const eph = { type: "ephemeral" } as const;

/** A conversation with a breakpoint on a tool (1h), a system block, a mid-message text block and a tool result: four. */
const fourBreakpoints = (model: string): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 200,
  tools: [tool("lookup", "1h"), tool("fetch")],
  system: [
    { type: "text", text: "You are terse.", cache_control: eph },
    { type: "text", text: "Today is Monday." },
  ],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "Here is the long document.", cache_control: { type: "ephemeral", ttl: "5m" } },
        { type: "text", text: "Look up x." },
      ],
    },
    { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "x" } }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "x is 4", cache_control: eph }] },
  ],
});

/** A record's cost as the catalog prices say: cache reads at cachedInput, writes at cacheWrite (else input). */
function listCost(id: string, u: { input: number; cached: number; written: number; output: number }): number {
  const p = server.runtime.config.models[id]!.price;
  return (u.input * p.input + u.cached * (p.cachedInput ?? p.input) + u.written * (p.cacheWrite ?? p.input) + u.output * p.output) / 1e6;
}

describe("cache_control on /v1/messages", () => {
  it("reaches an Anthropic model on the blocks that carried it, ttl kept, and the note says so", async () => {
    fakes.anthropic.setDefault({ text: "4." });
    const { data, response } = await anthropic().messages.create(fourBreakpoints(OPUS)).withResponse();
    expect(data.model).toBe(OPUS);
    const sent = fakes.anthropic.requests[0]!.body;
    expect(sent.tools.map((t: { cache_control?: unknown }) => t.cache_control)).toEqual([{ type: "ephemeral", ttl: "1h" }, undefined]);
    expect(sent.system).toEqual([
      { type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Today is Monday." },
    ]);
    // The breakpoint stays on the first text block: the second comes after it, uncached.
    expect(sent.messages[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Here is the long document.", cache_control: { type: "ephemeral", ttl: "5m" } },
        { type: "text", text: "Look up x." },
      ],
    });
    expect(sent.messages[2].content).toEqual([{ type: "tool_result", tool_use_id: "toolu_1", content: "x is 4", cache_control: { type: "ephemeral" } }]);
    expect(response.headers.get(NOTES)).toBe("cache_control passed to Anthropic (4 breakpoints)");
  });

  it("keeps the last four of more breakpoints (Anthropic's limit) and says so", async () => {
    fakes.anthropic.setDefault({ text: "ok" });
    const body = fourBreakpoints(OPUS);
    body.tools = [tool("lookup", "1h"), tool("fetch", "1h")];
    const extra: Anthropic.MessageParam = { role: "user", content: [{ type: "text", text: "And y?", cache_control: eph }] };
    body.messages = [...body.messages, { role: "assistant", content: "y is unknown." }, extra];
    const { data, response } = await anthropic().messages.create(body).withResponse();
    // Six breakpoints in reading order (two tools, system, document, tool result, last turn): the tools' go.
    expect(data.model).toBe(OPUS);
    const sent = fakes.anthropic.requests[0]!.body;
    expect(sent.tools.every((t: { cache_control?: unknown }) => t.cache_control === undefined)).toBe(true);
    expect(sent.system[0].cache_control).toEqual({ type: "ephemeral" });
    expect(sent.messages.at(-1).content).toEqual([{ type: "text", text: "And y?", cache_control: { type: "ephemeral" } }]);
    expect(JSON.stringify(sent).match(/cache_control/g)).toHaveLength(4);
    expect(response.headers.get(NOTES)).toBe("cache_control: kept the last 4 of 6 breakpoints (Anthropic's limit)");
  });

  it("is dropped for an OpenAI model, with the note that OpenAI caches by itself", async () => {
    fakes.openai.setDefault({ text: "4." });
    const { data, response } = await anthropic().messages.create(fourBreakpoints(MINI)).withResponse();
    expect(data.model).toBe(MINI);
    const sent = fakes.openai.requests[0]!.body;
    expect(JSON.stringify(sent)).not.toContain("cache_control");
    // The system blocks still reach the model, as one system message.
    expect(sent.messages[0]).toEqual({ role: "system", content: "You are terse.\n\nToday is Monday." });
    expect(response.headers.get(NOTES)).toBe("cache_control dropped: OpenAI caches prompts automatically");
  });

  it("refuses a breakpoint Anthropic would refuse, naming the field", async () => {
    const res = await fetch(`${server.handle.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": TOKENS.default, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: OPUS, max_tokens: 10, messages: [{ role: "user", content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral", ttl: "2h" } }] }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; code: string } };
    expect(body.error).toMatchObject({ param: "messages.0.content.0.cache_control.ttl", code: "invalid_request" });
    expect(fakes.anthropic.requests).toHaveLength(0);
  });
});

describe("cache usage and its cost", () => {
  const cacheUsage = { input: 100, output: 20, cached: 1000, cacheWrite: 500 };

  it("/v1/messages reports cache reads and writes apart, whole and streamed, and the cost uses cachedInput and cacheWrite", async () => {
    fakes.anthropic.setDefault({ text: "Cached.", usage: cacheUsage });
    const whole = await anthropic().messages.create(fourBreakpoints(OPUS));
    expect(whole.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 1000, cache_creation_input_tokens: 500, output_tokens: 20 });
    const streamed = await anthropic().messages.stream({ ...fourBreakpoints(OPUS), stream: true }).finalMessage();
    expect(streamed.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 1000, cache_creation_input_tokens: 500, output_tokens: 20 });
    const expected = listCost(OPUS, { input: 100, cached: 1000, written: 500, output: 20 });
    // Opus: 100 x $5 + 1000 x $0.50 + 500 x $6.25 + 20 x $25, per million.
    expect(expected).toBeCloseTo(0.004625, 12);
    expect(server.records.map((r) => r.costUsd)).toEqual([expect.closeTo(expected, 10), expect.closeTo(expected, 10)]);
  });

  it("prices writes cached for an hour at cacheWrite1h, whole and streamed, and reports them apart in a whole answer's cache_creation", async () => {
    fakes.anthropic.setDefault({ text: "Cached.", usage: { ...cacheUsage, cacheWrite1h: 200 } });
    const whole = await anthropic().messages.create(fourBreakpoints(OPUS));
    expect(whole.usage).toMatchObject({ cache_creation_input_tokens: 500, cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 200 } });
    // A stream's split would belong in message_start, sent before the upstream's usage is known; its totals come in message_delta.
    const streamed = await anthropic().messages.stream({ ...fourBreakpoints(OPUS), stream: true }).finalMessage();
    expect(streamed.usage).toMatchObject({ cache_creation_input_tokens: 500 });
    // Opus: 100 x $5 + 1000 x $0.50 + 300 x $6.25 + 200 x $10 + 20 x $25, per million.
    const expected = (100 * 5 + 1000 * 0.5 + 300 * 6.25 + 200 * 10 + 20 * 25) / 1e6;
    expect(server.runtime.config.models[OPUS]!.price.cacheWrite1h).toBe(10);
    expect(server.records.map((r) => r.costUsd)).toEqual([expect.closeTo(expected, 10), expect.closeTo(expected, 10)]);
  });

  it("prices cache writes at the input price when the catalog gives no cacheWrite", async () => {
    fakes.anthropic.setDefault({ text: "Cached.", usage: cacheUsage });
    await anthropic().messages.create(fourBreakpoints(HAIKU));
    // Haiku without cacheWrite: 100 x $1 + 1000 x $0.10 + 500 x $1 + 20 x $5, per million.
    expect(server.records.at(-1)!.costUsd).toBeCloseTo(0.0008, 12);
  });

  it("/v1/chat/completions counts cache reads and writes in prompt_tokens and reads in cached_tokens, whole and streamed", async () => {
    fakes.anthropic.setDefault({ text: "Cached.", usage: cacheUsage });
    const whole = await openai().chat.completions.create({ model: OPUS, messages: [{ role: "user", content: "Hi." }] });
    expect(whole.usage).toMatchObject({ prompt_tokens: 1600, completion_tokens: 20, total_tokens: 1620, prompt_tokens_details: { cached_tokens: 1000 } });
    const stream = await openai().chat.completions.create({ model: OPUS, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hi." }] });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage).toMatchObject({ prompt_tokens: 1600, prompt_tokens_details: { cached_tokens: 1000 } });
  });

  it("/v1/messages served by OpenAI reports its cached tokens as cache reads, outside input_tokens", async () => {
    fakes.openai.setDefault({ text: "ok", usage: { input: 1200, output: 5, cached: 1024 } });
    const res = await anthropic().messages.create({ model: MINI, max_tokens: 50, messages: [{ role: "user", content: "Hi." }] });
    expect(res.usage).toMatchObject({ input_tokens: 176, cache_read_input_tokens: 1024, cache_creation_input_tokens: 0, output_tokens: 5 });
    expect(server.records.at(-1)!.costUsd).toBeCloseTo(listCost(MINI, { input: 176, cached: 1024, written: 0, output: 5 }), 12);
  });
});
