// Anthropic's server tools on /v1/messages, as Claude Code's WebSearch sends them (a web_search
// tool declared by type, a Claude id, streamed): routed to a model whose API runs them, the tool
// passed as declared, and the search's call, results and citing text relayed back in order,
// streamed or whole, the search priced; a model named explicitly that cannot run them is sent
// none, with a note.
import { describe, expect, it } from "vitest";
import type Anthropic from "@anthropic-ai/sdk";
import { requestsFor } from "../helpers/llm-fakes.js";
import { useCompatServer } from "../helpers/compat-server.js";

const MINI = "openai:gpt-4.1-mini";

const { server, anthropic } = useCompatServer();

const WEB_SEARCH = { type: "web_search_20250305", name: "web_search", max_uses: 8 } as const;
const SEARCH = { query: "capital of Peru", results: [{ url: "https://en.wikipedia.org/wiki/Lima", title: "Lima - Wikipedia" }] };

/** The request Claude Code's WebSearch tool makes: its small model's id, the server tool, a streamed answer. */
const claudeCodeSearch = (): Anthropic.MessageCreateParamsStreaming => ({
  model: "claude-haiku-4-5-20251001",
  max_tokens: 32000,
  stream: true,
  system: [{ type: "text", text: "You are an assistant for performing a web search tool use" }],
  tools: [WEB_SEARCH as unknown as Anthropic.ToolUnion],
  messages: [{ role: "user", content: "Perform a web search for the query: capital of Peru" }],
});

const answerWithSearch = () => {
  server().fakes.anthropic.setDefault({ text: "Lima is the capital of Peru.", search: SEARCH });
  server().fakes.openai.setDefault({ text: "Lima (from memory, no search)." });
};

describe("server tools on /v1/messages", () => {
  it("route Claude Code's web search to a model that runs it, pass the tool as declared, and stream the search back in order", async () => {
    answerWithSearch();
    const events: Anthropic.RawMessageStreamEvent[] = [];
    const { data: stream, response } = await anthropic().messages.create(claudeCodeSearch()).withResponse();
    for await (const ev of stream) events.push(ev);

    const served = response.headers.get("x-switchboard-model")!;
    expect(server().runtime.config.models[served]!.supports.serverTools).toBe(true);
    expect(response.headers.get("x-switchboard-notes")).toBeNull();
    expect(server().fakes.anthropic.requests[0]!.body.tools).toEqual([WEB_SEARCH]);

    const starts = events.flatMap((e) => (e.type === "content_block_start" ? [e.content_block] : []));
    expect(starts.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect(starts[1]).toMatchObject({ type: "web_search_tool_result", content: [{ type: "web_search_result", url: SEARCH.results[0]!.url, title: SEARCH.results[0]!.title }] });
    const input = events.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "input_json_delta" ? [e.delta.partial_json] : [])).join("");
    expect(JSON.parse(input)).toEqual({ query: SEARCH.query });
    const text = events.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? [e.delta.text] : [])).join("");
    expect(text).toBe("Lima is the capital of Peru.");
    // Blocks are numbered in order and each closes before the next opens.
    const order = events.flatMap((e) => (e.type === "content_block_start" || e.type === "content_block_stop" ? [`${e.type === "content_block_start" ? "+" : "-"}${e.index}`] : []));
    expect(order).toEqual(["+0", "-0", "+1", "-1", "+2", "-2"]);
  });

  it("stream in a shape the SDK's own stream helper accumulates into the same message", async () => {
    answerWithSearch();
    const { stream: _, ...params } = claudeCodeSearch();
    const final = await anthropic().messages.stream({ ...params, model: "anthropic:claude-haiku-4-5" }).finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect((final.content[0] as Anthropic.ServerToolUseBlock).input).toEqual({ query: SEARCH.query });
    expect((final.content[2] as Anthropic.TextBlock).text).toBe("Lima is the capital of Peru.");
    // The citing text's citations stream too (citations_delta), as a whole answer carries them.
    expect((final.content[2] as Anthropic.TextBlock).citations?.[0]).toMatchObject({ type: "web_search_result_location", url: SEARCH.results[0]!.url });
  });

  it("return a whole answer's blocks as Anthropic gave them, citations included, and price the search", async () => {
    answerWithSearch();
    const { stream: _, ...whole } = claudeCodeSearch();
    const msg = await anthropic().messages.create({ ...whole, max_tokens: 4000, stream: false });
    expect(msg.content.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    const cited = msg.content[2] as Anthropic.TextBlock;
    expect(cited.text).toBe("Lima is the capital of Peru.");
    expect(cited.citations?.[0]).toMatchObject({ type: "web_search_result_location", url: SEARCH.results[0]!.url });
    const record = server().records.at(-1)!;
    const price = server().runtime.config.models[record.model!]!.price;
    expect(price.perWebSearch).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThanOrEqual(price.perWebSearch!);
  });

  it("are not sent to a model named explicitly whose API cannot run them, and the note says so", async () => {
    answerWithSearch();
    const { stream: _, ...whole } = claudeCodeSearch();
    const { data, response } = await anthropic()
      .messages.create({ ...whole, model: MINI, max_tokens: 4000, stream: false })
      .withResponse();
    expect(response.headers.get("x-switchboard-notes")).toBe("server tools dropped: web_search");
    expect(data.content).toEqual([{ type: "text", text: "Lima (from memory, no search)." }]);
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.tools).toBeUndefined();
  });

  it("carry an earlier search back to an Anthropic model as it came, and name it dropped for one that cannot read it", async () => {
    answerWithSearch();
    const { stream: _, ...whole } = claudeCodeSearch();
    const first = await anthropic().messages.create({ ...whole, model: "anthropic:claude-haiku-4-5", max_tokens: 4000, stream: false });
    server().reset();
    server().fakes.anthropic.setDefault({ text: "Its population is about 10 million." });
    server().fakes.openai.setDefault({ text: "About 10 million." });
    const followUp = (model: string) => ({
      ...whole,
      model,
      max_tokens: 4000,
      stream: false as const,
      messages: [...whole.messages, { role: "assistant" as const, content: first.content as Anthropic.ContentBlockParam[] }, { role: "user" as const, content: "And its population?" }],
    });

    const viaAnthropic = await anthropic().messages.create(followUp("anthropic:claude-haiku-4-5")).withResponse();
    expect(viaAnthropic.response.headers.get("x-switchboard-notes")).toBeNull();
    const turn = server().fakes.anthropic.requests[0]!.body.messages[1];
    expect(turn.role).toBe("assistant");
    expect(turn.content.map((b: { type: string }) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect(turn.content[2].citations[0]).toMatchObject({ type: "web_search_result_location", url: SEARCH.results[0]!.url });

    const viaOpenAI = await anthropic().messages.create(followUp(MINI)).withResponse();
    expect(viaOpenAI.response.headers.get("x-switchboard-notes")).toBe("server tools dropped: web_search; content blocks dropped: server_tool_use, web_search_tool_result");
    expect(requestsFor(server().fakes.openai, "gpt-4.1-mini")[0]!.body.messages).toContainEqual({ role: "assistant", content: "Lima is the capital of Peru." });
  });
});
