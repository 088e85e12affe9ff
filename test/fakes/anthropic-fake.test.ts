import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import { fakeSignature, startAnthropicFake, type FakeServer } from "./anthropic-fake.js";

let fake: FakeServer;
let client: Anthropic;

beforeAll(async () => {
  fake = await startAnthropicFake();
  client = new Anthropic({ apiKey: "test-key", baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const ask = (content: string, model = "claude-test") => ({ model, max_tokens: 256, messages: [{ role: "user" as const, content }] });
const weatherTool = { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' };
const tools = [{ name: "get_weather", input_schema: { type: "object" as const } }];

async function collect(stream: AsyncIterable<Anthropic.RawMessageStreamEvent>) {
  const events: Anthropic.RawMessageStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const textOf = (msg: Anthropic.Message) => msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");

describe("anthropic fake: replies", () => {
  it("answers with the default reply, estimated usage, and a request id", async () => {
    const { data, request_id } = await client.messages
      .create({ ...ask("What is the capital of France?"), system: "be brief" })
      .withResponse();
    expect(data).toMatchObject({ type: "message", role: "assistant", model: "claude-test", stop_reason: "end_turn", stop_sequence: null });
    expect(data.id).toMatch(/^msg_/);
    const text = textOf(data);
    expect(text).toBe("fake answer from claude-test: What is the capital of France?");
    const chars = "be brief".length + "What is the capital of France?".length;
    expect(data.usage).toMatchObject({ input_tokens: Math.ceil(chars / 4), output_tokens: Math.ceil(text.length / 4), cache_read_input_tokens: 0 });
    expect(request_id).toMatch(/^req_/);
  });

  it("records requests with the API key (SDK 1.x: Authorization Bearer) and anthropic-version", async () => {
    await client.messages.create(ask("hello"));
    const [req] = fake.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/messages", body: { model: "claude-test", max_tokens: 256 } });
    expect(req?.headers["authorization"]).toBe("Bearer test-key");
    expect(req?.headers["x-api-key"]).toBeUndefined();
    expect(req?.headers["anthropic-version"]).toBeTypeOf("string");
  });

  it("also accepts the classic x-api-key header", async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "test-key" },
      body: JSON.stringify(ask("hi")),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: "message", content: [{ type: "text", text: "fake answer from claude-test: hi" }] });
    expect(fake.requests[0]?.headers["x-api-key"]).toBe("test-key");
  });

  it("returns a scripted reply with explicit usage including cache reads", async () => {
    fake.enqueue({ reply: { text: "scripted", finishReason: "max_tokens", usage: { input: 20, output: 7, cached: 100 } } });
    const msg = await client.messages.create(ask("x"));
    expect(textOf(msg)).toBe("scripted");
    expect(msg.stop_reason).toBe("max_tokens");
    expect(msg.usage).toMatchObject({ input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 100 });
  });

  it("uses setDefault (value or function) until reset", async () => {
    fake.setDefault((req) => ({ text: `echo ${req.body.model}` }));
    expect(textOf(await client.messages.create(ask("a")))).toBe("echo claude-test");
    fake.setDefault({ text: "fixed" });
    expect(textOf(await client.messages.create(ask("a")))).toBe("fixed");
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect(textOf(await client.messages.create(ask("a")))).toBe("fake answer from claude-test: a");
  });

  it("applies model-scoped steps only to that model", async () => {
    fake.enqueue({ model: "claude-b", fault: { kind: "status", status: 529 } });
    expect(textOf(await client.messages.create(ask("q", "claude-a")))).toBe("fake answer from claude-a: q");
    await expect(client.messages.create(ask("q", "claude-b"))).rejects.toBeInstanceOf(Anthropic.OverloadedError);
    expect(textOf(await client.messages.create(ask("q", "claude-b")))).toBe("fake answer from claude-b: q");
  });

  it("returns tool_use blocks with parsed input", async () => {
    fake.enqueue({ reply: { text: "Let me check.", toolCalls: [{ id: "toolu_1", ...weatherTool }, { name: "noop", arguments: "{}" }] } });
    const msg = await client.messages.create({ ...ask("weather?"), tools });
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content[0]).toMatchObject({ type: "text", text: "Let me check." });
    expect(msg.content[1]).toMatchObject({ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris", unit: "c" } });
    expect(msg.content[2]).toMatchObject({ type: "tool_use", name: "noop", input: {} });
    expect(msg.content[2]?.type === "tool_use" && msg.content[2].id).toMatch(/^toolu_/);
  });
});

describe("anthropic fake: streaming", () => {
  it("streams message_start, block events, message_delta and message_stop through the raw iterator", async () => {
    fake.enqueue({ reply: { text: "Hello streaming world!", chunks: 3, usage: { input: 11, output: 5, cached: 2 } } });
    const events = await collect(await client.messages.create({ ...ask("hi"), stream: true }));
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const text = events.map((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? e.delta.text : "")).join("");
    expect(text).toBe("Hello streaming world!");
    const start = events[0];
    expect(start?.type === "message_start" && start.message.usage).toMatchObject({ input_tokens: 11, cache_read_input_tokens: 2 });
    const delta = events.at(-2);
    expect(delta?.type === "message_delta" && delta.delta.stop_reason).toBe("end_turn");
    expect(delta?.type === "message_delta" && delta.usage.output_tokens).toBe(5);
  });

  it("assembles the same text and usage via messages.stream()", async () => {
    fake.setDefault({ text: "The same answer, twice.", usage: { input: 9, output: 6 } });
    const plain = await client.messages.create(ask("q"));
    const final = await client.messages.stream(ask("q")).finalMessage();
    expect(textOf(final)).toBe(textOf(plain));
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 6 });
    expect(fake.requests[1]?.body.stream).toBe(true);
  });

  it("streams tool_use input as input_json_delta pieces, assembled by the helper", async () => {
    fake.enqueue({ reply: { text: "Checking.", toolCalls: [{ id: "toolu_w", ...weatherTool }] } });
    const raw = await collect(await client.messages.create({ ...ask("weather?"), tools, stream: true }));
    const start = raw.find((e) => e.type === "content_block_start" && e.content_block.type === "tool_use");
    expect(start).toMatchObject({ index: 1, content_block: { type: "tool_use", id: "toolu_w", name: "get_weather", input: {} } });
    const partials = raw.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "input_json_delta" ? [e.delta.partial_json] : []));
    expect(partials.length).toBeGreaterThan(2);
    expect(partials.join("")).toBe(weatherTool.arguments);

    fake.enqueue({ reply: { text: "Checking.", toolCalls: [{ id: "toolu_w", ...weatherTool }, { id: "toolu_x", name: "other", arguments: '{"n":1}' }] } });
    const final = await client.messages.stream({ ...ask("weather?"), tools }).finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(textOf(final)).toBe("Checking.");
    expect(final.content.filter((b) => b.type === "tool_use").map((b) => [b.id, b.name, b.input])).toEqual([
      ["toolu_w", "get_weather", { city: "Paris", unit: "c" }],
      ["toolu_x", "other", { n: 1 }],
    ]);
  });
});

