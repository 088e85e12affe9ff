import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidRequest, type ErrorBody } from "../../errors.js";
import type { LlmJob, LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { FunctionTool, LlmMessage, ToolCall } from "../../providers/types.js";
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, ATTACHMENT_TOKENS } from "../../routing/tokens.js";
import type { Attachment, RouteInput } from "../../routing/types.js";
import type { ModelChoice } from "./common.js";

/**
 * Anthropic's Messages wire format: the request as Switchboard reads it (whatever provider the
 * call is routed to), the answer whole or as events, and token counts. What only Anthropic's own
 * models can honour (prompt caching, extended thinking, server tools such as web search) is
 * dropped with a note in `x-switchboard-notes`, and used as a routing hint where it says something
 * about the job.
 */

const cacheControl = z.object({ type: z.string() }).loose().optional();
const textBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: cacheControl }).loose();
const imageBlock = z
  .object({
    type: z.literal("image"),
    source: z.union([
      z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() }),
      z.object({ type: z.literal("url"), url: z.string() }),
    ]),
  })
  .loose();
const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown() }).loose();
const toolResultBlock = z
  .object({ type: z.literal("tool_result"), tool_use_id: z.string(), content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, z.object({ type: z.string() }).loose()]))]).optional(), is_error: z.boolean().optional() })
  .loose();
const otherBlock = z.object({ type: z.string() }).loose();
const block = z.union([textBlock, imageBlock, toolUseBlock, toolResultBlock, otherBlock]);

const message = z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(block)]) }).loose();

/** A client tool (input_schema) or one of Anthropic's server tools (a `type` such as web_search_20250305). */
const tool = z.union([
  z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()), cache_control: cacheControl }).loose(),
  z.object({ type: z.string(), name: z.string() }).loose(),
]);

export const messagesRequestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(message).min(1, "at least one message"),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    tools: z.array(tool).optional(),
    tool_choice: z.object({ type: z.enum(["auto", "any", "tool", "none"]) }).loose().optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    stop_sequences: z.array(z.string()).optional(),
    thinking: z.object({ type: z.string() }).loose().optional(),
    metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
  })
  .loose();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** count_tokens takes the same body without max_tokens. */
export const countTokensSchema = messagesRequestSchema.omit({ max_tokens: true, stream: true });

export function parseMessages<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.join(".");
  throw invalidRequest(`${param || "body"}: ${issue.message}`, "send an Anthropic Messages request body (model, max_tokens, messages, ...).", { field: param || "body" });
}

type Block = z.infer<typeof block>;
type Tool = z.infer<typeof tool>;

const isClientTool = (t: Tool): t is Tool & { input_schema: Record<string, unknown> } => "input_schema" in t && !!t.input_schema;

/** Text of a tool result's content. */
function resultText(c: z.infer<typeof toolResultBlock>["content"]): string {
  if (typeof c === "string") return c;
  return (c ?? []).flatMap((b) => (b.type === "text" ? [(b as { text: string }).text] : [])).join("\n");
}

/** One Anthropic turn as Switchboard's messages: text, images, tool calls and tool results kept apart. */
function toMessages(m: MessagesRequest["messages"][number]): LlmMessage[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  const out: LlmMessage[] = [];
  const text: string[] = [];
  const images: string[] = [];
  const calls: ToolCall[] = [];
  for (const b of m.content as Block[]) {
    if (b.type === "text") text.push((b as { text: string }).text);
    else if (b.type === "image") {
      const s = (b as z.infer<typeof imageBlock>).source;
      images.push(s.type === "base64" ? `data:${s.media_type};base64,${s.data}` : s.url);
    } else if (b.type === "tool_use" && m.role === "assistant") {
      const u = b as z.infer<typeof toolUseBlock>;
      calls.push({ id: u.id, name: u.name, arguments: JSON.stringify(u.input ?? {}) });
    } else if (b.type === "tool_result") {
      const r = b as z.infer<typeof toolResultBlock>;
      out.push({ role: "tool", toolCallId: r.tool_use_id, content: (r.is_error ? "Error: " : "") + resultText(r.content) });
    }
    // thinking, redacted_thinking, documents and server tool blocks from earlier turns are not carried.
  }
  const joined = text.join("\n");
  if (m.role === "assistant") {
    if (joined || calls.length) out.push({ role: "assistant", content: joined, ...(calls.length ? { toolCalls: calls } : {}) });
  } else if (joined || images.length) out.push({ role: "user", content: joined, ...(images.length ? { images } : {}) });
  return out;
}

function systemText(s: MessagesRequest["system"]): string {
  return typeof s === "string" ? s : (s ?? []).map((b) => b.text).join("\n\n");
}

/** What a request asks for that a routed model other than Anthropic's cannot honour: dropped, said in a note. */
export function droppedFeatures(body: z.infer<typeof countTokensSchema>): string[] {
  const notes: string[] = [];
  const cached =
    (Array.isArray(body.system) && body.system.some((b) => b.cache_control)) ||
    body.messages.some((m) => Array.isArray(m.content) && m.content.some((b) => (b as { cache_control?: unknown }).cache_control)) ||
    (body.tools ?? []).some((t) => (t as { cache_control?: unknown }).cache_control);
  if (cached) notes.push("cache_control dropped (prompt caching is left to the routed provider's own automatic caching)");
  if (body.thinking && body.thinking.type !== "disabled") notes.push("thinking dropped (used as a routing hint for a stronger model)");
  const server = (body.tools ?? []).filter((t) => !isClientTool(t)).map((t) => t.name);
  if (server.length) notes.push(`server tools dropped: ${server.join(", ")}`);
  return notes;
}

