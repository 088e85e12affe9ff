import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidRequest } from "../../errors.js";
import type { LlmJob, LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { DocumentPart, FunctionTool, LlmMessage, ResponseFormat, ToolCall, ToolChoice } from "../../providers/types.js";
import { fallbackList, forcedTool, knownShapeIssue, openAiStyleJob, otherThan, samplingOf, type ModelChoice } from "./common.js";
import { pdfData, reasoningOf } from "./openai-chat.js";

/**
 * OpenAI's Responses API wire format (`POST /v1/responses`), which the OpenAI Agents SDK, the
 * Vercel AI SDK's OpenAI provider and Codex speak: the request as Switchboard reads it (whatever
 * provider it is routed to) and the whole answer (the streamed events are in responses-stream.ts).
 * Stateless, as gateways serve it: the conversation comes whole in `input` each time; a
 * `previous_response_id` is refused with that hint. Built-in tools (web search, file search) and
 * items Switchboard cannot carry are named in `x-switchboard-notes`.
 */

const inputText = z.object({ type: z.literal("input_text"), text: z.string() }).loose();
const outputText = z.object({ type: z.literal("output_text"), text: z.string() }).loose();
const inputImage = z.object({ type: z.literal("input_image"), image_url: z.string().nullish(), file_id: z.string().nullish() }).loose();
const inputFile = z.object({ type: z.literal("input_file"), file_data: z.string().nullish(), file_id: z.string().nullish(), filename: z.string().nullish() }).loose();
const otherPart = z.object({ type: z.string() }).loose();
const part = z.union([inputText, outputText, inputImage, inputFile, otherPart]);
const content = z.union([z.string(), z.array(part)]);

const messageItem = z.object({ type: z.literal("message").optional(), role: z.enum(["user", "assistant", "system", "developer"]), content }).loose();
const functionCallItem = z.object({ type: z.literal("function_call"), call_id: z.string(), name: z.string(), arguments: z.string() }).loose();
const functionOutputItem = z.object({ type: z.literal("function_call_output"), call_id: z.string(), output: content }).loose();
/** The item types Switchboard reads; reasoning items, built-in tool calls and the like are accepted, not carried (named in a note). */
const ITEM_SHAPES: Record<string, z.ZodType> = { message: messageItem, function_call: functionCallItem, function_call_output: functionOutputItem };
const item = z.union([messageItem, functionCallItem, functionOutputItem, otherThan(ITEM_SHAPES, "input item")]);

const functionTool = z.object({ type: z.literal("function"), name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"), description: z.string().nullish(), parameters: z.record(z.string(), z.unknown()).nullish() }).loose();
const tool = z.union([functionTool, z.object({ type: z.string() }).loose()]);

const format = z.union([
  z.object({ type: z.literal("text") }).loose(),
  z.object({ type: z.literal("json_object") }).loose(),
  z.object({ type: z.literal("json_schema"), name: z.string().optional(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish() }).loose(),
]);

export const responsesRequestSchema = z
  .object({
    model: z.string().optional(),
    // Other gateways' fallback lists: OpenRouter's `models`, LiteLLM's `fallbacks` (model names).
    models: fallbackList.nullish(),
    fallbacks: fallbackList.nullish(),
    input: z.union([z.string(), z.array(item)]),
    instructions: z.string().nullish(),
    tools: z.array(tool).optional(),
    tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), name: z.string() }).loose(), z.object({ type: z.string() }).loose()]).optional(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: format.optional() }).loose().nullish(),
    reasoning: z.object({ effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish() }).loose().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    stream: z.boolean().nullish(),
    previous_response_id: z.string().nullish(),
    store: z.boolean().nullish(),
    user: z.string().optional(),
    metadata: z.record(z.string(), z.string()).nullish(),
  })
  .loose();

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
type Item = z.infer<typeof item>;
type Part = z.infer<typeof part>;

/** Reads the body, or throws invalid_request naming the field (OpenAI's `param`). */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = knownShapeIssue(body, parsed.error.issues[0]!, ITEM_SHAPES) ?? parsed.error.issues[0]!;
    const param = issue.path.join(".");
    throw invalidRequest(`${param || "body"}: ${issue.message}`, "send an OpenAI Responses request body (model, input, ...).", { field: param || "body" });
  }
  if (parsed.data.previous_response_id) {
    throw invalidRequest(
      "previous_response_id: Switchboard keeps no responses, so it cannot continue one",
      "send the whole conversation in `input` (earlier output items included), as with store: false.",
      { field: "previous_response_id" },
    );
  }
  return parsed.data;
}

