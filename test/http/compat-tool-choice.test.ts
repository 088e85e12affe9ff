// `tool_choice` on both compatible APIs: a forced call (any tool, or the one named) reaches the
// serving model in its own API's terms, whichever provider serves; Anthropic takes no thinking
// beside a forced call (the fake refuses it, as the API does), so thinking is dropped with a note;
// a choice that names no tool of the request is refused 400 naming the field.
import { describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { requestsFor } from "../helpers/llm-fakes.js";
import { useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";
const HAIKU = "anthropic:claude-haiku-4-5";

const { server, openai, anthropic } = useCompatServer();

const weather = { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const call = { id: "call_1", name: "get_weather", arguments: '{"city":"Lima"}' };

describe("tool_choice on /v1/chat/completions", () => {
  it("a named function reaches an OpenAI model as its tool_choice, and an Anthropic model as tool", async () => {
    server().fakes.openai.setDefault({ toolCalls: [call], finishReason: "tool_calls" });
    const res = await openai().chat.completions.create({
      model: MINI,
      messages: [{ role: "user", content: "Lima?" }],
      tools: [{ type: "function", function: weather }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    expect((res.choices[0]!.message.tool_calls?.[0] as { function: { name: string } } | undefined)?.function.name).toBe("get_weather");
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });

    server().fakes.anthropic.setDefault({ toolCalls: [call] });
    await openai().chat.completions.create({
      model: HAIKU,
      messages: [{ role: "user", content: "Lima?" }],
      tools: [{ type: "function", function: weather }],
      tool_choice: "required",
    });
    expect(server().fakes.anthropic.requests[0]!.body.tool_choice).toEqual({ type: "any" });
  });

  it("auto and none force nothing (none sends no tools)", async () => {
    server().fakes.openai.setDefault({ text: "Sunny." });
    await openai().chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Lima?" }], tools: [{ type: "function", function: weather }], tool_choice: "auto" });
    await openai().chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Lima?" }], tools: [{ type: "function", function: weather }], tool_choice: "none" });
    const [auto, none] = requestsFor(server().fakes.openai, "gpt-4.1-mini").map((r) => r.body);
    expect(auto!.tool_choice).toBeUndefined();
    expect(auto!.tools).toHaveLength(1);
    expect(none!.tools).toBeUndefined();
  });

  it("400 naming tool_choice for a function the request does not define, or a forced call without tools", async () => {
    const unknown = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Lima?" }], tools: [{ type: "function", function: weather }], tool_choice: { type: "function", function: { name: "get_time" } } })
      .catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    const e = (unknown as InstanceType<typeof OpenAI.APIError>).error as { param: string; message: string; hint: string };
    expect(e.param).toBe("tool_choice");
    expect(e.message).toMatch(/get_time/);
    const bare = await openai()
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Lima?" }], tool_choice: "required" })
      .catch((err: unknown) => err);
    expect(bare).toBeInstanceOf(OpenAI.BadRequestError);
    expect(server().fakes.openai.requests).toHaveLength(0);
  });
});

describe("tool_choice on /v1/messages", () => {
  const tools: Anthropic.Tool[] = [{ name: weather.name, description: weather.description, input_schema: weather.parameters as Anthropic.Tool.InputSchema }];

  it("any reaches an OpenAI model as required, and tool an Anthropic model as tool", async () => {
    server().fakes.openai.setDefault({ toolCalls: [call], finishReason: "tool_calls" });
    const a = await anthropic().messages.create({ model: MINI, max_tokens: 200, tools, tool_choice: { type: "any" }, messages: [{ role: "user", content: "Lima?" }] });
    expect(a.stop_reason).toBe("tool_use");
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.tool_choice).toBe("required");

    server().fakes.anthropic.setDefault({ toolCalls: [call] });
    await anthropic().messages.create({ model: HAIKU, max_tokens: 200, tools, tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: "Lima?" }] });
    expect(server().fakes.anthropic.requests[0]!.body.tool_choice).toEqual({ type: "tool", name: "get_weather" });
  });

  it("a forced call with thinking on an Anthropic model keeps the call and drops the thinking, with a note", async () => {
    server().fakes.anthropic.setDefault({ toolCalls: [call] });
    const { data, response } = await anthropic()
      .messages.create({
        model: HAIKU,
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        tools,
        tool_choice: { type: "tool", name: "get_weather" },
        messages: [{ role: "user", content: "Lima?" }],
      })
      .withResponse();
    expect(data.stop_reason).toBe("tool_use");
    const sent = server().fakes.anthropic.requests[0]!.body;
    expect(sent.tool_choice).toEqual({ type: "tool", name: "get_weather" });
    expect(sent.thinking).toBeUndefined();
    expect(response.headers.get("x-switchboard-notes")).toMatch(/thinking .*forces a tool call/);
  });

  it("400 naming tool_choice.name for a tool the request does not define (a server tool included)", async () => {
    const err = await anthropic()
      .messages.create({
        model: MINI,
        max_tokens: 200,
        tools: [...tools, { type: "web_search_20250305", name: "web_search" }],
        tool_choice: { type: "tool", name: "web_search" },
        messages: [{ role: "user", content: "Lima?" }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (err as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } };
    expect(body.error.message).toMatch(/tool_choice names web_search/);
    expect(server().fakes.openai.requests).toHaveLength(0);
  });
});
