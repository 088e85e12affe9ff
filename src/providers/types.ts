/** What every LLM adapter speaks: one request shape, one result shape, whatever the wire. */

export interface LlmMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** An assistant turn's calls of the caller's functions (the OpenAI and Anthropic APIs carry them back). */
  toolCalls?: ToolCall[];
  /** A tool turn: the id of the call it answers. Without one, the result is sent as user text. */
  toolCallId?: string;
  /** A user turn's images: https URLs or data: URLs. */
  images?: string[];
}

export interface FunctionTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The model's arguments as JSON text (not parsed: the caller decides what to trust). */
  arguments: string;
}

export type ResponseFormat = { type: "text" } | { type: "json" } | { type: "json_schema"; schema: Record<string, unknown>; name?: string };

export interface ChatRequest {
  /** The provider's own model name (the part after `provider:`). */
  model: string;
  messages: LlmMessage[];
  system?: string;
  maxOutputTokens: number;
  temperature?: number;
  responseFormat?: ResponseFormat;
  tools?: FunctionTool[];
  /** Sequences that end the answer. */
  stop?: string[];
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "refusal" | "other";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

export interface CallOptions {
  signal: AbortSignal;
  /** Called with each piece of streamed text; when set the adapter streams. */
  onDelta?: (text: string) => void;
}

export interface LlmAdapter {
  readonly provider: string;
  chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult>;
}
