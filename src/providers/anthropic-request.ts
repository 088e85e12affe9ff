import type Anthropic from "@anthropic-ai/sdk";
import type { MessageCreateParams, MessageParam } from "@anthropic-ai/sdk/resources/messages";
import { breakpointTaker } from "./cache-hints.js";
import { anthropicThinking } from "./reasoning.js";
import type { CacheHint, ChatRequest, DocumentPart } from "./types.js";

/**
 * A ChatRequest as Anthropic's Messages API takes it: tools, system and messages with their cache
 * breakpoints (the last four, read in that order), earlier turns' thinking blocks carried back
 * whole, and extended thinking when the request asks for reasoning.
 */

type Take = (hint: CacheHint | undefined) => CacheHint | undefined;
type Block = Anthropic.ContentBlockParam;

export function anthropicBody(req: ChatRequest): Omit<MessageCreateParams, "stream"> {
  // Called in reading order (tools, system, messages): beyond four breakpoints the earliest go.
  const take = breakpointTaker(req);
  const tools = (req.tools ?? []).map(
    (t): Anthropic.Tool => ({ name: t.name, description: t.description, input_schema: { type: "object", ...t.parameters } as Anthropic.Tool.InputSchema, ...cacheControl(take(t.cache)) }),
  );
  const system = systemParam(req, take);
  const body: Omit<MessageCreateParams, "stream"> = { model: req.model, max_tokens: req.maxOutputTokens, messages: anthropicMessages(req.messages, take) };
  if (req.stop?.length) body.stop_sequences = req.stop;
  if (system) body.system = system;
  // Server tools (web search) go as the client declared them: Anthropic runs them.
  const all: Anthropic.ToolUnion[] = [...tools, ...((req.serverTools ?? []) as unknown as Anthropic.ToolUnion[])];
  if (all.length) {
    body.tools = all;
    const single = req.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
    if (req.toolChoice) body.tool_choice = req.toolChoice === "required" ? { type: "any", ...single } : { type: "tool", name: req.toolChoice.name, ...single };
    else if (req.parallelToolCalls === false) body.tool_choice = { type: "auto", ...single };
  }
  // (Current Messages API versions take no temperature, top_p or top_k; none is sent, as thinking requires anyway.)
  const plan = anthropicThinking(req);
  if (plan && "budgetTokens" in plan) {
    body.thinking = { type: "enabled", budget_tokens: plan.budgetTokens };
    body.max_tokens = plan.maxTokens;
  }
  return body;
}

const cacheControl = (hint: CacheHint | undefined): { cache_control?: Anthropic.CacheControlEphemeral } =>
  hint ? { cache_control: { type: "ephemeral", ...(hint.ttl ? { ttl: hint.ttl } : {}) } } : {};

/** The system prompt: one string, or text blocks when a block carries a breakpoint. */
function systemParam(req: ChatRequest, take: Take): string | Anthropic.TextBlockParam[] | undefined {
  const parts: Array<{ text: string; cache?: CacheHint }> = req.systemBlocks?.length
    ? req.systemBlocks.map((b) => ({ text: b.text, cache: take(b.cache) }))
    : req.system
      ? [{ text: req.system }]
      : [];
  for (const m of req.messages) if (m.role === "system") parts.push({ text: m.content });
  // Anthropic has no JSON mode: ask for it in the system prompt; the quality gate checks the result.
  if (req.responseFormat && req.responseFormat.type !== "text") {
    parts.push({
      text:
        req.responseFormat.type === "json_schema"
          ? `Reply with only a JSON value that matches this JSON Schema, no prose:\n${JSON.stringify(req.responseFormat.schema)}`
          : "Reply with only a valid JSON value, no prose.",
    });
  }
  // Anthropic refuses empty text blocks.
  const kept = parts.filter((p) => p.text);
  if (!kept.length) return undefined;
  if (!kept.some((p) => p.cache)) return kept.map((p) => p.text).join("\n\n");
  return kept.map((p) => ({ type: "text", text: p.text, ...cacheControl(p.cache) }));
}

/**
 * Turns into Anthropic's shape: an assistant's thinking blocks first, then its text and tool_use
 * blocks; tool results as tool_result blocks in a user turn; a turn's breakpoint on its last
 * block; consecutive turns of one role merged (the API wants them alternating, and several tool
 * results answer one assistant turn together).
 */
function anthropicMessages(list: ChatRequest["messages"], take: Take): MessageParam[] {
  const out: Array<{ role: "user" | "assistant"; content: Block[] }> = [];
  for (const m of list) {
    if (m.role === "system") continue;
    const role = m.role === "assistant" ? "assistant" : "user";
    // A turn in which Anthropic ran server tools goes back as it came (calls, results, citing text).
    const blocks: Block[] = m.role === "assistant" && m.anthropicBlocks ? (structuredClone(m.anthropicBlocks) as unknown as Block[]) : turnBlocks(m);
    // Thinking blocks cannot carry a breakpoint: it goes on the turn's last other block.
    const hint = take(m.cache);
    const last = blocks.findLast((b) => b.type !== "thinking" && b.type !== "redacted_thinking");
    if (hint && last) Object.assign(last, cacheControl(hint));
    if (!blocks.length) continue;
    const prev = out.at(-1);
    if (prev?.role === role) prev.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  // A plain text turn without a breakpoint goes as a string, as it always did.
  return out.map((m) => {
    const only = m.content.length === 1 ? m.content[0]! : undefined;
    return only?.type === "text" && !only.cache_control ? { role: m.role, content: only.text } : m;
  });
}

/** A turn's blocks: an assistant's thinking first, a user's documents before its text, then text or a tool result, images, tool calls. */
function turnBlocks(m: ChatRequest["messages"][number]): Block[] {
  const blocks: Block[] = [];
  for (const t of m.role === "assistant" ? (m.thinking ?? []) : []) {
    blocks.push(t.type === "thinking" ? { type: "thinking", thinking: t.thinking, signature: t.signature } : { type: "redacted_thinking", data: t.data });
  }
  // Documents before the question about them, as Anthropic advises.
  for (const d of m.role === "user" ? (m.documents ?? []) : []) blocks.push(documentBlock(d));
  if (m.role === "tool" && m.toolCallId) blocks.push({ type: "tool_result", tool_use_id: m.toolCallId, content: m.content });
  else if (m.content) blocks.push({ type: "text", text: m.content });
  for (const url of m.role === "user" ? (m.images ?? []) : []) blocks.push(imageBlock(url));
  for (const c of m.role === "assistant" ? (m.toolCalls ?? []) : []) blocks.push({ type: "tool_use", id: c.id, name: c.name, input: parseArguments(c.arguments) });
  return blocks;
}

/** An image as Anthropic takes it: base64 from a data: URL, else the URL itself. */
function imageBlock(url: string): Anthropic.ImageBlockParam {
  const m = /^data:(image\/(?:png|jpeg|gif|webp));base64,(.*)$/s.exec(url);
  return m
    ? { type: "image", source: { type: "base64", media_type: m[1] as "image/png", data: m[2]! } }
    : { type: "image", source: { type: "url", url } };
}

/** A PDF as Anthropic takes it: its base64 bytes, or a URL the API fetches. */
function documentBlock(d: DocumentPart): Anthropic.DocumentBlockParam {
  const source: Anthropic.DocumentBlockParam["source"] = "data" in d ? { type: "base64", media_type: "application/pdf", data: d.data } : { type: "url", url: d.url };
  return { type: "document", source, ...(d.title ? { title: d.title } : {}) };
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
