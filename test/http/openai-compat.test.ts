// The OpenAI-compatible endpoint driven by the official `openai` SDK, with the provider fakes
// behind Switchboard: plain and streamed answers, tools, JSON schemas, every error class,
// failures before and after the first token, a client leaving mid-stream, tenants and budgets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { CallRecord } from "../../src/store/telemetry.js";
import { requestsFor, SECRETS } from "../helpers/llm-fakes.js";
import { expectNoSecrets } from "../helpers/mcp-harness.js";
import { startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";

let server: CompatServer;
let fakes: CompatServer["fakes"];
let runtime: CompatServer["runtime"];
let records: CallRecord[];

function client(token: string = TOKENS.default, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ apiKey: token, baseURL: `${server.handle.url}/v1`, maxRetries: 0, defaultHeaders: headers });
}

beforeAll(async () => {
  server = await startCompatServer();
  ({ fakes, runtime, records } = server);
}, 60_000);
afterEach(() => server.reset());
afterAll(() => server?.close());

describe("POST /v1/chat/completions with the openai SDK", () => {
  it("answers a plain request on the routed model, says which and why in headers, and records the call", async () => {
    fakes.openai.setDefault({ text: "Lima is the capital of Peru.", usage: { input: 12, output: 7 } });
    fakes.anthropic.setDefault({ text: "Lima is the capital of Peru.", usage: { input: 12, output: 7 } });
    const { data, response } = await client()
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: "What is the capital of Peru?" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.message.content).toBe("Lima is the capital of Peru.");
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
    // The body's model is the one that answered, a catalog id; the headers say so too, with the reason.
    expect(Object.keys(runtime.config.models)).toContain(data.model);
    expect(response.headers.get("x-switchboard-model")).toBe(data.model);
    expect(response.headers.get("x-switchboard-request-id")).toMatch(/.+/);
    expect(response.headers.get("x-switchboard-reason")!.length).toBeGreaterThan(5);
    expect(data.id).toBe(`chatcmpl-${response.headers.get("x-switchboard-request-id")}`);
    expect(records.map((r) => [r.tool, r.outcome, r.tenant, r.model])).toEqual([["chat_completions", "ok", "default", data.model]]);
  });

  it("takes an explicit catalog id, a bare provider model name, and a mode", async () => {
    fakes.openai.setDefault({ text: "ok" });
    const c = client();
    const explicit = await c.chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Say ok." }] });
    expect(explicit.model).toBe(MINI);
    const bare = await c.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "Say ok." }] });
    expect(bare.model).toBe(MINI);
    expect(requestsFor(fakes.openai, "gpt-4.1-mini")).toHaveLength(2);
    const mode = Object.entries(runtime.config.modes).find(([, m]) => m.job === "llm")![0];
    const { response } = await c.chat.completions.create({ model: `switchboard/${mode}`, messages: [{ role: "user", content: "Say ok." }] }).withResponse();
    expect(response.headers.get("x-switchboard-mode")).toBe(mode);
  });

  it("streams the answer as it arrives, then the finish reason and usage", async () => {
    fakes.openai.setDefault({ text: "one two three four five six", chunks: 6, usage: { input: 5, output: 6 } });
    const stream = await client().chat.completions.create({ model: MINI, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Count." }] });
    const pieces: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.join("")).toBe("one two three four five six");
    // Relayed piece by piece, not gathered into one.
    expect(pieces.length).toBeGreaterThan(1);
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 6 });
  });

  it("returns the model's tool calls to the client and carries tool results back in the next turn", async () => {
    fakes.openai.enqueue({ reply: { toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Lima"}' }], finishReason: "tool_calls" } });
    const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const c = client();
    const first = await c.chat.completions.create({ model: MINI, tools, messages: [{ role: "user", content: "Weather in Lima?" }] });
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(first.choices[0]!.message.tool_calls).toEqual([{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Lima"}' } }]);
    expect(fakes.openai.requests[0]!.body.tools[0].function.name).toBe("get_weather");

    fakes.openai.setDefault({ text: "It is 19°C in Lima." });
    const second = await c.chat.completions.create({
      model: MINI,
      tools,
      messages: [{ role: "user", content: "Weather in Lima?" }, first.choices[0]!.message as OpenAI.ChatCompletionMessageParam, { role: "tool", tool_call_id: "call_1", content: '{"celsius":19}' }],
    });
    expect(second.choices[0]!.message.content).toBe("It is 19°C in Lima.");
    const sent = fakes.openai.requests.at(-1)!.body.messages;
    expect(sent.at(-2)).toMatchObject({ role: "assistant", tool_calls: [{ id: "call_1", function: { name: "get_weather" } }] });
    expect(sent.at(-1)).toEqual({ role: "tool", tool_call_id: "call_1", content: '{"celsius":19}' });
  });

  it("streams tool calls as they arrive: the id and name first, then the arguments piece by piece", async () => {
    fakes.openai.setDefault({ toolCalls: [{ id: "call_9", name: "lookup", arguments: '{"query":"the capital of Peru"}' }], finishReason: "tool_calls", chunks: 4 });
    const stream = await client().chat.completions.create({ model: MINI, stream: true, tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }], messages: [{ role: "user", content: "Look up x." }] });
    const calls: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls[0]).toEqual({ index: 0, id: "call_9", type: "function", function: { name: "lookup", arguments: "" } });
    const pieces = calls.slice(1).map((c) => c.function?.arguments);
    expect(pieces.length).toBeGreaterThan(1);
    expect(calls.every((c) => c.index === 0)).toBe(true);
    expect(pieces.join("")).toBe('{"query":"the capital of Peru"}');
    expect(finish).toBe("tool_calls");
  });

  it("passes json_schema response formats, stop sequences and max_completion_tokens to the provider", async () => {
    fakes.openai.setDefault({ text: '{"city":"Lima"}' });
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const res = await client().chat.completions.create({
      model: MINI,
      messages: [{ role: "user", content: "Capital of Peru as JSON." }],
      response_format: { type: "json_schema", json_schema: { name: "capital", schema } },
      stop: ["\n\n"],
      max_completion_tokens: 50,
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ city: "Lima" });
    const body = fakes.openai.requests[0]!.body;
    expect(body.response_format).toEqual({ type: "json_schema", json_schema: { name: "capital", schema } });
    expect(body.stop).toEqual(["\n\n"]);
    expect(body.max_completion_tokens).toBe(50);
    // Strict schema adherence, as LangChain's structured output asks for it, reaches an OpenAI model.
    await client().chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Capital of Peru as JSON." }], response_format: { type: "json_schema", json_schema: { name: "capital", schema, strict: true } } });
    expect(fakes.openai.requests[1]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "capital", schema, strict: true } });
  });

  it("sends images in user messages on to the model", async () => {
    fakes.openai.setDefault({ text: "A cat." });
    await client().chat.completions.create({
      model: MINI,
      messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }],
    });
    expect(fakes.openai.requests[0]!.body.messages.at(-1).content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    ]);
  });

  it("says which content parts the model was not sent (files by id, audio), never drops them silently", async () => {
    fakes.openai.setDefault({ text: "Noted." });
    const { response } = await client()
      .chat.completions.create({
        model: MINI,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Summarize these." },
              { type: "file", file: { file_id: "file-6F2ksmvXxt4VdoqmHRw6kL" } },
              { type: "file", file: { file_id: "file-4zZMAmUkUy4TfrT9n9mGqH" } },
              { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
            ],
          },
        ],
      })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe("content parts dropped: file (2), input_audio");
    expect(JSON.stringify(fakes.openai.requests[0]!.body.messages)).toContain("Summarize these.");
  });

  it("falls back to another provider when the first fails before any token, streamed or not", async () => {
    fakes.openai.setDefault(() => ({ text: "never" }));
    for (let i = 0; i < 20; i++) fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
    fakes.anthropic.setDefault({ text: "Answered by the backup." });
    const c = client();
    const { data, response } = await c.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "What is the capital of Peru?" }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe("Answered by the backup.");
    expect(data.model.startsWith("anthropic:")).toBe(true);
    expect(response.headers.get("x-switchboard-model")).toBe(data.model);
    const stream = await c.chat.completions.create({ model: "auto", stream: true, messages: [{ role: "user", content: "What is the capital of Peru?" }] });
    let text = "";
    let model = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      model = chunk.model;
    }
    expect(text).toBe("Answered by the backup.");
    expect(model.startsWith("anthropic:")).toBe(true);
  });

  it("ends a stream with an error event when the provider fails after the first token, and tries no other model", async () => {
    fakes.openai.enqueue({ fault: { kind: "stream-cut", afterChunks: 2 }, reply: { text: "alpha beta gamma delta epsilon", chunks: 5 } });
    fakes.anthropic.setDefault({ text: "must not be used" });
    const stream = await client().chat.completions.create({ model: MINI, stream: true, messages: [{ role: "user", content: "Say five words." }] });
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toMatch(/after \d+ characters/);
    expect(text.length).toBeGreaterThan(0);
    expect("alpha beta gamma delta epsilon".startsWith(text)).toBe(true);
    expect(fakes.anthropic.requests).toHaveLength(0);
    expect(records.at(-1)?.outcome).not.toBe("ok");
  });

  it("cancels the upstream call when the client disconnects", async () => {
    fakes.openai.enqueue({ fault: { kind: "hang" } });
    const abort = new AbortController();
    const done = new Promise<CallRecord>((resolve) => {
      const off = runtime.onCall((r) => {
        off();
        resolve(r);
      });
    });
    const call = client().chat.completions.create({ model: MINI, stream: true, messages: [{ role: "user", content: "Take your time." }] }, { signal: abort.signal });
    await fakes.openai.waitForRequests(1);
    abort.abort();
    await expect(call).rejects.toThrow();
    expect((await done).outcome).toBe("cancelled");
    expect(fakes.anthropic.requests).toHaveLength(0);
  });
});