describe("anthropic fake: faults", () => {
  it("rejects a missing or bad key with Anthropic's 401 body", async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(ask("x")),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });

    const bad = new Anthropic({ apiKey: "bad-key", baseURL: fake.url, maxRetries: 0 });
    const err = await bad.messages.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err).toMatchObject({ status: 401, type: "authentication_error" });
    expect(fake.requests).toHaveLength(2);
  });

  it("maps status faults to Anthropic error types and SDK classes; 429 exposes retry-after", async () => {
    const cases: Array<[number, new (...args: never[]) => Error, string]> = [
      [400, Anthropic.BadRequestError, "invalid_request_error"],
      [403, Anthropic.PermissionDeniedError, "permission_error"],
      [404, Anthropic.NotFoundError, "not_found_error"],
      [500, Anthropic.InternalServerError, "api_error"],
      [529, Anthropic.OverloadedError, "overloaded_error"],
    ];
    for (const [status, cls, type] of cases) {
      fake.enqueue({ fault: { kind: "status", status } });
      const err = await client.messages.create(ask("x")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err).toMatchObject({ status, type, error: { type: "error", error: { type } } });
      expect((err as InstanceType<typeof Anthropic.APIError>).requestID).toMatch(/^req_/);
    }

    fake.enqueue({ fault: { kind: "status", status: 429, retryAfter: 12, message: "slow down" } });
    const rate = await client.messages.create({ ...ask("x"), stream: true }).catch((e: unknown) => e);
    expect(rate).toBeInstanceOf(Anthropic.RateLimitError);
    expect(rate).toMatchObject({ status: 429, type: "rate_limit_error", message: expect.stringContaining("slow down") });
    expect((rate as InstanceType<typeof Anthropic.RateLimitError>).headers.get("retry-after")).toBe("12");
  });

  it("lets the SDK's own retries count as separate recorded attempts", async () => {
    const retrying = new Anthropic({ apiKey: "test-key", baseURL: fake.url, maxRetries: 2 });
    // Unlike the openai SDK, this SDK treats `retry-after: 0` as absent (default ~0.5s+ backoff): use a tiny positive value.
    fake.enqueue({ fault: { kind: "status", status: 529, retryAfter: 0.001 } }, { fault: { kind: "status", status: 429, retryAfter: 0.001 } });
    expect(textOf(await retrying.messages.create(ask("x")))).toBe("fake answer from claude-test: x");
    expect(fake.requests.map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "1", "2"]);
  });

  it("returns the real context-length error", async () => {
    fake.enqueue({ fault: { kind: "context-length" } });
    const err = await client.messages.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err).toMatchObject({ status: 400, type: "invalid_request_error" });
    expect((err as Error).message).toMatch(/prompt is too long: \d+ tokens > \d+ maximum/);
  });

  it("returns stop_reason refusal with no content, streamed too", async () => {
    fake.enqueue({ fault: { kind: "content-filter" } }, { fault: { kind: "content-filter" } });
    const msg = await client.messages.create(ask("x"));
    expect(msg.stop_reason).toBe("refusal");
    expect(msg.content).toEqual([]);
    const final = await client.messages.stream(ask("x")).finalMessage();
    expect(final.stop_reason).toBe("refusal");
    expect(final.content).toEqual([]);
  });

  it("reset surfaces as APIConnectionError (not a timeout), after the request was recorded", async () => {
    fake.enqueue({ fault: { kind: "reset" } });
    const err = await client.messages.create(ask("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(err).not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it("hang surfaces as APIConnectionTimeoutError with a short timeout", async () => {
    fake.enqueue({ fault: { kind: "hang" } });
    const err = await client.messages.create(ask("x"), { timeout: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it("hang surfaces as APIUserAbortError when the caller aborts a stream", async () => {
    fake.enqueue({ fault: { kind: "hang" } });
    const ac = new AbortController();
    const pending = client.messages.create({ ...ask("x"), stream: true }, { signal: ac.signal }).catch((e: unknown) => e);
    await fake.waitForRequests(1);
    ac.abort();
    expect(await pending).toBeInstanceOf(Anthropic.APIUserAbortError);
  });

  it("stream-cut ends the stream with an error after N events and no message_stop", async () => {
    fake.enqueue({ fault: { kind: "stream-cut", afterChunks: 4 }, reply: { text: "abcdefgh", chunks: 4 } });
    const stream = await client.messages.create({ ...ask("x"), stream: true });
    const types: string[] = [];
    const err = await (async () => {
      for await (const e of stream) types.push(e.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    // 4 frames = message_start, content_block_start, ping (skipped by the SDK), one delta
    expect(types).toEqual(["message_start", "content_block_start", "content_block_delta"]);

    fake.enqueue({ fault: { kind: "stream-cut", afterChunks: 5 } });
    await expect(client.messages.stream(ask("x")).finalMessage()).rejects.toThrow();
  });

  it("malformed JSON surfaces as an error, streaming and not", async () => {
    const quiet = new Anthropic({ apiKey: "test-key", baseURL: fake.url, maxRetries: 0, logLevel: "off" });
    fake.enqueue({ fault: { kind: "malformed" } }, { fault: { kind: "malformed" } });
    await expect(quiet.messages.create(ask("x"))).rejects.toBeInstanceOf(SyntaxError);
    await expect(collect(await quiet.messages.create({ ...ask("x"), stream: true }))).rejects.toBeInstanceOf(SyntaxError);
  });

  it("requires anthropic-version and answers unknown routes with not_found_error", async () => {
    const noVersion = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "test-key" },
      body: JSON.stringify(ask("x")),
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe("anthropic fake: thinking and prompt caching", () => {
  const thinking = { type: "enabled", budget_tokens: 1024 } as const;
  const thought = "Paris is the capital.";

  it("returns thinking and redacted_thinking blocks before the text, whole and streamed, with its own signature", async () => {
    fake.setDefault({ thinking: [{ thinking: thought }, { redacted: "opaque" }], text: "Paris." });
    const whole = await client.messages.create({ ...ask("Capital?"), max_tokens: 2048, thinking });
    expect(whole.content).toEqual([
      { type: "thinking", thinking: thought, signature: fakeSignature(thought) },
      { type: "redacted_thinking", data: "opaque" },
      { type: "text", text: "Paris." },
    ]);
    const streamed = await client.messages.stream({ ...ask("Capital?"), max_tokens: 2048, thinking }).finalMessage();
    expect(streamed.content).toEqual(whole.content);
  });

  it("reports cache writes and reads in usage", async () => {
    fake.setDefault({ text: "ok", usage: { input: 10, output: 2, cached: 300, cacheWrite: 200 } });
    const res = await client.messages.create(ask("hi"));
    expect(res.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 300, cache_creation_input_tokens: 200, cache_creation: { ephemeral_5m_input_tokens: 200 } });
  });

  it("refuses what the API refuses: a budget not below max_tokens, a temperature with thinking, a changed signature, a tool-use turn without thinking, five breakpoints", async () => {
    const refusals: Array<[Anthropic.MessageCreateParamsNonStreaming, RegExp]> = [
      [{ ...ask("x"), max_tokens: 1024, thinking }, /max_tokens.*must be greater than.*budget_tokens/],
      // (Not in this SDK's types: API versions that take a temperature refuse one with thinking.)
      [{ ...ask("x"), max_tokens: 2048, thinking, ...{ temperature: 0.5 } }, /temperature.*may only be set to 1/],
      [
        { model: "claude-test", max_tokens: 256, messages: [{ role: "user", content: "x" }, { role: "assistant", content: [{ type: "thinking", thinking: "edited", signature: fakeSignature(thought) }, { type: "text", text: "y" }] }, { role: "user", content: "z" }] },
        /messages\.1\.content\.0: Invalid `signature`/,
      ],
      [
        {
          model: "claude-test",
          max_tokens: 2048,
          thinking,
          tools,
          messages: [
            { role: "user", content: "x" },
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "get_weather", input: {} }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "sunny" }] },
          ],
        },
        /messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`/,
      ],
      [
        { model: "claude-test", max_tokens: 256, messages: [{ role: "user", content: [1, 2, 3, 4, 5].map((n) => ({ type: "text" as const, text: `part ${n}`, cache_control: { type: "ephemeral" as const } })) }] },
        /A maximum of 4 blocks with cache_control may be provided\. Found 5\./,
      ],
    ];
    for (const [body, message] of refusals) {
      const err = await client.messages.create(body).catch((e: unknown) => e);
      expect(err, String(message)).toBeInstanceOf(Anthropic.BadRequestError);
      expect((err as InstanceType<typeof Anthropic.BadRequestError>).message).toMatch(message);
    }
  });
});
