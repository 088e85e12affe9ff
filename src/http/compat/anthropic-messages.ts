import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidRequest, type ErrorBody } from "../../errors.js";
import type { LlmJob, LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { CacheHint, FunctionTool, LlmMessage, Reasoning, SystemBlock, ThinkingBlock, ToolCall, ToolChoice, Usage } from "../../providers/types.js";
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, ATTACHMENT_TOKENS } from "../../routing/tokens.js";
import type { Attachment, RouteInput } from "../../routing/types.js";
import { forcedTool, type ModelChoice } from "./common.js";

/**
 * Anthropic's Messages wire format: the request as Switchboard reads it (whatever provider the
 * call is routed to), the whole answer, and token counts (the streamed events are in
 * anthropic-stream.ts). Prompt-cache breakpoints and extended thinking are carried in the
 * provider-neutral request, each at its place; what the serving model was sent of them is said in
 * `x-switchboard-notes` (translation-notes.ts). Server tools (web search) are dropped with a note,
 * and thinking is also a routing hint.
 */

const cacheControl = z.object({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() }).loose().nullish();
const cached = { cache_control: cacheControl };
const textBlock = z.object({ type: z.literal("text"), text: z.string(), ...cached }).loose();
const imageBlock = z
  .object({
    type: z.literal("image"),
    source: z.union([
      z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() }),
      z.object({ type: z.literal("url"), url: z.string() }),
    ]),
    ...cached,
  })
  .loose();
const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown(), ...cached }).loose();
const toolResultBlock = z
  .object({ type: z.literal("tool_result"), tool_use_id: z.string(), content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, z.object({ type: z.string() }).loose()]))]).optional(), is_error: z.boolean().optional(), ...cached })
  .loose();
/** Earlier turns' reasoning, carried back whole: Anthropic checks the signature. */
const thinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string(), ...cached }).loose();
const redactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string(), ...cached }).loose();
const KNOWN_BLOCKS = new Set(["text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"]);
/** Documents, server tool blocks and the like: accepted, not carried. A known type must match its own shape. */
const otherBlock = z.object({ type: z.string().refine((t) => !KNOWN_BLOCKS.has(t), "a known block type with missing or wrong fields"), ...cached }).loose();
const block = z.union([textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);

const message = z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(block)]) }).loose();

/** A client tool (input_schema) or one of Anthropic's server tools (a `type` such as web_search_20250305). */
const clientTool = z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()), ...cached }).loose();
const tool = z.union([clientTool, z.object({ type: z.string(), name: z.string(), ...cached }).loose()]);

export const messagesRequestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    messages: z.array(message).min(1, "at least one message"),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    tools: z.array(tool).optional(),
    tool_choice: z
      .object({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional() })
      .loose()
      .refine((c) => c.type !== "tool" || c.name !== undefined, { message: "required when type is tool", path: ["name"] })
      .optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    stop_sequences: z.array(z.string()).optional(),
    thinking: z
      .object({ type: z.string(), budget_tokens: z.number().int().min(1024).optional() })
      .loose()
      .refine((t) => t.type !== "enabled" || t.budget_tokens !== undefined, { message: "required when type is enabled", path: ["budget_tokens"] })
      .optional(),
    metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
  })
  .loose();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** count_tokens takes the same body without max_tokens. */
export const countTokensSchema = messagesRequestSchema.omit({ max_tokens: true, stream: true });

export function parseMessages<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = reported(parsed.error.issues[0]!);
  const param = issue.path.join(".");
  throw invalidRequest(`${param || "body"}: ${issue.message}`, "send an Anthropic Messages request body (model, max_tokens, messages, ...).", { field: param || "body" });
}

/**
 * The issue to name: inside a union no branch matched (a block, a tool), the branch whose `type`
 * matched and that got furthest, so a bad `cache_control.ttl` is named rather than the block.
 */
function reported(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === "invalid_union") {
    const typed = issue.errors.filter((b) => b.length && !b.some((i) => i.path.length === 1 && i.path[0] === "type"));
    const inner = typed.map((b) => reported(b[0]!)).sort((a, b) => b.path.length - a.path.length)[0];
    if (inner) return { path: [...issue.path, ...inner.path], message: inner.message };
  }
  return issue;
}

type Block = z.infer<typeof block>;
type Tool = z.infer<typeof tool>;

const isClientTool = (t: Tool): t is z.infer<typeof clientTool> => "input_schema" in t && !!t.input_schema;

/** Text of a tool result's content. */
function resultText(c: z.infer<typeof toolResultBlock>["content"]): string {
  if (typeof c === "string") return c;
  return (c ?? []).flatMap((b) => (b.type === "text" ? [(b as { text: string }).text] : [])).join("\n");
}

/** A tool result's images, as URLs (data: or https), in order. */
function resultImages(c: z.infer<typeof toolResultBlock>["content"]): string[] {
  if (typeof c === "string") return [];
  return (c ?? []).flatMap((b) => {
    // The content's union lets a malformed image through as an unknown block: only whole ones are carried.
    const image = b.type === "image" ? imageBlock.safeParse(b) : undefined;
    if (!image?.success) return [];
    return [imageUrl(image.data.source)];
  });
}