const isMessage = (i: Item): i is z.infer<typeof messageItem> => "role" in i && (i.type === undefined || i.type === "message");
const isFunctionTool = (t: z.infer<typeof tool>): t is z.infer<typeof functionTool> => t.type === "function" && "name" in t;

/** A content's text parts joined. */
function textOf(c: z.infer<typeof content>): string {
  if (typeof c === "string") return c;
  return c.flatMap((p) => ((p.type === "input_text" || p.type === "output_text") && typeof (p as { text?: unknown }).text === "string" ? [(p as { text: string }).text] : [])).join("\n");
}

/** A part carried to the model: text, an image by URL, a PDF as data. */
function carriedPart(p: Part): boolean {
  if (p.type === "input_text" || p.type === "output_text") return true;
  if (p.type === "input_image") return typeof (p as { image_url?: unknown }).image_url === "string";
  if (p.type === "input_file") return pdfData((p as { file_data?: unknown }).file_data, undefined) !== undefined;
  return false;
}

/**
 * The conversation as Switchboard's messages: instructions and system or developer turns as
 * system, a user's images and PDFs with its text, an assistant's function calls on its turn (a
 * call item after an assistant message joins it), call outputs as tool turns.
 */
function toMessages(body: ResponsesRequest): LlmMessage[] {
  const out: LlmMessage[] = body.instructions ? [{ role: "system", content: body.instructions }] : [];
  if (typeof body.input === "string") return [...out, { role: "user", content: body.input }];
  for (const i of body.input) {
    if (isMessage(i)) {
      const text = textOf(i.content);
      if (i.role === "system" || i.role === "developer") out.push({ role: "system", content: text });
      else if (i.role === "assistant") out.push({ role: "assistant", content: text });
      else {
        const parts = typeof i.content === "string" ? [] : i.content;
        const images = parts.flatMap((p) => (p.type === "input_image" && typeof (p as { image_url?: unknown }).image_url === "string" ? [(p as { image_url: string }).image_url] : []));
        const documents = parts.flatMap((p): DocumentPart[] => {
          const pdf = p.type === "input_file" ? pdfData((p as { file_data?: unknown }).file_data, (p as { filename?: unknown }).filename) : undefined;
          return pdf ? [pdf] : [];
        });
        out.push({ role: "user", content: text, ...(images.length ? { images } : {}), ...(documents.length ? { documents } : {}) });
      }
    } else if (i.type === "function_call") {
      const c = i as z.infer<typeof functionCallItem>;
      const call: ToolCall = { id: c.call_id, name: c.name, arguments: c.arguments };
      const last = out.at(-1);
      if (last?.role === "assistant") last.toolCalls = [...(last.toolCalls ?? []), call];
      else out.push({ role: "assistant", content: "", toolCalls: [call] });
    } else if (i.type === "function_call_output") {
      const o = i as z.infer<typeof functionOutputItem>;
      out.push({ role: "tool", toolCallId: o.call_id, content: textOf(o.output) });
    }
  }
  return out;
}

/**
 * What the request asks for that no model is sent: built-in tools (`tools dropped: web_search`),
 * items other than messages and function calls (`input items dropped: reasoning (2)`), and parts
 * other than text, image URLs and PDF data (`content parts dropped: input_file`).
 */
export function responsesNotes(body: ResponsesRequest): string[] {
  const notes: string[] = [];
  const builtIn = (body.tools ?? []).filter((t) => !isFunctionTool(t)).map((t) => t.type);
  if (builtIn.length) notes.push(`tools dropped: ${builtIn.join(", ")}`);
  const items = new Map<string, number>();
  const parts = new Map<string, number>();
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const i of typeof body.input === "string" ? [] : body.input) {
    if (isMessage(i)) {
      for (const p of typeof i.content === "string" ? [] : i.content) if (!carriedPart(p) || (i.role !== "user" && p.type !== "input_text" && p.type !== "output_text")) count(parts, p.type);
    } else if (i.type === "function_call_output") {
      const o = (i as z.infer<typeof functionOutputItem>).output;
      for (const p of typeof o === "string" ? [] : o) if (p.type !== "input_text" && p.type !== "output_text") count(parts, p.type);
    } else if (i.type !== "function_call") count(items, i.type);
  }
  const list = (m: Map<string, number>) => [...m].map(([t, n]) => (n > 1 ? `${t} (${n})` : t)).join(", ");
  if (items.size) notes.push(`input items dropped: ${list(items)}`);
  if (parts.size) notes.push(`content parts dropped: ${list(parts)}`);
  return notes;
}

