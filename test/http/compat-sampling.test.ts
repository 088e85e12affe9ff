// Sampling settings and parallel tool calls on both compatible APIs: top_p, seed and the penalties
// reach an OpenAI model as sent; a reasoning model (which refuses them: the fake does, as the API
// does) and Anthropic's API (which takes none) are sent none, with a note naming each; one tool
// call per answer (`parallel_tool_calls: false`, `disable_parallel_tool_use`) reaches either API
// in its own terms; an out-of-range value is 400 naming its field.
import { describe, expect, it } from "vitest";
import type Anthropic from "@anthropic-ai/sdk";
import { requestsFor } from "../helpers/llm-fakes.js";
import { useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";
const GPT5_MINI = "openai:gpt-5-mini";
const HAIKU = "anthropic:claude-haiku-4-5";

const { server, openai, anthropic } = useCompatServer();

const weather = { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } };
const sampled = { top_p: 0.9, seed: 42, presence_penalty: 0.5, frequency_penalty: -0.25 };

describe("sampling settings on /v1/chat/completions", () => {
  it("reach an OpenAI model as sent, with one tool call per answer when asked", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    const { response } = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Weather in Lima?" }], tools: [{ type: "function", function: weather }], parallel_tool_calls: false, ...sampled })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBeNull();
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body).toMatchObject({ ...sampled, parallel_tool_calls: false });
  });

  it("are not sent to a reasoning model, which refuses them, and the note names each", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    const { response } = await openai()
      .chat.completions.create({ model: GPT5_MINI, messages: [{ role: "user", content: "Capital of Peru?" }], ...sampled })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-switchboard-notes")).toBe(`top_p, seed, presence_penalty, frequency_penalty dropped: ${GPT5_MINI} takes none`);
    const sent = requestsFor(server().fakes.openai, "gpt-5-mini")[0]!.body;
    for (const field of Object.keys(sampled)) expect(sent).not.toHaveProperty(field);
  });

  it("are not sent to Anthropic, whose API takes none; one tool call per answer goes as disable_parallel_tool_use", async () => {
    server().fakes.anthropic.setDefault({ text: "Lima." });
    const { response } = await openai()
      .chat.completions.create({ model: HAIKU, messages: [{ role: "user", content: "Weather in Lima?" }], tools: [{ type: "function", function: weather }], parallel_tool_calls: false, top_p: 0.9, seed: 7 })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe("top_p, seed dropped: Anthropic's Messages API takes none");
    const sent = server().fakes.anthropic.requests[0]!.body;
    expect(sent.tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(sent).not.toHaveProperty("top_p");
  });

  it("names the settings no model is sent (log probabilities, logit bias, audio output) in a note, and only those", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    const asked = { logprobs: true, top_logprobs: 3, logit_bias: { "50256": -100 }, modalities: ["text", "audio"] } as Record<string, unknown>;
    const { response } = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Capital of Peru?" }], ...asked })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe("logprobs, top_logprobs, logit_bias, modalities dropped: Switchboard does not carry them to any model");
    const sent = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body;
    for (const field of Object.keys(asked)) expect(sent).not.toHaveProperty(field);
    const plain = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Capital of Peru?" }], logprobs: false, modalities: ["text"] })
      .withResponse();
    expect(plain.response.headers.get("x-switchboard-notes")).toBeNull();
  });

  it("refuses a value out of range, naming the field", async () => {
    const err = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Hi" }], top_p: 1.5 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: "top_p" });
    expect(server().fakes.openai.requests).toHaveLength(0);
  });
});

describe("sampling settings on /v1/messages", () => {
  it("top_p reaches an OpenAI model, top_k (which it has no field for) is named in a note, and disable_parallel_tool_use becomes parallel_tool_calls", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    // The current SDK's types have no top_p or top_k (the API's newest models take none); older clients and curl send them.
    const params = {
      model: MINI,
      max_tokens: 100,
      top_p: 0.8,
      top_k: 40,
      tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }],
      tool_choice: { type: "auto" as const, disable_parallel_tool_use: true },
      messages: [{ role: "user" as const, content: "Weather in Lima?" }],
    } as Anthropic.MessageCreateParamsNonStreaming;
    const { response } = await anthropic().messages.create(params).withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe(`top_k dropped: ${MINI}'s API takes no top_k`);
    const sent = requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body;
    expect(sent).toMatchObject({ top_p: 0.8, parallel_tool_calls: false });
    expect(sent).not.toHaveProperty("top_k");
  });

  it("a forced tool keeps one call per answer on Anthropic's API", async () => {
    server().fakes.anthropic.setDefault({ toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: '{"city":"Lima"}' }] });
    await anthropic().messages.create({
      model: HAIKU,
      max_tokens: 100,
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages: [{ role: "user", content: "Weather in Lima?" }],
    });
    expect(server().fakes.anthropic.requests[0]!.body.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
  });
});
