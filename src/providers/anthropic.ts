import { createRequire } from "node:module";
import type Anthropic from "@anthropic-ai/sdk";
import type { MessageCreateParams, MessageParam } from "@anthropic-ai/sdk/resources/messages";
import { StreamIncompleteError } from "./errors.js";
import { httpFetch } from "./http-fetch.js";
import { sdkLogger } from "./sdk-logger.js";
import type { CallOptions, ChatRequest, ChatResult, FinishReason, LlmAdapter, ToolCall } from "./types.js";

const require = createRequire(import.meta.url);
let sdk: typeof Anthropic | undefined;
/** The SDK loads with the first adapter built (before any attempt's clock starts), never at start-up. */
const loadSdk = (): typeof Anthropic => (sdk ??= (require("@anthropic-ai/sdk") as typeof import("@anthropic-ai/sdk")).default);

/** Anthropic's Messages API through the official SDK, SDK retries off. */
export class AnthropicAdapter implements LlmAdapter {
  readonly provider = "anthropic";
  private readonly client: Anthropic;

  constructor(opts: { apiKey: string; baseURL: string }) {
    const AnthropicSdk = loadSdk();
    this.client = new AnthropicSdk({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: 10 * 60 * 1000, logger: sdkLogger, logLevel: "warn", fetch: httpFetch });
  }

  async chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
    const body = this.body(req);
    if (!opts.onDelta) {
      const msg = await this.client.messages.create({ ...body, stream: false }, { signal: opts.signal });
      let text = "";
      const toolCalls: ToolCall[] = [];
      for (const block of msg.content) {
        if (block.type === "text") text += block.text;
        else if (block.type === "tool_use") toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
      }
      return {
        text,
        toolCalls,
        finishReason: finish(msg.stop_reason),
        usage: usageOf(msg.usage.input_tokens, msg.usage.cache_read_input_tokens, msg.usage.output_tokens),
      };
    }

    const stream = await this.client.messages.create({ ...body, stream: true }, { signal: opts.signal });
    let text = "";
    let finishReason: FinishReason = "other";
    let stopped = false;
    const blocks = new Map<number, ToolCall>();
    const usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    for await (const ev of stream) {
      switch (ev.type) {
        case "message_start":
          Object.assign(usage, usageOf(ev.message.usage.input_tokens, ev.message.usage.cache_read_input_tokens, 0));
          break;
        case "content_block_start":
          if (ev.content_block.type === "tool_use") blocks.set(ev.index, { id: ev.content_block.id, name: ev.content_block.name, arguments: "" });
          break;
        case "content_block_delta":
          if (ev.delta.type === "text_delta") {
            text += ev.delta.text;
            opts.onDelta(ev.delta.text);
          } else if (ev.delta.type === "input_json_delta") {
            const b = blocks.get(ev.index);
            if (b) b.arguments += ev.delta.partial_json;
          }
          break;
        case "message_delta":
          finishReason = finish(ev.delta.stop_reason);
          usage.outputTokens = ev.usage.output_tokens;
          break;
        case "message_stop":
          stopped = true;
          break;
      }
    }
    if (!stopped) throw new StreamIncompleteError(this.provider);
    const toolCalls = [...blocks.values()].map((b) => ({ ...b, arguments: b.arguments || "{}" }));
    return { text, toolCalls, finishReason, usage };
  }

  private body(req: ChatRequest): Omit<MessageCreateParams, "stream"> {
    const messages = anthropicMessages(req.messages);
    const systemParts = [req.system, ...req.messages.filter((m) => m.role === "system").map((m) => m.content)].filter(Boolean);
    // Anthropic has no JSON mode: ask for it in the system prompt; the quality gate checks the result.
    if (req.responseFormat && req.responseFormat.type !== "text") {
      systemParts.push(
        req.responseFormat.type === "json_schema"
          ? `Reply with only a JSON value that matches this JSON Schema, no prose:\n${JSON.stringify(req.responseFormat.schema)}`
          : "Reply with only a valid JSON value, no prose.",
      );
    }
    const body: Omit<MessageCreateParams, "stream"> = { model: req.model, max_tokens: req.maxOutputTokens, messages };
    if (req.stop?.length) body.stop_sequences = req.stop;
    if (systemParts.length) body.system = systemParts.join("\n\n");
    // (Current Messages API versions take no temperature; it is not sent.)
    if (req.tools?.length) {
      body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: { type: "object", ...t.parameters } as Anthropic.Tool.InputSchema }));
    }
    return body;
  }
}

/**
 * Turns into Anthropic's shape: an assistant's tool calls become tool_use blocks, tool results
 * tool_result blocks in a user turn, and consecutive turns of one role are merged (the API wants
 * them alternating, and several tool results answer one assistant turn together).
 */
function anthropicMessages(list: ChatRequest["messages"]): MessageParam[] {
  type Block = Anthropic.ContentBlockParam;
  const out: Array<{ role: "user" | "assistant"; content: Block[] }> = [];
  for (const m of list) {
    if (m.role === "system") continue;
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks: Block[] = [];
    if (m.role === "tool" && m.toolCallId) blocks.push({ type: "tool_result", tool_use_id: m.toolCallId, content: m.content });
    else if (m.content) blocks.push({ type: "text", text: m.content });
    for (const url of m.role === "user" ? (m.images ?? []) : []) blocks.push(imageBlock(url));
    for (const c of m.role === "assistant" ? (m.toolCalls ?? []) : []) blocks.push({ type: "tool_use", id: c.id, name: c.name, input: parseArguments(c.arguments) });
    if (!blocks.length) continue;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  // A plain text turn goes as a string, as it always did.
  return out.map((m) => (m.content.length === 1 && m.content[0]!.type === "text" ? { role: m.role, content: m.content[0]!.text } : m));
}

/** An image as Anthropic takes it: base64 from a data: URL, else the URL itself. */
function imageBlock(url: string): Anthropic.ImageBlockParam {
  const m = /^data:(image\/(?:png|jpeg|gif|webp));base64,(.*)$/s.exec(url);
  return m
    ? { type: "image", source: { type: "base64", media_type: m[1] as "image/png", data: m[2]! } }
    : { type: "image", source: { type: "url", url } };
}

/** A tool call's JSON arguments as an object (Anthropic's tool_use takes the object, not the text). */
function parseArguments(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text || "{}");
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { arguments: text };
  }
}

/** Anthropic's input_tokens leaves out cache reads; OpenAI's prompt_tokens includes them. Report them like OpenAI. */
function usageOf(input: number, cacheRead: number | null | undefined, output: number) {
  const cached = cacheRead ?? 0;
  return { inputTokens: input + cached, outputTokens: output, cachedInputTokens: cached };
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