function formatOf(f: z.infer<typeof format> | undefined): ResponseFormat | undefined {
  if (!f || f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json" };
  const s = f as { name?: string; schema: Record<string, unknown>; strict?: boolean | null };
  return { type: "json_schema", schema: s.schema, ...(s.name ? { name: s.name } : {}), ...(s.strict ? { strict: true } : {}) };
}

/** `tool_choice` as the call the answer must make: `required` or a named function (`auto`, `none` and built-in tools force none). */
function toolChoiceOf(c: ResponsesRequest["tool_choice"]): ToolChoice | undefined {
  if (c === "required") return "required";
  return typeof c === "object" && c.type === "function" && typeof (c as { name?: unknown }).name === "string" ? { name: (c as { name: string }).name } : undefined;
}

/** The LLM job a Responses request asks for: what the router reads and what the model is sent. */
export function responsesJob(body: ResponsesRequest, choice: ModelChoice, who: { tenant: string }): LlmJob {
  const functionTools: FunctionTool[] =
    body.tool_choice === "none"
      ? []
      : (body.tools ?? []).filter(isFunctionTool).map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters ?? { type: "object", properties: {} } }));
  return openAiStyleJob(
    {
      messages: toMessages(body),
      user: body.user,
      maxOutputTokens: body.max_output_tokens ?? undefined,
      functionTools,
      toolChoice: forcedTool(toolChoiceOf(body.tool_choice), functionTools),
      responseFormat: formatOf(body.text?.format),
      temperature: body.temperature,
      sampling: samplingOf({ topP: body.top_p }),
      parallelToolCalls: body.parallel_tool_calls,
      reasoning: reasoningOf(body.reasoning?.effort ?? undefined),
    },
    choice,
    who,
  );
}

/** Ids of a response and its items, from the request id (hex, as OpenAI's are). */
export const responseIds = (requestId: string | undefined) => {
  const hex = (requestId ?? randomUUID()).replace(/-/g, "");
  return { response: `resp_${hex}`, message: `msg_${hex}`, call: (i: number) => `fc_${hex}_${i}` };
};

/** A finished answer's output items: its message (when it has text), then its function calls. */
export function outputItems(run: LlmOutcome, ids: ReturnType<typeof responseIds>) {
  const r = run.result;
  return [
    ...(r.text ? [messageItemOut(ids.message, r.text, "completed")] : []),
    ...r.toolCalls.map((c, i) => functionCallOut(ids.call(i), c, "completed")),
  ];
}

export const messageItemOut = (id: string, text: string, status: "in_progress" | "completed") => ({
  type: "message",
  id,
  status,
  role: "assistant",
  content: status === "completed" ? [textPart(text)] : [],
});

export const textPart = (text: string) => ({ type: "output_text", text, annotations: [], logprobs: [] });

export const functionCallOut = (id: string, c: Pick<ToolCall, "id" | "name" | "arguments">, status: "in_progress" | "completed") => ({
  type: "function_call",
  id,
  call_id: c.id,
  name: c.name,
  arguments: c.arguments,
  status,
});

function usageOut(u: LlmOutcome["usage"]) {
  return { input_tokens: u.inputTokens, input_tokens_details: { cached_tokens: u.cachedInputTokens }, output_tokens: u.outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.inputTokens + u.outputTokens };
}

/**
 * The `response` object: in progress (a stream's first events, no output yet) or finished; an
 * answer cut at its output limit is `incomplete`, as OpenAI marks it.
 */
export function responseBody(body: ResponsesRequest, ids: ReturnType<typeof responseIds>, model: string, createdAt: number, run?: LlmOutcome) {
  const cut = run?.result.finishReason === "length";
  return {
    id: ids.response,
    object: "response",
    created_at: createdAt,
    status: run ? (cut ? "incomplete" : "completed") : "in_progress",
    error: null,
    incomplete_details: cut ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: run ? outputItems(run, ids) : [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? null,
    truncation: "disabled",
    usage: run ? usageOut(run.result.usage) : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}
