// The Anthropic-compatible endpoint driven by the official `@anthropic-ai/sdk`, routed to either
// provider fake: plain and streamed messages, tools both ways, token counts, every error class,
// Claude ids as hints and aliases, and a request in Claude Code's own shape.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import { requestsFor, SECRETS } from "../helpers/llm-fakes.js";
import { expectNoSecrets } from "../helpers/mcp-harness.js";
import { startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";
// A current Claude id, as Claude Code sends it (the SDK warns about deprecated ones).
const SONNET_ID = "claude-sonnet-5-5";
/** Pinned by the overlay below: Claude Code's small-model id answered by an OpenAI model. */
const PINNED_HAIKU = "claude-3-5-haiku-20241022";

let server: CompatServer;
let fakes: CompatServer["fakes"];

function client(token: string = TOKENS.default): Anthropic {
  return new Anthropic({ apiKey: token, baseURL: server.handle.url, maxRetries: 0 });
}

beforeAll(async () => {
  server = await startCompatServer({ http: { modelAliases: { [PINNED_HAIKU]: MINI } } });
  fakes = server.fakes;
}, 60_000);
afterEach(() => server.reset());
afterAll(() => server?.close());

const both = (reply: Parameters<CompatServer["fakes"]["openai"]["setDefault"]>[0]) => {
  fakes.openai.setDefault(reply);
  fakes.anthropic.setDefault(reply);
};

describe("POST /v1/messages with the Anthropic SDK", () => {
  it("answers with a real Claude id as a routing hint (never a 404), in Anthropic's shape", async () => {
    both({ text: "Lima.", usage: { input: 20, output: 3 } });
    const { data, response } = await client()
      .messages.create({ model: SONNET_ID, max_tokens: 200, messages: [{ role: "user", content: "Capital of Peru?" }] })
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.role).toBe("assistant");
    expect(data.content).toEqual([{ type: "text", text: "Lima." }]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage.output_tokens).toBe(3);
    expect(Object.keys(server.runtime.config.models)).toContain(data.model);
    expect(response.headers.get("x-switchboard-model")).toBe(data.model);
    expect(server.records.map((r) => [r.tool, r.outcome])).toEqual([["messages", "ok"]]);
  });

  it("pins a Claude id through the alias map, and translates the request for the OpenAI model it names", async () => {
    fakes.openai.setDefault({ text: "Done." });
    const res = await client().messages.create({
      model: PINNED_HAIKU,
      max_tokens: 100,
      system: [{ type: "text", text: "Be brief." }],
      stop_sequences: ["END"],
      messages: [{ role: "user", content: "Say done." }],
    });
    expect(res.model).toBe(MINI);
    const body = requestsFor(fakes.openai, "gpt-4.1-mini")[0]!.body;
    expect(body.messages[0]).toEqual({ role: "system", content: "Be brief." });
    expect(body.stop).toEqual(["END"]);
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  it("streams text as it arrives with Anthropic's events, and the final message adds up", async () => {
    fakes.openai.setDefault({ text: "one two three four five", chunks: 5, usage: { input: 9, output: 5 } });
    const stream = client().messages.stream({ model: MINI, max_tokens: 100, messages: [{ role: "user", content: "Count." }] });
    const pieces: string[] = [];
    const events: string[] = [];
    stream.on("text", (t) => pieces.push(t));
    stream.on("streamEvent", (e) => events.push(e.type));
    const final = await stream.finalMessage();
    expect(pieces.join("")).toBe("one two three four five");
    expect(pieces.length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: "text", text: "one two three four five" }]);
    expect(final.stop_reason).toBe("end_turn");
    expect(events[0]).toBe("message_start");
    expect(events.at(-1)).toBe("message_stop");
  });

  it("returns tool_use blocks and carries tool_result back, whichever provider answers", async () => {
    const tools: Anthropic.Tool[] = [{ name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } } } }];
    fakes.openai.enqueue({ reply: { toolCalls: [{ id: "call_7", name: "get_weather", arguments: '{"city":"Lima"}' }], finishReason: "tool_calls" } });
    const c = client();
    const first = await c.messages.create({ model: MINI, max_tokens: 100, tools, messages: [{ role: "user", content: "Weather in Lima?" }] });
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content).toEqual([{ type: "tool_use", id: "call_7", name: "get_weather", input: { city: "Lima" } }]);

    fakes.openai.setDefault({ text: "19°C." });
    const second = await c.messages.create({
      model: MINI,
      max_tokens: 100,
      tools,
      messages: [
        { role: "user", content: "Weather in Lima?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_7", content: '{"celsius":19}' }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "19°C." }]);
    const sent = fakes.openai.requests.at(-1)!.body.messages;
    expect(sent.at(-2)).toMatchObject({ role: "assistant", tool_calls: [{ id: "call_7", function: { name: "get_weather", arguments: '{"city":"Lima"}' } }] });
    expect(sent.at(-1)).toEqual({ role: "tool", tool_call_id: "call_7", content: '{"celsius":19}' });
  });

  it("streams tool_use blocks", async () => {
    fakes.openai.setDefault({ toolCalls: [{ id: "call_3", name: "lookup", arguments: '{"q":"x"}' }], finishReason: "tool_calls" });
    const final = await client()
      .messages.stream({ model: MINI, max_tokens: 100, tools: [{ name: "lookup", input_schema: { type: "object" } }], messages: [{ role: "user", content: "Look up x." }] })
      .finalMessage();
    expect(final.content).toEqual([{ type: "tool_use", id: "call_3", name: "lookup", input: { q: "x" } }]);
    expect(final.stop_reason).toBe("tool_use");
  });

  it("carries a tool result's image (Claude Code reading a screenshot) to the model, whichever provider serves", async () => {
    const shot = { type: "image" as const, source: { type: "base64" as const, media_type: "image/png" as const, data: "iVBORw0KGgo=" } };
    const messages: Anthropic.MessageParam[] = [
      { role: "user", content: "Why does the page look broken?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_9", name: "Read", input: { file_path: "shot.png" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_9", content: [{ type: "text", text: "shot.png:" }, shot] }] },
    ];
    const tools: Anthropic.Tool[] = [{ name: "Read", input_schema: { type: "object", properties: { file_path: { type: "string" } } } }];
    fakes.openai.setDefault({ text: "The header overlaps the menu." });
    await client().messages.create({ model: MINI, max_tokens: 100, tools, messages });
    // OpenAI's tool messages take text only: the image follows in a user message that says whose it is.
    const sent = requestsFor(fakes.openai, "gpt-4.1-mini")[0]!.body.messages;
    expect(sent.at(-2)).toEqual({ role: "tool", tool_call_id: "toolu_9", content: "shot.png:" });
    expect(sent.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "(an image from the tool result toolu_9)" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    });

    fakes.anthropic.setDefault({ text: "The header overlaps the menu." });
    await client().messages.create({ model: "anthropic:claude-haiku-4-5", max_tokens: 100, tools, messages });
    // On Anthropic's API it stays in the turn of the tool result.
    const turn = fakes.anthropic.requests[0]!.body.messages.at(-1);
    expect(turn.role).toBe("user");
    expect(turn.content).toEqual([
      { type: "tool_result", tool_use_id: "toolu_9", content: "shot.png:" },
      { type: "text", text: "(an image from the tool result toolu_9)" },
      { type: "image", source: shot.source },
    ]);
  });

  it("says which content blocks the model was not sent (documents by file id, earlier server-tool results), never drops them silently", async () => {
    fakes.openai.setDefault({ text: "Read it." });
    // A Files API id names a file on Anthropic's side: no other provider can read it, and Switchboard holds no copy.
    const pdf = { type: "document", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } };
    const messages = [
      { role: "user", content: [pdf, { type: "text", text: "Summarize the attached spec." }] },
      {
        role: "assistant",
        content: [
          { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "spec" } },
          { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
          { type: "tool_use", id: "toolu_4", name: "Read", input: { file_path: "spec2.pdf" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_4", content: [{ type: "text", text: "spec2.pdf:" }, pdf] }] },
    ] as unknown as Anthropic.MessageParam[];
    const { response } = await client()
      .messages.create({ model: MINI, max_tokens: 100, tools: [{ name: "Read", input_schema: { type: "object" } }], messages })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-switchboard-notes")).toBe("content blocks dropped: document (2), server_tool_use, web_search_tool_result");
    // What is carried still arrives: the text, the tool call and its result's text.
    const sent = JSON.stringify(requestsFor(fakes.openai, "gpt-4.1-mini")[0]!.body.messages);
    expect(sent).toContain("Summarize the attached spec.");
    expect(sent).toContain("spec2.pdf:");
  });

  it("sends images on to an Anthropic model as image blocks", async () => {
    fakes.anthropic.setDefault({ text: "A red dot." });
    await client().messages.create({
      model: "anthropic:claude-haiku-4-5",
      max_tokens: 50,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }, { type: "text", text: "What is this?" }] }],
    });
    const content = fakes.anthropic.requests[0]!.body.messages[0].content;
    expect(content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    ]);
  });

  it("counts input tokens without calling any model", async () => {
    const c = client();
    const short = await c.messages.countTokens({ model: SONNET_ID, messages: [{ role: "user", content: "Hello there." }] });
    const long = await c.messages.countTokens({ model: SONNET_ID, system: "You are terse.", messages: [{ role: "user", content: "Hello there. ".repeat(200) }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens * 20);
    expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(0);
  });

  it("ends the stream with an error event when the provider fails after the first token", async () => {
    fakes.openai.enqueue({ fault: { kind: "stream-cut", afterChunks: 2 }, reply: { text: "alpha beta gamma delta epsilon", chunks: 5 } });
    fakes.anthropic.setDefault({ text: "must not be used" });
    const stream = client().messages.stream({ model: MINI, max_tokens: 100, messages: [{ role: "user", content: "Five words." }] });
    let text = "";
    stream.on("text", (t) => (text += t));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toMatch(/after \d+ characters/);
    expect(text.length).toBeGreaterThan(0);
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  it("cancels the upstream call when the client disconnects, and records it cancelled", async () => {
    fakes.anthropic.enqueue({ fault: { kind: "hang" } });
    const done = new Promise<string>((resolve) => {
      const off = server.runtime.onCall((r) => {
        off();
        resolve(r.outcome);
      });
    });
    const abort = new AbortController();
    const call = client().messages.create({ model: "anthropic:claude-opus-4-5", max_tokens: 100, stream: true, messages: [{ role: "user", content: "Take your time." }] }, { signal: abort.signal });
    await fakes.anthropic.waitForRequests(1);
    abort.abort();
    await expect(call).rejects.toThrow();
    expect(await done).toBe("cancelled");
    // No other provider was tried after the client left.
    expect(fakes.openai.requests).toHaveLength(0);
  });
});

describe("GET /v1/models for Anthropic clients", () => {
  it("lists the same ids in Anthropic's shape", async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids[0]).toBe("auto");
    expect(ids).toContain(MINI);
  });

  it("retrieves one in Anthropic's shape; a real Claude id, which is served as a hint, is described as itself", async () => {
    expect(await client().models.retrieve("anthropic:claude-haiku-4-5")).toMatchObject({ type: "model", id: "anthropic:claude-haiku-4-5" });
    expect(await client().models.retrieve(SONNET_ID)).toMatchObject({ type: "model", id: SONNET_ID, display_name: SONNET_ID });
    await expect(client().models.retrieve("gpt-4o")).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe("errors in Anthropic's shape, each with Switchboard's code and hint", () => {
  it("401 for an unknown x-api-key", async () => {
    const err = (await client("nope")
      .messages.create({ model: SONNET_ID, max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err.error as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("400 naming the missing field", async () => {
    const res = await fetch(`${server.handle.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": TOKENS.default, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: SONNET_ID, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; param: string; code: string } };
    expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error", param: "max_tokens", code: "invalid_request" } });
  });

  it("404 for a model that is neither Claude nor in the catalog, listing the valid ids", async () => {
    const err = (await client()
      .messages.create({ model: "gpt-17-ultra", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err.error as { error: { valid_values: string[] } }).error.valid_values).toContain(MINI);
  });

  it("429 with Retry-After when the tenant's budget is spent, and no key in the body", async () => {
    const err = (await client(TOKENS.capped)
      .messages.create({ model: MINI, max_tokens: 4000, messages: [{ role: "user", content: "Write an essay." }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect((err.error as { error: { code: string } }).error.code).toBe("budget_exceeded");
    expectNoSecrets(err.error, SECRETS);
  });
});

describe("Claude Code pointed at Switchboard (ANTHROPIC_BASE_URL)", () => {
  it("takes a request over the MCP body limit (screenshots in a session): /v1 allows Anthropic's 32 MB", async () => {
    both({ text: "The button is misaligned." });
    // 6 MB of base64, the size of a few pasted screenshots; MCP requests stay at http.maxBodyBytes (4 MB).
    const data = Buffer.alloc(4_500_000, 7).toString("base64");
    expect(data.length).toBeGreaterThan(server.runtime.config.http.maxBodyBytes);
    const res = await client().messages.create({
      model: SONNET_ID,
      max_tokens: 500,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data } }, { type: "text", text: "What is wrong in this screenshot?" }] }],
    });
    expect(res.content).toEqual([{ type: "text", text: "The button is misaligned." }]);
    expect(server.runtime.config.models[res.model]!.supports.vision).toBe(true);
  });

  it("answers a long session (past 400,000 characters) rather than refusing its size", async () => {
    both({ text: "Found it: the lexer drops the last token.", chunks: 2 });
    // A session's history: tool calls and their results, as Claude Code keeps them.
    const output = "src/parser.ts:42  const node = parseExpression(tokens, precedence); // reads one token ahead\n".repeat(120);
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "The test in test/parser.test.ts fails after my change; find out why." }];
    for (let i = 0; i < 40; i++) {
      messages.push({ role: "assistant", content: [{ type: "tool_use", id: `toolu_${i}`, name: "Read", input: { file_path: `src/part${i}.ts` } }] });
      messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: `toolu_${i}`, content: output }] });
    }
    expect(JSON.stringify(messages).length).toBeGreaterThan(400_000);
    const tools: Anthropic.Tool[] = [{ name: "Read", description: "Reads a file.", input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"] } }];
    const stream = client().messages.stream({ model: SONNET_ID, max_tokens: 8000, tools, messages });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "Found it: the lexer drops the last token." }]);
    // The whole history reached the model that served, which has the context window for it.
    const served = final.model;
    const sent = [...fakes.openai.requests, ...fakes.anthropic.requests][0]!.body;
    expect(JSON.stringify(sent)).toContain("toolu_39");
    expect(server.runtime.config.models[served]!.contextWindow).toBeGreaterThan(100_000);
  });

  it("answers a request in Claude Code's shape: cached system blocks, its tools, metadata, a stream", async () => {
    both({ text: "I'll run the tests first.", chunks: 3 });
    // The shape Claude Code sends: system blocks with cache_control, tool schemas with $schema and
    // additionalProperties, a system reminder before the user's words, metadata.user_id, beta headers.
    const body = {
      model: SONNET_ID,
      max_tokens: 32000,
      temperature: 1,
      stream: true,
      metadata: { user_id: "user_4f1c_account__session_9a2b" },
      system: [
        { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "You are an interactive CLI tool that helps users with software engineering tasks.", cache_control: { type: "ephemeral" } },
      ],
      tools: [
        {
          name: "Bash",
          description: "Executes a given bash command in a persistent shell session.",
          input_schema: { type: "object", properties: { command: { type: "string", description: "The command to execute" }, timeout: { type: "number" } }, required: ["command"], additionalProperties: false, $schema: "http://json-schema.org/draft-07/schema#" },
        },
        {
          name: "Read",
          description: "Reads a file from the local filesystem.",
          input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"], additionalProperties: false, $schema: "http://json-schema.org/draft-07/schema#" },
        },
        { type: "web_search_20250305", name: "web_search", max_uses: 5 },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "<system-reminder>\nAs you answer the user's questions, you can use the following context: ...\n</system-reminder>" },
            { type: "text", text: "The test in test/parser.test.ts fails after my change; find out why.", cache_control: { type: "ephemeral" } },
          ],
        },
      ],
    };
    const res = await fetch(`${server.handle.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: {
        "x-api-key": TOKENS.default,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14",
        "x-app": "cli",
        "user-agent": "claude-cli/2.0.14 (external, cli)",
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    // What the serving model was sent of the three breakpoints and the temperature.
    const served = res.headers.get("x-switchboard-model")!;
    const provider = served.split(":")[0];
    const cacheNote =
      provider === "anthropic" ? "cache_control passed to Anthropic (3 breakpoints)" : provider === "openai" ? "cache_control dropped: OpenAI caches prompts automatically" : `cache_control dropped: ${provider} takes no cache breakpoints`;
    const temperatureNote =
      provider === "anthropic" ? ["temperature dropped: Anthropic's Messages API takes none"] : server.runtime.config.models[served]!.supports.temperature === false ? [`temperature dropped: ${served} takes none`] : [];
    // The server tool goes to a model whose API runs it (Anthropic's), preferred when one is configured.
    const runsServerTools = server.runtime.config.models[served]!.supports.serverTools === true;
    expect(runsServerTools).toBe(true);
    expect(res.headers.get("x-switchboard-notes")).toBe([cacheNote, ...temperatureNote].join("; "));
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((frame) => ({ event: /^event: (.*)$/m.exec(frame)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as Record<string, unknown> }));
    expect(events[0]!.event).toBe("message_start");
    expect(events.at(-1)!.event).toBe("message_stop");
    const text = events.filter((e) => e.event === "content_block_delta").map((e) => (e.data.delta as { text: string }).text).join("");
    expect(text).toBe("I'll run the tests first.");
    // The provider got Claude Code's instructions, its client tools and the server tool as declared.
    const sent = [...fakes.openai.requests, ...fakes.anthropic.requests][0]!.body;
    expect(JSON.stringify(sent)).toContain("You are Claude Code");
    expect(JSON.stringify(sent)).toContain("test/parser.test.ts");
    const names = (sent.tools as Array<{ name?: string; function?: { name: string } }>).map((t) => t.name ?? t.function!.name);
    expect(names).toEqual(["Bash", "Read", "web_search"]);
    expect(sent.tools[2]).toEqual({ type: "web_search_20250305", name: "web_search", max_uses: 5 });
  });
});
