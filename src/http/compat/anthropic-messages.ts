import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidRequest, type ErrorBody } from "../../errors.js";
import type { LlmJob, LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { CacheHint, DocumentPart, ServerTool, FunctionTool, LlmMessage, Reasoning, SystemBlock, ThinkingBlock, ToolCall, ToolChoice, Usage } from "../../providers/types.js";
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, ATTACHMENT_TOKENS } from "../../routing/tokens.js";
import type { RouteInput } from "../../routing/types.js";
import { forcedTool, knownShapeIssue, mediaOf, otherThan, samplingOf, type ModelChoice } from "./common.js";

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
/** A document's source must be one of the API's; a Files API id is accepted and not carried (no other provider can read it). */
const documentBlock = z
  .object({
    type: z.literal("document"),
    source: z.union([
      z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() }).loose(),
      z.object({ type: z.literal("url"), url: z.string() }).loose(),
      z.object({ type: z.literal("text"), data: z.string() }).loose(),
      z.object({ type: z.literal("content"), content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]) }).loose(),
      z.object({ type: z.literal("file"), file_id: z.string() }).loose(),
    ]),
    title: z.string().nullish(),
    context: z.string().nullish(),
    ...cached,
  })
  .loose();
const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown(), ...cached }).loose();
const toolResultBlock = z
  .object({ type: z.literal("tool_result"), tool_use_id: z.string(), content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, documentBlock, z.object({ type: z.string() }).loose()]))]).optional(), is_error: z.boolean().optional(), ...cached })
  .loose();
