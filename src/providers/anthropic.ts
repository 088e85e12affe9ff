import { createRequire } from "node:module";
import type Anthropic from "@anthropic-ai/sdk";
import { anthropicBody } from "./anthropic-request.js";
import { anthropicThinking } from "./reasoning.js";
import { StreamIncompleteError } from "./errors.js";
import { httpFetch } from "./http-fetch.js";
import { sdkLogger } from "./sdk-logger.js";
import type { CallOptions, ChatRequest, ChatResult, FinishReason, LlmAdapter, ThinkingBlock, ToolCall, Usage } from "./types.js";

const require = createRequire(import.meta.url);
let sdk: typeof Anthropic | undefined;
/** The SDK loads with the first adapter built (before any attempt's clock starts), never at start-up. */
const loadSdk = (): typeof Anthropic => (sdk ??= (require("@anthropic-ai/sdk") as typeof import("@anthropic-ai/sdk")).default);

/** Anthropic's Messages API through the official SDK, SDK retries off. The request body is built in anthropic-request.ts. */
export class AnthropicAdapter implements LlmAdapter {
  readonly provider = "anthropic";
  private readonly client: Anthropic;

  constructor(opts: { apiKey: string; baseURL: string }) {
    const AnthropicSdk = loadSdk();
    this.client = new AnthropicSdk({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: 10 * 60 * 1000, logger: sdkLogger, logLevel: "warn", fetch: httpFetch });
  }

  /** Thinking counts toward max_tokens, which it raises to make room: the budget reserves that much. */
  maxBilledOutput(req: ChatRequest): number {
    const plan = anthropicThinking(req);
    return plan && "maxTokens" in plan ? plan.maxTokens : req.maxOutputTokens;
  }

  async chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
    const body = anthropicBody(req);
    if (!opts.onDelta) {
      const msg = await this.client.messages.create({ ...body, stream: false }, { signal: opts.signal });
      let text = "";
      const toolCalls: ToolCall[] = [];
      const thinking: ThinkingBlock[] = [];
      for (const block of msg.content) {
        if (block.type === "text") text += block.text;
        else if (block.type === "tool_use") toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
        else if (block.type === "thinking") thinking.push({ type: "thinking", thinking: block.thinking, signature: block.signature });
        else if (block.type === "redacted_thinking") thinking.push({ type: "redacted_thinking", data: block.data });
      }
      // With server tools the answer's blocks go back as they came: their calls, results and the citing text.
      const blocks = req.serverTools?.length ? { blocks: msg.content as unknown as Array<Record<string, unknown>> } : {};
      return { text, toolCalls, finishReason: finish(msg.stop_reason), usage: usageOf(msg.usage), ...(thinking.length ? { thinking } : {}), ...blocks };
    }

