// Tool calls stream to the client as the model writes them, in each API's own events, whichever
// provider serves: a large tool input (a file an agent writes) reaches the client piece by piece
// instead of in one lump at the end, and the pieces add up to the call the model made.
import { describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { useCompatServer } from "../helpers/compat-server.js";

const OPUS = "anthropic:claude-opus-4-5";
const MINI = "openai:gpt-4.1-mini";
const INPUT = { path: "notes/plan.md", content: "Step one, then step two, then step three." };

const { server, openai, anthropic } = useCompatServer();
const writeTool: Anthropic.Tool = { name: "write_file", description: "Write a file", input_schema: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } } } };
const call = (id: string, args: unknown = INPUT) => ({ id, name: "write_file", arguments: JSON.stringify(args) });

/** The events of a /v1/messages stream, and the message the SDK assembles from them. */
async function messagesStream(model: string) {
  const stream = anthropic().messages.stream({ model, max_tokens: 500, tools: [writeTool], messages: [{ role: "user", content: "Write the plan." }] });
  const events: Anthropic.MessageStreamEvent[] = [];
  stream.on("streamEvent", (e) => void events.push(e));
  const message = await stream.finalMessage();
  return { events, message };
}

describe("tool calls stream on /v1/messages", () => {
  for (const [provider, model, fake] of [
    ["Anthropic", OPUS, "anthropic"],
    ["OpenAI", MINI, "openai"],
  ] as const) {
    it(`served by ${provider}: a tool_use block, then its input in several input_json_delta events, before the message ends`, async () => {
      server().fakes[fake].setDefault({ toolCalls: [call("call_1")], finishReason: fake === "openai" ? "tool_calls" : "tool_use", chunks: 4 });
      const { events, message } = await messagesStream(model);
      const kinds = events.map((e) => (e.type === "content_block_delta" ? e.delta.type : e.type === "content_block_start" ? `start:${e.content_block.type}` : e.type));
      const start = kinds.indexOf("start:tool_use");
      const pieces = events.filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === "content_block_delta" && e.delta.type === "input_json_delta" && e.delta.partial_json !== "");
      expect(start).toBeGreaterThan(0);
      expect(pieces.length).toBeGreaterThan(1);
      // Every piece comes before the message's closing events.
      expect(kinds.lastIndexOf("input_json_delta")).toBeLessThan(kinds.indexOf("message_delta"));
      const tool = message.content.find((b) => b.type === "tool_use");
      expect(tool).toMatchObject({ type: "tool_use", id: "call_1", name: "write_file", input: INPUT });
      expect(message.stop_reason).toBe("tool_use");
    });
  }

  it("a call without arguments closes with an empty input", async () => {
    server().fakes.anthropic.setDefault({ toolCalls: [{ id: "call_2", name: "write_file", arguments: "" }], finishReason: "tool_use" });
    const { message } = await messagesStream(OPUS);
    expect(message.content.find((b) => b.type === "tool_use")).toMatchObject({ id: "call_2", input: {} });
  });
});

describe("tool calls stream on /v1/chat/completions", () => {
  it("served by Anthropic: two calls, each its id and name first, then its arguments piece by piece, in order", async () => {
    server().fakes.anthropic.setDefault({ toolCalls: [call("toolu_a"), call("toolu_b", { path: "b.md", content: "B" })], finishReason: "tool_use", chunks: 3 });
    const stream = await openai().chat.completions.create({
      model: OPUS,
      stream: true,
      tools: [{ type: "function", function: { name: "write_file", parameters: { type: "object" } } }],
      messages: [{ role: "user", content: "Write both." }],
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas.filter((d) => d.id).map((d) => [d.index, d.id, d.function?.name])).toEqual([
      [0, "toolu_a", "write_file"],
      [1, "toolu_b", "write_file"],
    ]);
    // Call 0's pieces all come before call 1 begins.
    expect(deltas.findIndex((d) => d.index === 1)).toBeGreaterThan(deltas.findLastIndex((d) => d.index === 0));
    expect(deltas.filter((d) => d.index === 0 && d.function?.arguments).length).toBeGreaterThan(1);
    const args = (i: number) => deltas.filter((d) => d.index === i).map((d) => d.function?.arguments ?? "").join("");
    expect(JSON.parse(args(0))).toEqual(INPUT);
    expect(JSON.parse(args(1))).toEqual({ path: "b.md", content: "B" });
    expect(finish).toBe("tool_calls");
  });
});
