// What a client written for OpenRouter or LiteLLM sends, through the official OpenAI SDK: model
// names as `provider/model` (OpenRouter's dotted Claude versions included), OpenRouter's `models`
// list (the first serves, the rest are its fallbacks) and LiteLLM's `fallbacks`, tried in the
// caller's order when the first model fails before any token, whole or streamed, on Chat
// Completions and Responses; a list that names no model is refused naming its place.
import { describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { slashedModelId } from "../../src/http/compat/foreign-ids.js";
import { requestsFor } from "../helpers/llm-fakes.js";
import { useCompatServer } from "../helpers/compat-server.js";

const { server, openai } = useCompatServer();
const ask = [{ role: "user" as const, content: "What is the capital of Peru?" }];
/** Fields the SDK's types do not have (they are other gateways'), sent as the JSON body carries them. */
const body = (extra: Record<string, unknown>) => extra as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
/** Makes every call to one OpenAI model fail with a 503 before any token. */
const failing = (model: string) => {
  for (let i = 0; i < 10; i++) server().fakes.openai.enqueue({ model, fault: { kind: "status", status: 503 } });
};

describe("provider/model names, as OpenRouter and LiteLLM write them", () => {
  it("name the catalog's model: the request reaches it and the answer says which served", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    server().fakes.anthropic.setDefault({ text: "Lima." });
    const a = await openai().chat.completions.create({ model: "openai/gpt-4.1-mini", messages: ask });
    expect(a.model).toBe("openai:gpt-4.1-mini");
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")).toHaveLength(1);
    const b = await openai().chat.completions.create({ model: "anthropic/claude-haiku-4.5", messages: ask });
    expect(b.model).toBe("anthropic:claude-haiku-4-5");
  });

  it("resolve LiteLLM's provider prefixes and OpenRouter's own ids, and nothing that is not in the catalog", () => {
    const cfg = server().runtime.config;
    expect(slashedModelId(cfg, "gemini/gemini-2.5-pro")).toBe("google:gemini-2.5-pro");
    expect(slashedModelId(cfg, "openrouter/google/gemini-2.5-flash")).toBe("openrouter:google/gemini-2.5-flash");
    expect(slashedModelId(cfg, "anthropic/claude-sonnet-4.5")).toBe("anthropic:claude-sonnet-4-5");
    expect(slashedModelId(cfg, "openai/gpt-4o")).toBeUndefined();
    expect(slashedModelId(cfg, "nosuch/gpt-4.1")).toBeUndefined();
    expect(slashedModelId(cfg, "/gpt-4.1")).toBeUndefined();
  });

  it("that are not in the catalog are a 404 naming the model and the nearest valid id", async () => {
    const err = await openai()
      .chat.completions.create({ model: "openai/gpt-4o", messages: ask })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: "model" });
    expect((err as Error).message).toContain('model "openai/gpt-4o" is not known here');
  });
});

describe("the caller's fallback lists", () => {
  it("OpenRouter's `models` without `model`: the first serves, and when it fails the next in the list does", async () => {
    failing("gpt-4.1-mini");
    server().fakes.openai.setDefault({ text: "From GPT-4.1." });
    server().fakes.anthropic.setDefault({ text: "From Claude." });
    // Switchboard's own first fallback for gpt-4.1-mini is another provider's; the list's is gpt-4.1.
    const own = server().runtime.route({ prompt: ask[0]!.content, model: "openai:gpt-4.1-mini" }).fallbacks[0]!.model;
    expect(own).not.toBe("openai:gpt-4.1");
    const { data, response } = await openai()
      .chat.completions.create(body({ models: ["openai/gpt-4.1-mini", "openai/gpt-4.1"], messages: ask }))
      .withResponse();
    expect(data.model).toBe("openai:gpt-4.1");
    expect(data.choices[0]!.message.content).toBe("From GPT-4.1.");
    expect(response.headers.get("x-switchboard-model")).toBe("openai:gpt-4.1");
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini").length).toBeGreaterThan(0);
    expect(server().fakes.anthropic.requests).toHaveLength(0);
  });

  it("LiteLLM's `fallbacks` after a named model, streamed: the caller's fallback answers, over Switchboard's own", async () => {
    failing("gpt-4.1-mini");
    server().fakes.openai.setDefault({ text: "From GPT-4.1." });
    server().fakes.anthropic.setDefault({ text: "From Claude." });
    const stream = await openai().chat.completions.create({ ...body({ model: "openai:gpt-4.1-mini", fallbacks: ["gpt-4.1"], messages: ask }), stream: true });
    let text = "";
    let model = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      model = chunk.model;
    }
    expect(text).toBe("From GPT-4.1.");
    expect(model).toBe("openai:gpt-4.1");
    expect(server().fakes.anthropic.requests).toHaveLength(0);
  });

  it("reach the Responses API the same way", async () => {
    failing("gpt-4.1-mini");
    server().fakes.openai.setDefault({ text: "From GPT-4.1." });
    server().fakes.anthropic.setDefault({ text: "From Claude." });
    const r = await openai().responses.create({ model: "openai:gpt-4.1-mini", input: ask[0]!.content, ...({ fallbacks: ["openai:gpt-4.1"] } as object) });
    expect(r.model).toBe("openai:gpt-4.1");
    expect(r.output_text).toBe("From GPT-4.1.");
  });

  it("skip a listed model that cannot serve here, and the reason header says why", async () => {
    server().fakes.openai.setDefault({ text: "Lima." });
    const { response } = await openai()
      .chat.completions.create(body({ model: "openai:gpt-4.1-mini", models: ["deepseek/deepseek-chat"], messages: ask }))
      .withResponse();
    expect(response.status).toBe(200);
    expect(decodeURIComponent(response.headers.get("x-switchboard-reason") ?? "")).toContain("Fallback deepseek:deepseek-chat skipped: provider deepseek has no credentials here");
  });

  it("are refused when an entry is unknown, names no model, or the list is too long, naming the entry", async () => {
    const refused = (extra: Record<string, unknown>) =>
      openai()
        .chat.completions.create(body({ model: "openai:gpt-4.1-mini", messages: ask, ...extra }))
        .catch((e: unknown) => e);
    expect(await refused({ models: ["openai:gpt-4.1", "openai/gpt-4o"] })).toMatchObject({ status: 404, param: "models.1" });
    expect(await refused({ fallbacks: ["auto"] })).toMatchObject({ status: 400, param: "fallbacks.0" });
    expect(await refused({ fallbacks: ["switchboard/structured_planning"] })).toMatchObject({ status: 400, param: "fallbacks.0" });
    expect(await refused({ models: Array.from({ length: 9 }, () => "openai:gpt-4.1") })).toMatchObject({ status: 400, param: "models" });
    expect(await refused({ fallbacks: [{ model: "gpt-4.1" }] })).toMatchObject({ status: 400, param: "fallbacks.0" });
    expect(server().fakes.openai.requests).toHaveLength(0);
  });

  it("refuse a megabyte-long name with a message that quotes only its start (it echoed the whole megabyte)", async () => {
    const huge = "m".repeat(1_000_000);
    const err = await openai()
      .chat.completions.create(body({ model: "openai:gpt-4.1-mini", messages: ask, models: [huge] }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: "models.0" });
    expect((err as Error).message.length).toBeLessThan(10_000);
    expect((err as Error).message).toContain("(1,000,000 characters)");
  });
});
