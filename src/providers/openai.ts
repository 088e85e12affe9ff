import { createRequire } from "node:module";
import type OpenAI from "openai";
import type { ChatCompletionContentPart, ChatCompletionCreateParams, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { StreamIncompleteError } from "./errors.js";
import { effortOf } from "./reasoning.js";
import { httpFetch } from "./http-fetch.js";
import { sdkLogger } from "./sdk-logger.js";
import type { CallOptions, ChatRequest, ChatResult, DocumentPart, FinishReason, LlmAdapter, ToolCall } from "./types.js";

const require = createRequire(import.meta.url);
let sdk: typeof OpenAI | undefined;
/** The SDK loads with the first adapter built (before any attempt's clock starts), never at start-up. */
const loadSdk = (): typeof OpenAI => (sdk ??= (require("openai") as typeof import("openai")).default);

/**
 * OpenAI and every OpenAI-compatible endpoint (OpenRouter, DeepSeek, Gemini's compatibility
 * layer, Perplexity, Ollama, vLLM, LM Studio) through the official SDK with a base URL.
 * The SDK's own retries are off: Switchboard has one retry policy.
 */
export class OpenAIAdapter implements LlmAdapter {
  private readonly client: OpenAI;

  constructor(
    readonly provider: string,
    opts: { apiKey: string | undefined; baseURL: string; headers?: Record<string, string> },
  ) {
    const OpenAISdk = loadSdk();
    this.client = new OpenAISdk({
      // Local servers take any key; the SDK insists on one.
      apiKey: opts.apiKey ?? "not-needed",
      baseURL: opts.baseURL,
      maxRetries: 0,
      timeout: 10 * 60 * 1000,
      defaultHeaders: opts.headers,
      logger: sdkLogger,
      logLevel: "warn",
      fetch: httpFetch,
    });
  }

  async chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
    const body = this.body(req);
    if (!opts.onDelta) {
      const res = await this.client.chat.completions.create({ ...body, stream: false }, { signal: opts.signal });
      const choice = res.choices[0];
      return {
        text: choice?.message.content ?? "",
        toolCalls: (choice?.message.tool_calls ?? []).flatMap((t) =>
          t.type === "function" ? [{ id: t.id, name: t.function.name, arguments: t.function.arguments }] : [],
        ),
        finishReason: finish(choice?.finish_reason),
        usage: {
          inputTokens: res.usage?.prompt_tokens ?? 0,
          outputTokens: res.usage?.completion_tokens ?? 0,
          cachedInputTokens: res.usage?.prompt_tokens_details?.cached_tokens ?? 0,
        },
      };
    }

    const stream = await this.client.chat.completions.create(
      { ...body, stream: true, stream_options: { include_usage: true } },
      { signal: opts.signal },
    );
    let text = "";
    let finishReason: FinishReason = "other";
    let sawFinish = false;
    const calls = new Map<number, ToolCall & { place: number }>();
    const usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    for await (const chunk of stream) {
      if (chunk.usage) {
        usage.inputTokens = chunk.usage.prompt_tokens ?? 0;
        usage.outputTokens = chunk.usage.completion_tokens ?? 0;
        usage.cachedInputTokens = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
      }
      const choice = chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta;
      if (delta?.content) {
        text += delta.content;
        opts.onDelta(delta.content);
      }
      for (const tc of delta?.tool_calls ?? []) {
        let cur = calls.get(tc.index);
        if (!cur) {
          // Its place among the answer's calls, as the result lists them (in the order they began).
          cur = { id: "", name: "", arguments: "", place: calls.size };
          calls.set(tc.index, cur);
        }
        if (tc.id) cur.id = tc.id;
        if (tc.function?.name) cur.name += tc.function.name;
        if (tc.function?.arguments) cur.arguments += tc.function.arguments;
        opts.onToolCall?.({ index: cur.place, ...(tc.id ? { id: tc.id } : {}), ...(tc.function?.name ? { name: tc.function.name } : {}), ...(tc.function?.arguments ? { arguments: tc.function.arguments } : {}) });
      }
      if (choice.finish_reason) {
        finishReason = finish(choice.finish_reason);
        sawFinish = true;
      }
    }
    // A stream that ends without a finish reason was cut: never pass off a partial answer.
    if (!sawFinish) throw new StreamIncompleteError(this.provider);
    return { text, toolCalls: [...calls.values()].map(({ place: _, ...c }) => c), finishReason, usage };
  }

  private body(req: ChatRequest): Omit<ChatCompletionCreateParams, "stream"> {
    // Cache breakpoints and earlier turns' thinking blocks are Anthropic's: OpenAI caches prompts by itself.
    const messages: ChatCompletionMessageParam[] = [];
    if (req.system) messages.push({ role: "system", content: req.system });
    for (const m of req.messages) {
      if (m.role === "tool") messages.push(m.toolCallId ? { role: "tool", tool_call_id: m.toolCallId, content: m.content } : { role: "user", content: m.content });
      else if (m.role === "assistant" && m.toolCalls?.length) {
        messages.push({
          role: "assistant",
          content: m.content || null,
          tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })),
        });
      } else if (m.role === "user" && (m.images?.length || m.documents?.length)) {
        messages.push({
          role: "user",
          content: [
            ...(m.documents ?? []).map(filePart),
            ...(m.content ? [{ type: "text" as const, text: m.content }] : []),
            ...(m.images ?? []).map((url) => ({ type: "image_url" as const, image_url: { url } })),
          ],
        });
      } else messages.push({ role: m.role, content: m.content });
    }
    const body: Omit<ChatCompletionCreateParams, "stream"> = { model: req.model, messages, max_completion_tokens: req.maxOutputTokens };
    // Reasoning models refuse a temperature: the catalog says which (supports.temperature), and none reaches here for them.
    if (req.temperature !== undefined) body.temperature = req.temperature;
    // The same for the other sampling settings; OpenAI has no top_k.
    const s = req.sampling;
    if (s?.topP !== undefined) body.top_p = s.topP;
    if (s?.seed !== undefined) body.seed = s.seed;
    if (s?.presencePenalty !== undefined) body.presence_penalty = s.presencePenalty;
    if (s?.frequencyPenalty !== undefined) body.frequency_penalty = s.frequencyPenalty;
    if (req.reasoning) body.reasoning_effort = effortOf(req.reasoning, req.reasoningEfforts);
    if (req.stop?.length) body.stop = req.stop;
    if (req.responseFormat?.type === "json") body.response_format = { type: "json_object" };
    if (req.responseFormat?.type === "json_schema") {
      body.response_format = { type: "json_schema", json_schema: { name: req.responseFormat.name ?? "response", schema: req.responseFormat.schema, ...(req.responseFormat.strict ? { strict: true } : {}) } };
    }
    if (req.tools?.length) {
      body.tools = req.tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } }));
      if (req.toolChoice) body.tool_choice = req.toolChoice === "required" ? "required" : { type: "function", function: { name: req.toolChoice.name } };
      if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
    }
    return body;
  }
}

/**
 * A PDF as a file part (its bytes as a data: URL). The Chat Completions API takes no document by
 * URL: one goes as a link in text, which x-switchboard-notes names (translation-notes.ts).
 */
function filePart(d: DocumentPart): ChatCompletionContentPart {
  if ("url" in d) return { type: "text", text: `(a PDF document${d.title ? ` "${d.title}"` : ""} at ${d.url})` };
  return { type: "file", file: { filename: d.title ?? "document.pdf", file_data: `data:application/pdf;base64,${d.data}` } };
}

function finish(r: string | null | undefined): FinishReason {
  switch (r) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}