/**
 * What a Claude model id says about the job when no alias pins it: Claude Code sends its small
 * model (haiku) for background work (titles, summaries, quick checks) and its large one for the
 * main loop; extended thinking asks for the strongest reasoning.
 */
function kindHints(body: MessagesRequest, choice: ModelChoice): Partial<RouteInput> {
  const claude = body.model.toLowerCase();
  const hinted = choice.kind === "auto" && claude.startsWith("claude");
  const thinking = !!body.thinking && body.thinking.type !== "disabled";
  if (thinking || (hinted && claude.includes("opus"))) return { modelPreferences: { intelligencePriority: 0.95, costPriority: 0.1 } };
  if (hinted && claude.includes("haiku")) return { latency: "interactive", costSensitivity: "high" };
  return {};
}

/** The LLM job a Messages request asks for. */
export function messagesJob(body: MessagesRequest, choice: ModelChoice, who: { tenant: string }): LlmJob {
  const messages = body.messages.flatMap(toMessages);
  const system = systemText(body.system);
  const attachments: Attachment[] = messages.flatMap((m) => (m.images ?? []).map(() => ({ kind: "image" as const })));
  const functionTools: FunctionTool[] =
    body.tool_choice?.type === "none"
      ? []
      : (body.tools ?? []).filter(isClientTool).map((t) => ({ name: t.name, ...(typeof t.description === "string" ? { description: t.description } : {}), parameters: t.input_schema }));
  const user = body.metadata?.user_id ?? undefined;
  const routeMessages = system ? [{ role: "system" as const, content: system }, ...messages] : messages;
  return {
    route: {
      messages: routeMessages,
      tenant: who.tenant,
      ...(user ? { user } : {}),
      ...(choice.kind === "mode" ? { mode: choice.mode } : {}),
      ...(choice.kind === "model" ? { model: choice.id } : {}),
      maxOutputTokens: body.max_tokens,
      ...(attachments.length ? { attachments } : {}),
      ...kindHints(body, choice),
      needs: { toolCalling: functionTools.length > 0 },
    },
    call: {
      messages,
      ...(system ? { system } : {}),
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(functionTools.length ? { functionTools } : {}),
      maxOutputTokens: body.max_tokens,
      ...(body.stop_sequences?.length ? { stop: body.stop_sequences } : {}),
    },
  };
}

/** Input tokens of a request, counted with the router's tokenizer (o200k; Claude's own runs within ~10-20%). */
export function countInputTokens(body: z.infer<typeof countTokensSchema>): number {
  let n = estimateTokens(systemText(body.system));
  for (const m of body.messages) {
    n += MESSAGE_OVERHEAD_TOKENS;
    for (const lm of toMessages(m)) {
      n += estimateTokens(lm.content) + (lm.toolCalls ?? []).reduce((s, c) => s + estimateTokens(c.name + c.arguments), 0);
      n += (lm.images?.length ?? 0) * ATTACHMENT_TOKENS.image;
    }
  }
  for (const t of body.tools ?? []) n += estimateTokens(JSON.stringify(t));
  return n;
}

const STOP: Record<string, string> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", refusal: "refusal", content_filter: "refusal", other: "end_turn" };

const parsedInput = (args: string): unknown => {
  try {
    return JSON.parse(args || "{}");
  } catch {
    return { arguments: args };
  }
};

function usageOut(u: LlmOutcome["usage"]) {
  // Anthropic counts cache reads apart from input_tokens; Switchboard's usage counts them within.
  return { input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens), output_tokens: u.outputTokens, cache_read_input_tokens: u.cachedInputTokens, cache_creation_input_tokens: 0 };
}

export const messageId = (requestId: string | undefined) => `msg_${(requestId ?? randomUUID()).replace(/-/g, "")}`;

/** The whole answer: a `message` object. */
export function messageBody(run: LlmOutcome) {
  const r = run.result;
  return {
    id: messageId(run.decision.requestId),
    type: "message",
    role: "assistant",
    model: run.model,
    content: [...(r.text ? [{ type: "text", text: r.text }] : []), ...r.toolCalls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: parsedInput(c.arguments) }))],
    stop_reason: STOP[r.finishReason] ?? "end_turn",
    stop_sequence: null,
    usage: usageOut(r.usage),
  };
}

/** The opening event of a streamed message. */
export function messageStart(id: string, model: string, inputTokens: number) {
  return { type: "message_start", message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 0 } } };
}

/** The events that close a streamed message after its text block: tool_use blocks, the stop reason, the end. */
export function closingEvents(run: LlmOutcome, textOpen: boolean, nextIndex: number): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (textOpen) out.push(["content_block_stop", { type: "content_block_stop", index: nextIndex - 1 }]);
  run.result.toolCalls.forEach((c, i) => {
    const index = nextIndex + i;
    out.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: c.id, name: c.name, input: {} } }]);
    out.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: c.arguments || "{}" } }]);
    out.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  out.push(["message_delta", { type: "message_delta", delta: { stop_reason: STOP[run.result.finishReason] ?? "end_turn", stop_sequence: null }, usage: usageOut(run.result.usage) }]);
  out.push(["message_stop", { type: "message_stop" }]);
  return out;
}

const TYPE: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error" };

/** A Switchboard error in Anthropic's shape, Switchboard's code and hint kept. */
export function anthropicError(body: ErrorBody, status: number) {
  return {
    type: "error",
    error: {
      type: TYPE[status] ?? (status === 503 ? "overloaded_error" : "api_error"),
      message: body.message,
      code: body.code,
      hint: body.hint ?? null,
      retryable: body.retryable,
      ...(body.field ? { param: body.field } : {}),
      ...(body.validValues ? { valid_values: body.validValues } : {}),
      ...(body.ceiling ? { ceiling: body.ceiling } : {}),
    },
  };
}
