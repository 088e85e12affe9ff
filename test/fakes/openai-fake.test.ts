import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { startOpenAIFake, type FakeServer } from "./openai-fake.js";

let fake: FakeServer;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIFake();
  client = new OpenAI({ apiKey: "test-key", baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const ask = (content: string, model = "gpt-test") => ({ model, messages: [{ role: "user" as const, content }] });
const weatherTool = { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' };
const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

describe("openai fake: replies", () => {
  it("answers with the default reply, estimated usage, and a request id", async () => {
    const { data, request_id } = await client.chat.completions
      .create({ model: "gpt-test", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "What is the capital of France?" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("gpt-test");
    expect(data.choices[0]?.message).toMatchObject({ role: "assistant", content: "fake answer from gpt-test: What is the capital of France?" });
    expect(data.choices[0]?.finish_reason).toBe("stop");
    const chars = "be brief".length + "What is the capital of France?".length;
    const text = data.choices[0]?.message.content ?? "";
    expect(data.usage).toMatchObject({
      prompt_tokens: Math.ceil(chars / 4),
      completion_tokens: Math.ceil(text.length / 4),
      total_tokens: Math.ceil(chars / 4) + Math.ceil(text.length / 4),
    });
    expect(request_id).toMatch(/^req_/);
  });

  it("records requests with method, path, headers and parsed body", async () => {
    await client.chat.completions.create(ask("hello"));
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/chat/completions", body: { model: "gpt-test", messages: [{ role: "user", content: "hello" }] } });
    expect(req?.headers["authorization"]).toBe("Bearer test-key");
    expect(req?.receivedAt).toBeTypeOf("number");
  });

  it("returns a scripted reply with explicit usage including cached tokens", async () => {
    fake.enqueue({ reply: { text: "scripted", finishReason: "length", usage: { input: 120, output: 7, cached: 100 } } });
    const res = await client.chat.completions.create(ask("x"));
    expect(res.choices[0]?.message.content).toBe("scripted");
    expect(res.choices[0]?.finish_reason).toBe("length");
    expect(res.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 7, total_tokens: 127, prompt_tokens_details: { cached_tokens: 100 } });
  });

  it("uses setDefault (value or function) until reset", async () => {
    fake.setDefault((req) => ({ text: `echo ${req.body.messages.length}` }));
    expect((await client.chat.completions.create(ask("a"))).choices[0]?.message.content).toBe("echo 1");
    fake.setDefault({ text: "fixed" });
    expect((await client.chat.completions.create(ask("a"))).choices[0]?.message.content).toBe("fixed");
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await client.chat.completions.create(ask("a"))).choices[0]?.message.content).toBe("fake answer from gpt-test: a");
  });

  it("applies model-scoped steps only to that model, in order", async () => {
    fake.enqueue({ model: "gpt-b", reply: { text: "for b" } }, { reply: { text: "any model" } });
    expect((await client.chat.completions.create(ask("q", "gpt-a"))).choices[0]?.message.content).toBe("any model");
    expect((await client.chat.completions.create(ask("q", "gpt-a"))).choices[0]?.message.content).toBe("fake answer from gpt-a: q");
    expect((await client.chat.completions.create(ask("q", "gpt-b"))).choices[0]?.message.content).toBe("for b");
    expect((await client.chat.completions.create(ask("q", "gpt-b"))).choices[0]?.message.content).toBe("fake answer from gpt-b: q");
  });

  it("returns tool calls parsed into message.tool_calls", async () => {
    fake.enqueue({ reply: { toolCalls: [{ id: "call_1", ...weatherTool }, { name: "noop", arguments: "{}" }] } });
    const res = await client.chat.completions.create({ ...ask("weather?"), tools });
    const msg = res.choices[0]?.message;
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(msg?.content).toBeNull();
    expect(msg?.tool_calls).toHaveLength(2);
    const [first, second] = msg?.tool_calls ?? [];
    expect(first).toMatchObject({ id: "call_1", type: "function", function: { name: "get_weather" } });
    expect(first?.type === "function" && JSON.parse(first.function.arguments)).toEqual({ city: "Paris", unit: "c" });
    expect(second?.id).toMatch(/^call_/);
  });
});

describe("openai fake: streaming", () => {
  it("streams role, content pieces, finish, usage chunk and [DONE] through the raw iterator", async () => {
    fake.enqueue({ reply: { text: "Hello streaming world!", chunks: 3, usage: { input: 11, output: 5, cached: 2 } } });
    const stream = await client.chat.completions.create({ ...ask("hi"), stream: true, stream_options: { include_usage: true } });
    const chunks = await collect(stream);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const pieces = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(pieces).toHaveLength(3);
    expect(pieces.join("")).toBe("Hello streaming world!");
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, prompt_tokens_details: { cached_tokens: 2 } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("omits the usage chunk without stream_options.include_usage", async () => {
    const chunks = await collect(await client.chat.completions.create({ ...ask("hi"), stream: true }));
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it("assembles the same text and usage via the stream helper", async () => {
    fake.setDefault({ text: "The same answer, twice.", usage: { input: 9, output: 6 } });
    const plain = await client.chat.completions.create(ask("q"));
    const stream = client.chat.completions.stream({ ...ask("q"), stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(plain.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(final.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
    expect(fake.requests[1]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("streams tool calls as index/id/name then argument pieces, assembled by the helper", async () => {
    fake.enqueue({ reply: { text: "Checking.", toolCalls: [{ id: "call_w", ...weatherTool }, { id: "call_x", name: "other", arguments: '{"n":1}' }] } });
    const raw = await collect(await client.chat.completions.create({ ...ask("weather?"), tools, stream: true }));
    const toolDeltas = raw.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, id: "call_w", type: "function", function: { name: "get_weather", arguments: "" } });
    expect(toolDeltas.filter((d) => d.index === 0 && !d.id).length).toBeGreaterThan(1);
    expect(raw.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("tool_calls");

    fake.enqueue({ reply: { text: "Checking.", toolCalls: [{ id: "call_w", ...weatherTool }, { id: "call_x", name: "other", arguments: '{"n":1}' }] } });
    const msg = await client.chat.completions.stream({ ...ask("weather?"), tools }).finalMessage();
    expect(msg.content).toBe("Checking.");
    expect(msg.tool_calls?.map((c) => c.type === "function" && [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["call_w", "get_weather", { city: "Paris", unit: "c" }],
      ["call_x", "other", { n: 1 }],
    ]);
  });
});

describe("openai fake: faults", () => {
  it("rejects a missing or bad key with OpenAI's 401 body", async () => {
    const res = await fetch(`${fake.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("x")) });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", param: null, code: "invalid_api_key" } });

    const bad = new OpenAI({ apiKey: "bad-key", baseURL: fake.url, maxRetries: 0 });
    const err = await bad.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
    expect(fake.requests).toHaveLength(2);
  });

  it("maps status faults to the SDK's error classes; 429 exposes retry-after", async () => {
    fake.enqueue(
      { fault: { kind: "status", status: 429, retryAfter: 7 } },
      { fault: { kind: "status", status: 500 } },
      { fault: { kind: "status", status: 400, message: "bad thing", code: "my_code", type: "my_type" } },
      { fault: { kind: "status", status: 503 } },
    );
    const rate = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(rate).toBeInstanceOf(OpenAI.RateLimitError);
    expect(rate).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "requests" });
    expect((rate as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBe("7");
    expect((rate as InstanceType<typeof OpenAI.RateLimitError>).requestID).toMatch(/^req_/);

    const server = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server).toMatchObject({ status: 500, type: "server_error" });

    const custom = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(custom).toBeInstanceOf(OpenAI.BadRequestError);
    expect(custom).toMatchObject({ status: 400, message: "400 bad thing", code: "my_code", type: "my_type" });

    const unavailable = await client.chat.completions.create({ ...ask("x"), stream: true }).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(OpenAI.InternalServerError);
    expect(unavailable).toMatchObject({ status: 503 });
  });

  it("lets the SDK's own retries count as separate recorded attempts", async () => {
    const retrying = new OpenAI({ apiKey: "test-key", baseURL: fake.url, maxRetries: 2 });
    fake.enqueue({ fault: { kind: "status", status: 429, retryAfter: 0 } }, { fault: { kind: "status", status: 503, retryAfter: 0 } });
    const res = await retrying.chat.completions.create(ask("x"));
    expect(res.choices[0]?.message.content).toBe("fake answer from gpt-test: x");
    expect(fake.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "1", "2"]);
  });

  it("returns the real context-length error", async () => {
    fake.enqueue({ fault: { kind: "context-length" } });
    const err = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: "context_length_exceeded", param: "messages", type: "invalid_request_error" });
    expect((err as Error).message).toMatch(/maximum context length is \d+ tokens/);
  });

  it("returns finish_reason content_filter with empty content, streamed too", async () => {
    fake.enqueue({ fault: { kind: "content-filter" } }, { fault: { kind: "content-filter" } });
    const res = await client.chat.completions.create(ask("x"));
    expect(res.choices[0]?.finish_reason).toBe("content_filter");
    expect(res.choices[0]?.message.content).toBe("");
    const chunks = await collect(await client.chat.completions.create({ ...ask("x"), stream: true }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("content_filter");
  });

  it("reset surfaces as APIConnectionError (not a timeout), after the request was recorded", async () => {
    fake.enqueue({ fault: { kind: "reset" } });
    const err = await client.chat.completions.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it("hang surfaces as APIConnectionTimeoutError with a short timeout", async () => {
    fake.enqueue({ fault: { kind: "hang" } });
    const err = await client.chat.completions.create(ask("x"), { timeout: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it("hang surfaces as APIUserAbortError when the caller aborts", async () => {
    fake.enqueue({ fault: { kind: "hang" } });
    const ac = new AbortController();
    const pending = client.chat.completions.create(ask("x"), { signal: ac.signal }).catch((e: unknown) => e);
    await fake.waitForRequests(1);
    ac.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
  });

  it("delayMs holds the response headers back (timeout fires first)", async () => {
    fake.enqueue({ reply: { text: "late", delayMs: 2000 } });
    const err = await client.chat.completions.create(ask("x"), { timeout: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it("stream-cut ends the stream with an error after N chunks and no [DONE]", async () => {
    fake.enqueue({ fault: { kind: "stream-cut", afterChunks: 3 }, reply: { text: "abcdefgh", chunks: 4 } });
    const stream = await client.chat.completions.create({ ...ask("x"), stream: true });
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/terminated/);
    expect(got).toEqual(["", "ab", "cd"]);
  });

  it("stream-cut before any chunk fails the first read", async () => {
    fake.enqueue({ fault: { kind: "stream-cut", afterChunks: 0 } });
    const stream = await client.chat.completions.create({ ...ask("x"), stream: true });
    await expect(collect(stream)).rejects.toThrow();
  });

  it("malformed JSON surfaces as an error, streaming and not", async () => {
    const quiet = new OpenAI({ apiKey: "test-key", baseURL: fake.url, maxRetries: 0, logLevel: "off" });
    fake.enqueue({ fault: { kind: "malformed" } }, { fault: { kind: "malformed" } });
    await expect(quiet.chat.completions.create(ask("x"))).rejects.toBeInstanceOf(SyntaxError);
    const stream = await quiet.chat.completions.create({ ...ask("x"), stream: true });
    await expect(collect(stream)).rejects.toBeInstanceOf(SyntaxError);
  });

  it("answers unknown routes with OpenAI's 404 body", async () => {
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as Error).message).toContain("Invalid URL (GET /v1/models)");
  });
});

describe("openai fake: reasoning parameters", () => {
  it("takes reasoning_effort on a reasoning model and refuses a temperature there, as the API does", async () => {
    await client.chat.completions.create({ ...ask("x", "gpt-5-mini"), reasoning_effort: "low" });
    expect(fake.requests[0]?.body.reasoning_effort).toBe("low");
    const err = await client.chat.completions.create({ ...ask("x", "o3"), temperature: 0.2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: "temperature", code: "unsupported_value" });
  });

  it("refuses reasoning_effort on a model without it", async () => {
    const err = await client.chat.completions.create({ ...ask("x", "gpt-4.1-mini"), reasoning_effort: "high" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: "reasoning_effort", code: "unsupported_parameter" });
  });
});