/** Earlier turns' reasoning, carried back whole: Anthropic checks the signature. */
const thinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string(), ...cached }).loose();
const redactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string(), ...cached }).loose();
/** Each block type Switchboard reads, by its shape. */
const BLOCK_SHAPES: Record<string, z.ZodType> = { text: textBlock, image: imageBlock, document: documentBlock, tool_use: toolUseBlock, tool_result: toolResultBlock, thinking: thinkingBlock, redacted_thinking: redactedThinkingBlock };
/** Server tool blocks, search results and the like: accepted, not carried. A known type must match its own shape. */
const otherBlock = otherThan(BLOCK_SHAPES, "block").extend(cached);
const block = z.union([textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);

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
      .object({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
      .loose()
      .refine((c) => c.type !== "tool" || c.name !== undefined, { message: "required when type is tool", path: ["name"] })
      .optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
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
  const issue = knownShapeIssue(body, parsed.error.issues[0]!, BLOCK_SHAPES, reported) ?? reported(parsed.error.issues[0]!);
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

/** Anthropic's server tools among a request's tools (web search, web fetch): run by the API, passed as declared. */
const serverToolsOf = (tools: Tool[] | undefined): ServerTool[] => (tools ?? []).filter((t) => !isClientTool(t)) as ServerTool[];

/** An image block's source as a URL: data: for base64, else its own. */
const imageUrl = (s: z.infer<typeof imageBlock>["source"]): string => (s.type === "base64" ? `data:${s.media_type};base64,${s.data}` : s.url);

/** What a document block gives the model: a PDF whole, or its text; undefined when it cannot be carried (a file id, a non-PDF in base64). */
type ReadDocument = { pdf: DocumentPart } | { text: string; images: string[] };

function readDocument(b: unknown): ReadDocument | undefined {
  const parsed = documentBlock.safeParse(b);
  if (!parsed.success) return undefined;
  const { source, title, context } = parsed.data;
  const named = title ? { title } : {};
  const about = `Document${title ? ` "${title}"` : ""}${context ? ` (${context})` : ""}:`;
  switch (source.type) {
    case "base64":
      return (source as { media_type: string }).media_type === "application/pdf" ? { pdf: { data: (source as { data: string }).data, ...named } } : undefined;
    case "url":
      return { pdf: { url: (source as { url: string }).url, ...named } };
    case "text":
      return { text: `${about}\n${(source as { data: string }).data}`, images: [] };
    case "content": {
      const c = (source as { content: string | Array<{ type: string }> }).content;
      const parts = typeof c === "string" ? [{ type: "text", text: c }] : c;
      const texts = parts.flatMap((p) => (p.type === "text" && typeof (p as { text?: unknown }).text === "string" ? [(p as { text: string }).text] : []));
      const images = parts.flatMap((p) => {
        const image = p.type === "image" ? imageBlock.safeParse(p) : undefined;
        return image?.success ? [imageUrl(image.data.source)] : [];
      });
      return { text: `${about}\n${texts.join("\n")}`, images };
    }
    default:
      return undefined;
  }
}

/** A tool result's content as the model gets it: its text (text documents included), images and PDFs. */
function resultContent(c: z.infer<typeof toolResultBlock>["content"]): { text: string; images: string[]; pdfs: DocumentPart[] } {
  if (typeof c === "string") return { text: c, images: [], pdfs: [] };
  const texts: string[] = [];
  const images: string[] = [];
  const pdfs: DocumentPart[] = [];
  for (const b of c ?? []) {
    if (b.type === "text") texts.push((b as { text: string }).text);
    else if (b.type === "image") {
      // The content's union lets a malformed image through as an unknown block: only whole ones are carried.
      const image = imageBlock.safeParse(b);
      if (image.success) images.push(imageUrl(image.data.source));
    } else if (b.type === "document") {
      const doc = readDocument(b);
      if (doc && "pdf" in doc) pdfs.push(doc.pdf);
      else if (doc) {
        texts.push(doc.text);
        images.push(...doc.images);
      }
    }
  }
  return { text: texts.join("\n"), images, pdfs };
}

/** Whether a tool result's part reaches the model. */
const carriedInResult = (b: { type: string }): boolean =>
  b.type === "text" || (b.type === "image" && imageBlock.safeParse(b).success) || (b.type === "document" && readDocument(b) !== undefined);

/** Blocks a turn's messages carry, by the turn's role; the others are named in a note (requestNotes). */
const carried = (role: string, b: { type: string }): boolean =>
  b.type === "text" ||
  b.type === "image" ||
  b.type === "tool_result" ||
  (b.type === "document" && role === "user" && readDocument(b) !== undefined) ||
  (role === "assistant" && (b.type === "tool_use" || b.type === "thinking" || b.type === "redacted_thinking"));

/** "(an image from the tool result X)", "(2 images and a document from ...)": whose media follow in the user turn. */
function fromResult(images: number, pdfs: number, id: string): string {
  const count = (n: number, one: string) => (n === 1 ? `a${one === "image" ? "n" : ""} ${one}` : `${n} ${one}s`);
  const what = [images ? count(images, "image") : "", pdfs ? count(pdfs, "document") : ""].filter(Boolean).join(" and ");
  return `(${what} from the tool result ${id})`;
}

const hintOf = (c: z.infer<typeof cacheControl>): CacheHint | undefined => (c ? (c.ttl ? { ttl: c.ttl } : {}) : undefined);

/**
 * One Anthropic turn as Switchboard's messages: text, images, tool calls, thinking and tool results
 * kept apart. Tool results lead (both APIs want them first). A cache breakpoint ends the message
 * it is in, so it stays after the block that carried it; the Anthropic adapter merges the pieces
 * back into one turn.
 */
function toMessages(m: MessagesRequest["messages"][number]): LlmMessage[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  if (m.role === "assistant" && (m.content as Block[]).some(isServerToolBlock)) return [serverToolTurn(m.content as Block[])];
  const results: LlmMessage[] = [];
  const turns: LlmMessage[] = [];
  const fresh = () => ({ text: [] as string[], images: [] as string[], pdfs: [] as DocumentPart[], calls: [] as ToolCall[], thinking: [] as ThinkingBlock[] });
  let seg = fresh();
  const flush = (cache?: CacheHint) => {
    const joined = seg.text.join("\n");
    const msg: LlmMessage | undefined =
      m.role === "assistant"
        ? joined || seg.calls.length || seg.thinking.length
          ? { role: "assistant", content: joined, ...(seg.calls.length ? { toolCalls: seg.calls } : {}), ...(seg.thinking.length ? { thinking: seg.thinking } : {}) }
          : undefined
        : joined || seg.images.length || seg.pdfs.length
          ? { role: "user", content: joined, ...(seg.images.length ? { images: seg.images } : {}), ...(seg.pdfs.length ? { documents: seg.pdfs } : {}) }
          : undefined;
    if (msg) turns.push(cache ? { ...msg, cache } : msg);
    seg = fresh();
  };
  for (const b of m.content as Block[]) {
    const hint = hintOf((b as { cache_control?: z.infer<typeof cacheControl> }).cache_control);
    // Server tool blocks from earlier turns and documents by file id are not carried (requestNotes
    // names them; a breakpoint on one stays on what came before it).
    if (!carried(m.role, b)) {
      if (hint) flush(hint);
      continue;
    }
    if (b.type === "text") seg.text.push((b as { text: string }).text);
    else if (b.type === "image") seg.images.push(imageUrl((b as z.infer<typeof imageBlock>).source));
    else if (b.type === "document") {
      const doc = readDocument(b)!;
      if ("pdf" in doc) seg.pdfs.push(doc.pdf);
      else {
        seg.text.push(doc.text);
        seg.images.push(...doc.images);
      }
    }
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
      const content = resultContent(r.content);
      results.push({ role: "tool", toolCallId: r.tool_use_id, content: (r.is_error ? "Error: " : "") + content.text, ...(hint ? { cache: hint } : {}) });
      // A tool's images and PDFs (Claude Code reading a screenshot or a paper) have no place in a
      // tool message on OpenAI's API: they follow in this turn's user message, which Anthropic
      // merges back into the turn of the results, so every provider's model sees them.
      if (content.images.length || content.pdfs.length) {
        seg.text.push(fromResult(content.images.length, content.pdfs.length, r.tool_use_id));
        seg.images.push(...content.images);
        seg.pdfs.push(...content.pdfs);
      }
      continue;
    }
    if (hint) flush(hint);
  }
  flush();
  return [...results, ...turns];
}

/** A server tool's call or result in an assistant turn (server_tool_use, web_search_tool_result, ...): Anthropic's alone. */
const isServerToolBlock = (b: { type: string }): boolean => b.type === "server_tool_use" || (b.type !== "tool_result" && b.type.endsWith("_tool_result"));

/**
 * An assistant turn in which Anthropic ran server tools (a web search): one message whose text,
 * calls and thinking every provider reads, and whose blocks an Anthropic model gets back as they
 * came (calls, results, the citing text, in order), their breakpoints moved to the turn's end.
 */
function serverToolTurn(content: Block[]): LlmMessage {
  const text: string[] = [];
  const toolCalls: ToolCall[] = [];
  const thinking: ThinkingBlock[] = [];
  let cache: CacheHint | undefined;
  const blocks = content.map((b) => {
    const { cache_control, ...rest } = b as Block & { cache_control?: z.infer<typeof cacheControl> };
    cache = hintOf(cache_control) ?? cache;
    if (b.type === "text") text.push((b as { text: string }).text);
    else if (b.type === "tool_use") {
      const u = b as z.infer<typeof toolUseBlock>;
      toolCalls.push({ id: u.id, name: u.name, arguments: JSON.stringify(u.input ?? {}) });
    } else if (b.type === "thinking") {
      const t = b as z.infer<typeof thinkingBlock>;
      thinking.push({ type: "thinking", thinking: t.thinking, signature: t.signature });
    } else if (b.type === "redacted_thinking") thinking.push({ type: "redacted_thinking", data: (b as z.infer<typeof redactedThinkingBlock>).data });
    return rest as Record<string, unknown>;
  });
  return {
    role: "assistant",
    content: text.join("\n"),
    ...(toolCalls.length ? { toolCalls } : {}),
    ...(thinking.length ? { thinking } : {}),
    anthropicBlocks: blocks,
    ...(cache ? { cache } : {}),
  };
}

function systemText(s: MessagesRequest["system"]): string {
  return typeof s === "string" ? s : (s ?? []).map((b) => b.text).join("\n\n");
}

/**
 * What a request asks for that the routed model is not sent: Anthropic's server tools unless it
 * runs them (`serverToolsSent`), and content blocks Switchboard does not carry (earlier
 * server-tool results, documents by file id), by type. What else depends on the model (cache
 * breakpoints, thinking) is noted by translationNotes.
 */
export function requestNotes(body: z.infer<typeof countTokensSchema>, serverToolsSent = false): string[] {
  const notes: string[] = [];
  const server = serverToolsOf(body.tools).map((t) => t.name);
  if (server.length && !serverToolsSent) notes.push(`server tools dropped: ${server.join(", ")}`);
  const dropped = droppedBlocks(body.messages, serverToolsSent);
  if (dropped.size) notes.push(`content blocks dropped: ${[...dropped].map(([type, n]) => (n > 1 ? `${type} (${n})` : type)).join(", ")}`);
  return notes;
}

/** Blocks `toMessages` leaves out, counted by type: what the model is not shown. */
function droppedBlocks(messages: MessagesRequest["messages"], serverToolsSent: boolean): Map<string, number> {
  const dropped = new Map<string, number>();
  const drop = (type: string) => dropped.set(type, (dropped.get(type) ?? 0) + 1);
  for (const m of messages) {
    if (typeof m.content === "string") continue;
    for (const b of m.content as Block[]) {
      if (!carried(m.role, b) && !(serverToolsSent && m.role === "assistant" && isServerToolBlock(b))) drop(b.type);
      if (b.type === "tool_result") {
        const c = (b as z.infer<typeof toolResultBlock>).content;
        if (Array.isArray(c)) for (const part of c) if (!carriedInResult(part)) drop(part.type);
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
  const { attachments, documents } = mediaOf(messages);
  const functionTools: FunctionTool[] =
    body.tool_choice?.type === "none"
      ? []
      : (body.tools ?? []).filter(isClientTool).map((t) => {
          const cache = hintOf(t.cache_control);
          return { name: t.name, ...(typeof t.description === "string" ? { description: t.description } : {}), parameters: t.input_schema, ...(cache ? { cache } : {}) };
        });
  // A forced call names a client tool: server tools go only to models that run them, which choose when.
  const toolChoice = forcedTool(toolChoiceOf(body.tool_choice), functionTools);
  const reasoning = reasoningOf(body.thinking);
  const sampling = samplingOf({ topP: body.top_p, topK: body.top_k });
  const user = body.metadata?.user_id ?? undefined;
  const routeMessages = system ? [{ role: "system" as const, content: system }, ...messages] : messages;
  // Claude Code's WebSearch sends web_search as a server tool: routed to a model whose API runs it.
  const serverTools = body.tool_choice?.type === "none" ? [] : serverToolsOf(body.tools);
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
      needs: { toolCalling: functionTools.length > 0, ...(documents ? { documents } : {}), ...(serverTools.length ? { serverTools: true } : {}) },
    },
    call: {
      messages,
      ...(system ? { system } : {}),
      ...(systemBlocks.some((b) => b.cache) ? { systemBlocks } : {}),
      ...(reasoning ? { reasoning } : {}),
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(sampling ? { sampling } : {}),
      ...(functionTools.length ? { functionTools } : {}),
      ...(toolChoice ? { toolChoice } : {}),
      ...(body.tool_choice?.disable_parallel_tool_use ? { parallelToolCalls: false } : {}),
      ...(serverTools.length ? { serverTools } : {}),
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
      n += mediaOf([lm]).attachments.reduce((s, a) => s + (a.tokens ?? ATTACHMENT_TOKENS[a.kind]), 0);
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
    // Server tools ran: the blocks as Anthropic returned them (calls, results, citing text, in order).
    content: r.blocks ?? [
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