    const stream = await this.client.messages.create({ ...body, stream: true }, { signal: opts.signal });
    let text = "";
    let finishReason: FinishReason = "other";
    let stopped = false;
    /** Tool calls by content index, each with its place among the answer's tool calls. */
    const blocks = new Map<number, ToolCall & { place: number }>();
    /** Thinking blocks by content index, each with its place among the answer's thinking blocks. */
    const thoughts = new Map<number, { n: number; block: ThinkingBlock }>();
    /** Content indexes of the blocks passed through untranslated (server tools' calls and results). */
    const passed = new Set<number>();
    const counts: Counts = { input_tokens: 0, output_tokens: 0 };
    for await (const ev of stream) {
      switch (ev.type) {
        case "message_start":
          counts.input_tokens = ev.message.usage.input_tokens;
          counts.cache_read_input_tokens = ev.message.usage.cache_read_input_tokens;
          counts.cache_creation_input_tokens = ev.message.usage.cache_creation_input_tokens;
          counts.cache_creation = ev.message.usage.cache_creation;
          counts.server_tool_use = ev.message.usage.server_tool_use;
          break;
        case "content_block_start": {
          const b = ev.content_block;
          if (b.type === "tool_use") {
            opts.onToolCall?.({ index: blocks.size, id: b.id, name: b.name });
            blocks.set(ev.index, { id: b.id, name: b.name, arguments: "", place: blocks.size });
          } else if (b.type === "thinking" || b.type === "redacted_thinking") {
            const block: ThinkingBlock = b.type === "thinking" ? { type: "thinking", thinking: "", signature: b.signature ?? "" } : { type: "redacted_thinking", data: b.data };
            const t = { n: thoughts.size, block };
            thoughts.set(ev.index, t);
            if (b.type === "redacted_thinking") opts.onThinking?.({ block: t.n, type: "redacted_thinking", data: b.data });
            else {
              relayThinking(t, b.thinking, opts);
              if (b.signature) opts.onThinking?.({ block: t.n, type: "signature", signature: b.signature });
            }
          } else if (b.type !== "text") {
            passed.add(ev.index);
            opts.onBlock?.({ kind: "start", block: b as unknown as Record<string, unknown> });
          }
          break;
        }
        case "content_block_stop":
          if (passed.has(ev.index)) opts.onBlock?.({ kind: "stop" });
          break;
        case "content_block_delta":
          // A text block's citations (a web search's) go with the blocks passed through: the text itself is ours to relay.
          if (passed.has(ev.index) || ev.delta.type === "citations_delta") opts.onBlock?.({ kind: "delta", delta: ev.delta as unknown as Record<string, unknown> });
          else if (ev.delta.type === "text_delta") {
            text += ev.delta.text;
            opts.onDelta(ev.delta.text);
          } else if (ev.delta.type === "input_json_delta") {
            const b = blocks.get(ev.index);
            if (b) {
              b.arguments += ev.delta.partial_json;
              if (ev.delta.partial_json) opts.onToolCall?.({ index: b.place, arguments: ev.delta.partial_json });
            }
          } else if (ev.delta.type === "thinking_delta") {
            const t = thoughts.get(ev.index);
            if (t) relayThinking(t, ev.delta.thinking, opts);
          } else if (ev.delta.type === "signature_delta") {
            const t = thoughts.get(ev.index);
            if (t?.block.type === "thinking") {
              t.block.signature = ev.delta.signature;
              opts.onThinking?.({ block: t.n, type: "signature", signature: ev.delta.signature });
            }
          }
          break;
        case "message_delta":
          finishReason = finish(ev.delta.stop_reason);
          // The delta's counts are whole-message totals, each sent only when it applies.
          counts.output_tokens = ev.usage.output_tokens;
          if (ev.usage.input_tokens != null) counts.input_tokens = ev.usage.input_tokens;
          if (ev.usage.cache_read_input_tokens != null) counts.cache_read_input_tokens = ev.usage.cache_read_input_tokens;
          if (ev.usage.cache_creation_input_tokens != null) counts.cache_creation_input_tokens = ev.usage.cache_creation_input_tokens;
          if (ev.usage.server_tool_use != null) counts.server_tool_use = ev.usage.server_tool_use;
          break;
        case "message_stop":
          stopped = true;
          break;
      }
    }
    if (!stopped) throw new StreamIncompleteError(this.provider);
    const toolCalls = [...blocks.values()].map(({ place: _, ...b }) => ({ ...b, arguments: b.arguments || "{}" }));
    const thinking = [...thoughts.values()].map((t) => t.block);
    return { text, toolCalls, finishReason, usage: usageOf(counts), ...(thinking.length ? { thinking } : {}) };
  }
}

function relayThinking(t: { n: number; block: ThinkingBlock }, piece: string, opts: CallOptions): void {
  if (!piece || t.block.type !== "thinking") return;
  t.block.thinking += piece;
  opts.onThinking?.({ block: t.n, type: "thinking", text: piece });
}

interface Counts {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  /** The writes by time to live (message_start and whole answers carry it; a delta's usage does not). */
  cache_creation?: { ephemeral_1h_input_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}

/**
 * Anthropic's input_tokens leaves out cache reads and writes; OpenAI's prompt_tokens includes
 * cached tokens. Report them like OpenAI, with the reads and writes apart for their prices.
 */
function usageOf(u: Counts): Usage {
  const read = u.cache_read_input_tokens ?? 0;
  const written = u.cache_creation_input_tokens ?? 0;
  const hour = Math.min(written, u.cache_creation?.ephemeral_1h_input_tokens ?? 0);
  return {
    inputTokens: u.input_tokens + read + written,
    outputTokens: u.output_tokens,
    cachedInputTokens: read,
    ...(written ? { cacheWriteTokens: written } : {}),
    ...(hour ? { cacheWrite1hTokens: hour } : {}),
    ...(u.server_tool_use?.web_search_requests ? { webSearches: u.server_tool_use.web_search_requests } : {}),
  };
}

function finish(r: string | null | undefined): FinishReason {
  switch (r) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "refusal";
    default:
      return "other";
  }
}