/** An image block's source as a URL: data: for base64, else its own. */
const imageUrl = (s: z.infer<typeof imageBlock>["source"]): string => (s.type === "base64" ? `data:${s.media_type};base64,${s.data}` : s.url);

/** Block types a turn's messages carry, by the turn's role; the others are named in a note (requestNotes). */
const carried = (role: string, type: string): boolean =>
  type === "text" || type === "image" || type === "tool_result" || (role === "assistant" && (type === "tool_use" || type === "thinking" || type === "redacted_thinking"));

const hintOf = (c: z.infer<typeof cacheControl>): CacheHint | undefined => (c ? (c.ttl ? { ttl: c.ttl } : {}) : undefined);

/**
 * One Anthropic turn as Switchboard's messages: text, images, tool calls, thinking and tool results
 * kept apart. Tool results lead (both APIs want them first). A cache breakpoint ends the message
 * it is in, so it stays after the block that carried it; the Anthropic adapter merges the pieces
 * back into one turn.
 */
function toMessages(m: MessagesRequest["messages"][number]): LlmMessage[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  const results: LlmMessage[] = [];
  const turns: LlmMessage[] = [];
  const fresh = () => ({ text: [] as string[], images: [] as string[], calls: [] as ToolCall[], thinking: [] as ThinkingBlock[] });
  let seg = fresh();
  const flush = (cache?: CacheHint) => {
    const joined = seg.text.join("\n");
    const msg: LlmMessage | undefined =
      m.role === "assistant"
        ? joined || seg.calls.length || seg.thinking.length
          ? { role: "assistant", content: joined, ...(seg.calls.length ? { toolCalls: seg.calls } : {}), ...(seg.thinking.length ? { thinking: seg.thinking } : {}) }
          : undefined
        : joined || seg.images.length
          ? { role: "user", content: joined, ...(seg.images.length ? { images: seg.images } : {}) }
          : undefined;
    if (msg) turns.push(cache ? { ...msg, cache } : msg);
    seg = fresh();
  };
  for (const b of m.content as Block[]) {
    const hint = hintOf((b as { cache_control?: z.infer<typeof cacheControl> }).cache_control);
    // Documents and server tool blocks from earlier turns are not carried (requestNotes names them;
    // a breakpoint on one stays on what came before it).
    if (!carried(m.role, b.type)) {
      if (hint) flush(hint);
      continue;
    }
    if (b.type === "text") seg.text.push((b as { text: string }).text);
    else if (b.type === "image") seg.images.push(imageUrl((b as z.infer<typeof imageBlock>).source));
    else if (b.type === "tool_use") {
      const u = b as z.infer<typeof toolUseBlock>;
      seg.calls.push({ id: u.id, name: u.name, arguments: JSON.stringify(u.input ?? {}) });
    } else if (b.type === "thinking") {
      const t = b as z.infer<typeof thinkingBlock>;
      seg.thinking.push({ type: "thinking", thinking: t.thinking, signature: t.signature });
    } else if (b.type === "redacted_thinking") {
      seg.thinking.push({ type: "redacted_thinking", data: (b as z.infer<typeof redactedThinkingBlock>).data });
    } else if (b.type === "tool_result") {
      const r = b as z.infer<typeof toolResultBlock>;
      results.push({ role: "tool", toolCallId: r.tool_use_id, content: (r.is_error ? "Error: " : "") + resultText(r.content), ...(hint ? { cache: hint } : {}) });
      // A tool's images (Claude Code reading a screenshot) have no place in a tool message on
      // OpenAI's API: they follow in this turn's user message, which Anthropic merges back into the
      // turn of the results, so every provider's model sees them.
      const shown = resultImages(r.content);
      if (shown.length) {
        seg.text.push(shown.length > 1 ? `(${shown.length} images from the tool result ${r.tool_use_id})` : `(an image from the tool result ${r.tool_use_id})`);
        seg.images.push(...shown);
      }
      continue;
    }
    if (hint) flush(hint);
  }
  flush();
  return [...results, ...turns];
}

function systemText(s: MessagesRequest["system"]): string {
  return typeof s === "string" ? s : (s ?? []).map((b) => b.text).join("\n\n");
}

/**
 * What a request asks for that no routed model is sent, whichever serves: Anthropic's server tools,
 * and content blocks Switchboard does not carry (documents, earlier server-tool results), by type.
 * What depends on the model (cache breakpoints, thinking) is noted once it is known.
 */
export function requestNotes(body: z.infer<typeof countTokensSchema>): string[] {
  const notes: string[] = [];
  const server = (body.tools ?? []).filter((t) => !isClientTool(t)).map((t) => t.name);
  if (server.length) notes.push(`server tools dropped: ${server.join(", ")}`);
  const dropped = droppedBlocks(body.messages);
  if (dropped.size) notes.push(`content blocks dropped: ${[...dropped].map(([type, n]) => (n > 1 ? `${type} (${n})` : type)).join(", ")}`);
  return notes;
}

