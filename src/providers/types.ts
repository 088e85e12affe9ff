/** What every LLM adapter speaks: one request shape, one result shape, whatever the wire. */

/**
 * A prompt-cache breakpoint (Anthropic's `cache_control`): the provider may cache the prompt up to
 * and including what carries it. Adapters whose provider caches by itself ignore it.
 */
export interface CacheHint {
  ttl?: "5m" | "1h";
}

/**
 * A block of a model's visible reasoning, kept whole: Anthropic checks a block's signature when it
 * comes back in a later turn, so it is never edited, only carried.
 */
export type ThinkingBlock = { type: "thinking"; thinking: string; signature: string } | { type: "redacted_thinking"; data: string };

/** A piece of a streamed thinking block; `block` counts the answer's thinking blocks from 0. */
export type ThinkingDelta =
  | { block: number; type: "thinking"; text: string }
  | { block: number; type: "signature"; signature: string }
  | { block: number; type: "redacted_thinking"; data: string };

export type ReasoningEffort = "minimal" | "low" | "medium" | "high";

/** How much the model should reason before it answers: a token budget, an effort, or neither (the default effort). */
export interface Reasoning {
  budgetTokens?: number;
  effort?: ReasoningEffort;
}

export interface LlmMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** An assistant turn's calls of the caller's functions (the OpenAI and Anthropic APIs carry them back). */
  toolCalls?: ToolCall[];
  /** A tool turn: the id of the call it answers. Without one, the result is sent as user text. */
  toolCallId?: string;
  /** A user turn's images: https URLs or data: URLs. */
  images?: string[];
  /** A user turn's PDF documents, read whole by models whose catalog entry says `documents`. */
  documents?: DocumentPart[];
  /** An assistant turn's reasoning as the model returned it, sent back to the provider that can verify it. */
  thinking?: ThinkingBlock[];
  /** A cache breakpoint after this turn's last block. */
  cache?: CacheHint;
  /**
   * An assistant turn's blocks as an Anthropic client sent them, when they hold what only
   * Anthropic reads (server tools' calls and results): the Anthropic adapter sends these instead
   * of rebuilding the turn; other adapters read content, toolCalls and thinking.
   */
  anthropicBlocks?: Array<Record<string, unknown>>;
}

/**
 * A PDF as the model reads it: its bytes in base64, or a URL the provider fetches (Anthropic's API
 * does; OpenAI's takes PDFs as data only, so there it goes as a link). Plain-text documents travel
 * as text.
 */
export type DocumentPart = { data: string; title?: string } | { url: string; title?: string };

/** One block of a system prompt, with its own cache breakpoint. */
export interface SystemBlock {
  text: string;
  cache?: CacheHint;
}

export interface FunctionTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  /** A cache breakpoint after this tool's definition. */
  cache?: CacheHint;
}

/** A provider-run tool as the client declared it (Anthropic's `{type: "web_search_20250305", name: "web_search", ...}`). */
export type ServerTool = { type: string; name: string } & Record<string, unknown>;

/**
 * A tool call the answer must make: any of the tools (`required`), or the one named. Without one
 * the model chooses; a request that wants no tool call is sent no tools.
 */
export type ToolChoice = "required" | { name: string };

/**
 * Sampling settings beyond temperature, as clients of the compatible APIs send them: each goes to
 * the models whose API takes it (translation-notes.ts names what was not sent).
 */
export interface Sampling {
  topP?: number;
  topK?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The model's arguments as JSON text (not parsed: the caller decides what to trust). */
  arguments: string;
}

/** `strict`: the client asked for OpenAI's strict schema adherence (sent where the API has it; the quality gate checks the schema anyway). */
export type ResponseFormat = { type: "text" } | { type: "json" } | { type: "json_schema"; schema: Record<string, unknown>; name?: string; strict?: boolean };

export interface ChatRequest {
  /** The provider's own model name (the part after `provider:`). */
  model: string;
  messages: LlmMessage[];
  system?: string;
  /**
   * The same system prompt as the caller's blocks, each with its cache breakpoint; `system` is
   * their texts joined by blank lines. Adapters that take blocks read these, the others `system`.
   */
  systemBlocks?: SystemBlock[];
  maxOutputTokens: number;
  /** The model's most output tokens (catalog maxOutput): how far an adapter may raise maxOutputTokens to fit a thinking budget. */
  maxOutputCeiling?: number;
  temperature?: number;
  /** Not set for models that refuse sampling settings (catalog supports.temperature false). */
  sampling?: Sampling;
  responseFormat?: ResponseFormat;
  tools?: FunctionTool[];
  /** With tools: the call the answer must make. */
  toolChoice?: ToolChoice;
  /** With tools: false asks for at most one tool call per answer. */
  parallelToolCalls?: boolean;
  /** The provider's own server tools, sent as given; set only for models that run them (supports.serverTools). */
  serverTools?: ServerTool[];
  /** Sequences that end the answer. */
  stop?: string[];
  /** Set only for a model whose catalog entry takes reasoning (supports.reasoning). */
  reasoning?: Reasoning;
  /** The reasoning_effort values the model takes, when its catalog entry lists them (else low, medium and high). */
  reasoningEfforts?: readonly ReasoningEffort[];
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "refusal" | "other";

export interface Usage {
  /** Every input token, cache reads and writes included (as OpenAI's prompt_tokens counts them). */
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (within inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (within inputTokens), where the provider says. */
  cacheWriteTokens?: number;
  /** Of cacheWriteTokens, those cached for an hour (Anthropic's `ttl: "1h"`), which cost more than the 5-minute ones. */
  cacheWrite1hTokens?: number;
  /** Web searches the model ran as a server tool, billed per search. */
  webSearches?: number;
}

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** The model's reasoning blocks, in order, where the provider returns them. */
  thinking?: ThinkingBlock[];
  /**
   * The answer's content blocks exactly as the provider returned them, when it ran server tools:
   * their calls and results and the text that cites them, in order, for a client of the same API.
   */
  blocks?: Array<Record<string, unknown>>;
}

/**
 * A streamed content block the adapter does not translate (a server tool's call or result),
 * passed as the provider sent it: its start (the whole block as it opens), its deltas, its stop.
 */
export type PassthroughEvent = { kind: "start"; block: Record<string, unknown> } | { kind: "delta"; delta: Record<string, unknown> } | { kind: "stop" };

export interface CallOptions {
  signal: AbortSignal;
  /** Called with each piece of streamed text; when set the adapter streams. */
  onDelta?: (text: string) => void;
  /** Called with each piece of streamed thinking (streaming only). */
  onThinking?: (delta: ThinkingDelta) => void;
  /** Called as each tool call streams: its id and name first, then pieces of its JSON arguments (streaming only). */
  onToolCall?: (delta: ToolCallDelta) => void;
  /** Called with the events of blocks passed through untranslated, server tools' (streaming only). */
  onBlock?: (event: PassthroughEvent) => void;
}

/**
 * A piece of a streamed tool call. `index` is its place among the answer's tool calls (as in
 * ChatResult.toolCalls); the first piece of a call carries its id and name, later ones arguments.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

export interface LlmAdapter {
  readonly provider: string;
  chat(req: ChatRequest, opts: CallOptions): Promise<ChatResult>;
  /**
   * The most output tokens `req` may bill as this adapter sends it, when that is more than
   * req.maxOutputTokens (Anthropic's thinking raises max_tokens): what a budget must reserve.
   */
  maxBilledOutput?(req: ChatRequest): number;
}
