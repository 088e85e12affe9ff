import { createRequire } from "node:module";
import type Anthropic from "@anthropic-ai/sdk";
import type { MessageCreateParams, MessageParam } from "@anthropic-ai/sdk/resources/messages";
import { StreamIncompleteError } from "./errors.js";
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
    this.client = new AnthropicSdk({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: 10 * 60 * 1000, logger: sdkLogger, logLevel: "warn" });
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
    const messages: MessageParam[] = req.messages
      .filter((m) => m.role !== "system")
      .map((m) => ({ role: m.role === "assistant" ? "assistant" : "user", content: m.content }));
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
    if (systemParts.length) body.system = systemParts.join("\n\n");
    // (Current Messages API versions take no temperature; it is not sent.)
    if (req.tools?.length) {
      body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: { type: "object", ...t.parameters } as Anthropic.Tool.InputSchema }));
    }
    return body;
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