/** Blocks `toMessages` leaves out, counted by type: what the model is not shown. */
function droppedBlocks(messages: MessagesRequest["messages"]): Map<string, number> {
  const dropped = new Map<string, number>();
  const drop = (type: string) => dropped.set(type, (dropped.get(type) ?? 0) + 1);
  for (const m of messages) {
    if (typeof m.content === "string") continue;
    for (const b of m.content as Block[]) {
      if (!carried(m.role, b.type)) drop(b.type);
      if (b.type === "tool_result") {
        const c = (b as z.infer<typeof toolResultBlock>).content;
        if (Array.isArray(c)) for (const part of c) if (part.type !== "text" && !(part.type === "image" && imageBlock.safeParse(part).success)) drop(part.type);
      }
    }
  }
  return dropped;
}

/** Extended thinking as a provider-neutral reasoning request: its budget, or the default effort. */
function reasoningOf(t: MessagesRequest["thinking"]): Reasoning | undefined {
  if (!t || t.type === "disabled") return undefined;
  return t.budget_tokens !== undefined ? { budgetTokens: t.budget_tokens } : {};
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

/** `tool_choice` as the call the answer must make: `any` (some tool) or `tool` (the one named); `auto` and `none` force none. */
function toolChoiceOf(c: MessagesRequest["tool_choice"]): ToolChoice | undefined {
  if (c?.type === "any") return "required";
  return c?.type === "tool" && c.name !== undefined ? { name: c.name } : undefined;
}

/** The LLM job a Messages request asks for. */
export function messagesJob(body: MessagesRequest, choice: ModelChoice, who: { tenant: string }): LlmJob {
  const messages = body.messages.flatMap(toMessages);
  const system = systemText(body.system);
  // Kept as blocks only when one carries a breakpoint; otherwise the joined text says it all.
  const systemBlocks: SystemBlock[] = typeof body.system === "string" ? [] : (body.system ?? []).map((b) => ({ text: b.text, ...(b.cache_control ? { cache: hintOf(b.cache_control)! } : {}) }));
  const attachments: Attachment[] = messages.flatMap((m) => (m.images ?? []).map(() => ({ kind: "image" as const })));
  const functionTools: FunctionTool[] =
    body.tool_choice?.type === "none"
      ? []
      : (body.tools ?? []).filter(isClientTool).map((t) => {
          const cache = hintOf(t.cache_control);
          return { name: t.name, ...(typeof t.description === "string" ? { description: t.description } : {}), parameters: t.input_schema, ...(cache ? { cache } : {}) };
        });
  // A server tool (web_search) is not run here: forcing it names no tool the model is sent.
  const toolChoice = forcedTool(toolChoiceOf(body.tool_choice), functionTools);
  const reasoning = reasoningOf(body.thinking);
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
      ...(systemBlocks.some((b) => b.cache) ? { systemBlocks } : {}),
      ...(reasoning ? { reasoning } : {}),
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(functionTools.length ? { functionTools } : {}),
      ...(toolChoice ? { toolChoice } : {}),
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

/** Anthropic's usage: input_tokens is the uncached part; cache reads and writes apart (Switchboard counts them within). */
export function usageOut(u: Usage) {
  const written = u.cacheWriteTokens ?? 0;
  const hour = Math.min(written, u.cacheWrite1hTokens ?? 0);
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens - written),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: u.cachedInputTokens,
    cache_creation: { ephemeral_5m_input_tokens: written - hour, ephemeral_1h_input_tokens: hour },
  };
}

export const STOP: Record<string, string> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", refusal: "refusal", content_filter: "refusal", other: "end_turn" };

export const toolUseInput = (args: string): unknown => {
  try {
    return JSON.parse(args || "{}");
  } catch {
    return { arguments: args };
  }
};

/** A thinking block as Anthropic returns it. */
export const thinkingOut = (t: ThinkingBlock) => (t.type === "thinking" ? { type: "thinking", thinking: t.thinking, signature: t.signature } : { type: "redacted_thinking", data: t.data });

export const messageId = (requestId: string | undefined) => `msg_${(requestId ?? randomUUID()).replace(/-/g, "")}`;

/** The whole answer: a `message` object, thinking blocks first as Anthropic orders them. */
export function messageBody(run: LlmOutcome) {
  const r = run.result;
  return {
    id: messageId(run.decision.requestId),
    type: "message",
    role: "assistant",
    model: run.model,
    content: [
      ...(r.thinking ?? []).map(thinkingOut),
      ...(r.text ? [{ type: "text", text: r.text }] : []),
      ...r.toolCalls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: toolUseInput(c.arguments) })),
    ],
    stop_reason: STOP[r.finishReason] ?? "end_turn",
    stop_sequence: null,
    usage: usageOut(r.usage),
  };
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