describe("errors in OpenAI's shape, each with Switchboard's code and hint", () => {
  it("401 without a token or with an unknown one", async () => {
    const err = await client("not-a-token").chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe("unauthorized");
    // The SDK will not send a request without a key; curl will.
    const res = await fetch(`${server.handle.url}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: { code: string; hint: string } }).error).toMatchObject({ code: "unauthorized", hint: expect.stringMatching(/token/) });
  });

  it("400 naming the field for a malformed body", async () => {
    const err = (await client()
      .chat.completions.create({ model: "auto", messages: [] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("messages");
    expect(err.code).toBe("invalid_request");
    expect((err.error as { hint?: string }).hint).toMatch(/messages/);
  });

  it("404 for an API Switchboard does not serve (embeddings), saying what it does serve", async () => {
    const err = (await client()
      .embeddings.create({ model: "text-embedding-3-small", input: "hello" })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain("nothing at POST /v1/embeddings");
    expect((err.error as { hint: string }).hint).toMatch(/\/v1\/chat\/completions.*embeddings.*not served/);
  });

  it("404 for an unknown model, listing the valid ids", async () => {
    const err = (await client()
      .chat.completions.create({ model: "gpt-17-ultra", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.NotFoundError>;
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.param).toBe("model");
    const valid = (err.error as { valid_values: string[] }).valid_values;
    expect(valid).toContain("auto");
    expect(valid).toContain(MINI);
  });

  it("403 when a tenant's token acts for another tenant", async () => {
    const err = await client(TOKENS.acme, { "x-switchboard-tenant": "default" })
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("429 with Retry-After when the tenant's budget is spent", async () => {
    fakes.openai.setDefault({ text: "never sent" });
    const err = (await client(TOKENS.capped)
      .chat.completions.create({ model: MINI, messages: [{ role: "user", content: "Write a long essay." }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe("budget_exceeded");
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(fakes.openai.requests).toHaveLength(0);
  });

  it("429 rate_limited with Retry-After once the tenant's requests per minute are used", async () => {
    fakes.openai.setDefault({ text: "ok" });
    const c = client(TOKENS.limited);
    const ask = () => c.chat.completions.create({ model: MINI, messages: [{ role: "user", content: "hi" }] });
    // Two a minute; a window may turn between calls, so allow one more before the refusal.
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await ask().then(() => "ok", (e: unknown) => e));
    const err = outcomes.find((o) => o !== "ok") as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe("rate_limited");
    expect((err.error as { message: string }).message).toMatch(/tenant limited's rate limit is reached: 2 of 2 requests/);
    const wait = Number(err.headers?.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it("502 when every provider failed, with the attempts' cause, and no key in any error", async () => {
    for (let i = 0; i < 40; i++) {
      fakes.openai.enqueue({ fault: { kind: "status", status: 500 } });
      fakes.anthropic.enqueue({ fault: { kind: "status", status: 500 } });
    }
    const err = (await client()
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(err.code).toBe("provider_unavailable");
    expect(err.message).toMatch(/every model in the chain failed/);
    expectNoSecrets(err.error, SECRETS);
  });
});

describe("GET /v1/models", () => {
  it("lists auto, a model per LLM mode and the catalog, behind the token", async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids[0]).toBe("auto");
    expect(ids).toContain(MINI);
    expect(ids.some((id) => id.startsWith("switchboard/"))).toBe(true);
    await expect(client("nope").models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("retrieves one model by any name a request's `model` takes, as its listed id; an unknown one is a 404", async () => {
    expect(await client().models.retrieve(MINI)).toMatchObject({ id: MINI, object: "model", owned_by: "openai" });
    expect((await client().models.retrieve("openai/gpt-4.1-mini")).id).toBe(MINI);
    expect((await client().models.retrieve("gpt-4.1-mini")).id).toBe(MINI);
    expect(await client().models.retrieve("auto")).toMatchObject({ id: "auto", owned_by: "switchboard" });
    const mode = (await client().models.list()).data.find((m) => m.id.startsWith("switchboard/"))!.id;
    expect((await client().models.retrieve(mode)).id).toBe(mode);
    const err = await client().models.retrieve("gpt-4o").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('model "gpt-4o" is not known here');
    await expect(client("nope").models.retrieve(MINI)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
