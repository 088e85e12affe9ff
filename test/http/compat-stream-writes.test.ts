// A streamed answer's first token must leave in one write with the headers and the opening events:
// each separate write can wake the client once more before it has text to show, and a cork held
// until the next tick waits for the provider's stream parser to finish its turn.
import { describe, expect, it } from "vitest";
import type { ServerResponse } from "node:http";
import { EventStream } from "../../src/http/compat/anthropic-stream.js";
import { chatApi } from "../../src/http/compat/openai-routes.js";
import type { AnswerStream } from "../../src/http/compat/serve-llm.js";
import { parseResponsesRequest } from "../../src/http/compat/openai-responses.js";
import { ResponseEventStream } from "../../src/http/compat/responses-stream.js";
import type { LlmOutcome } from "../../src/jobs/llm-pipeline.js";

/** The writes a response received, and whether its headers went out before the first one. */
function recordingResponse() {
  const writes: string[] = [];
  const state = { headers: false, ended: false };
  const res = {
    writeHead: () => void (state.headers = true),
    setHeader: () => undefined,
    write: (chunk: string) => (writes.push(chunk), true),
    end: (chunk?: string) => {
      if (chunk) writes.push(chunk);
      state.ended = true;
    },
    writableEnded: false,
    destroyed: false,
  };
  return { res: res as unknown as ServerResponse, writes, state };
}

const served = { decision: undefined };

describe("streamed answers write once per upstream piece", () => {
  it("/v1/chat/completions: headers, the role chunk and the first text in one write, then one write per piece", () => {
    const { res, writes, state } = recordingResponse();
    const body = chatApi.parse({ model: "auto", stream: true, messages: [{ role: "user", content: "hi" }] });
    const stream = chatApi.stream(body, res, () => undefined) as AnswerStream;
    stream.text(served, "openai:gpt-4.1-mini", "Lima ");
    expect(state.headers).toBe(true);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/"role":"assistant".*\n\ndata: .*"content":"Lima "/s);
    stream.text(served, "openai:gpt-4.1-mini", "is the capital.");
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain('"content":"is the capital."');
  });

  it("/v1/messages: message_start, the text block's start and its first delta in one write", () => {
    const { res, writes } = recordingResponse();
    const stream = new EventStream(res, () => undefined);
    stream.text(served, "anthropic:claude-haiku-4-5", "Lima ");
    expect(writes).toHaveLength(1);
    const events = [...writes[0]!.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    stream.thinking(served, "anthropic:claude-haiku-4-5", { type: "thinking", block: 0, text: "hmm" });
    // A new thinking block closes the text block and opens its own: still one write.
    expect(writes).toHaveLength(2);
    expect([...writes[1]!.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual(["content_block_stop", "content_block_start", "content_block_delta"]);
  });

  it("/v1/messages: a tool call whose id, name and first arguments come apart opens its block once the name is known, the held arguments with it", () => {
    const { res, writes } = recordingResponse();
    const stream = new EventStream(res, () => undefined);
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, id: "call_1" });
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, arguments: '{"q":' });
    // Nothing can be sent yet: a tool_use block needs its name.
    expect(writes).toHaveLength(0);
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, name: "lookup" });
    expect(writes).toHaveLength(1);
    const data = [...writes[0]!.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { type: string; content_block?: unknown; delta?: unknown });
    expect(data.map((d) => d.type)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    expect(data[1]!.content_block).toEqual({ type: "tool_use", id: "call_1", name: "lookup", input: {} });
    expect(data[2]!.delta).toEqual({ type: "input_json_delta", partial_json: '{"q":' });
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, arguments: '"x"}' });
    expect(writes[1]).toContain('"partial_json":"\\"x\\"}"');
  });

  it("/v1/messages: a call whose input came after its block closed is refused at the end, not passed off", () => {
    const { res } = recordingResponse();
    const stream = new EventStream(res, () => undefined);
    const m = "openai:gpt-4.1-mini";
    stream.toolCall(served, m, { index: 0, id: "call_a", name: "lookup", arguments: '{"q":' });
    stream.toolCall(served, m, { index: 1, id: "call_b", name: "lookup", arguments: '{"q":"y"}' });
    // A piece of call 0 after call 1 began: Anthropic's blocks are sequential, it cannot be sent.
    stream.toolCall(served, m, { index: 0, arguments: '"x"}' });
    const run = {
      model: m,
      result: {
        text: "",
        toolCalls: [
          { id: "call_a", name: "lookup", arguments: '{"q":"x"}' },
          { id: "call_b", name: "lookup", arguments: '{"q":"y"}' },
        ],
        finishReason: "tool_calls",
        usage: { inputTokens: 5, outputTokens: 5, cachedInputTokens: 0 },
      },
    } as unknown as LlmOutcome;
    expect(() => stream.finish(run)).toThrow(/interleaved/);
  });
});

describe("/v1/responses streamed events", () => {
  const body = parseResponsesRequest({ model: "auto", input: "Weather in Lima?", tools: [{ type: "function", name: "lookup" }] });

  it("open the response, the message item and its first delta in one write; a call's item waits for its name, then closes the message first", () => {
    const { res, writes } = recordingResponse();
    const stream = new ResponseEventStream(res, body, () => undefined);
    const types = (w: string) => [...w.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { type: string }).type);
    stream.text(served, "openai:gpt-4.1-mini", "Checking.");
    expect(writes).toHaveLength(1);
    expect(types(writes[0]!)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta"]);
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, id: "call_1", arguments: '{"q":' });
    expect(writes).toHaveLength(1);
    stream.toolCall(served, "openai:gpt-4.1-mini", { index: 0, name: "lookup" });
    expect(types(writes[1]!)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
    ]);
    const data = [...writes.join("").matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { sequence_number: number; item?: { call_id?: string; name?: string }; delta?: string });
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.at(-2)!.item).toMatchObject({ type: "function_call", call_id: "call_1", name: "lookup", arguments: "" });
    expect(data.at(-1)!.delta).toBe('{"q":');
  });
});
