import { z } from "zod";
import { invalidRequest, type ErrorBody } from "../../errors.js";
import type { LlmJob, LlmOutcome } from "../../jobs/llm-pipeline.js";
import type { DocumentPart, FunctionTool, LlmMessage, Reasoning, ResponseFormat, ToolCall, ToolChoice } from "../../providers/types.js";
import { fallbackList, forcedTool, knownShapeIssue, openAiStyleJob, otherThan, samplingOf, type ModelChoice } from "./common.js";

/**
 * OpenAI's Chat Completions wire format: the request as Switchboard reads it, and the answer,
 * whole or as chunks. Fields Switchboard has no use for (n > 1 aside) are accepted and ignored,
 * as OpenAI-compatible servers do, so clients that always send them keep working.
 */

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({ type: z.literal("image_url"), image_url: z.union([z.string(), z.object({ url: z.string() })]) });
const filePart = z.object({ type: z.literal("file"), file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }).loose() });
/** The shapes of the part types Switchboard reads; audio and the rest are accepted and named in a note. */
const PART_SHAPES: Record<string, z.ZodType> = { text: textPart, image_url: imagePart, file: filePart };
const content = z.union([z.string(), z.array(z.union([textPart, imagePart, filePart, otherThan(PART_SHAPES, "content part")])), z.null()]).optional();

const toolCall = z.object({
  id: z.string(),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string(), arguments: z.string().default("") }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer"]), content }).loose(),
  z.object({ role: z.literal("user"), content }).loose(),
  z.object({ role: z.literal("assistant"), content, tool_calls: z.array(toolCall).optional() }).loose(),
  z.object({ role: z.literal("tool"), content, tool_call_id: z.string() }).loose(),
  z.object({ role: z.literal("function"), content, name: z.string() }).loose(),
]);

const tool = z.object({
  type: z.literal("function"),
  function: z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
});

export const chatRequestSchema = z
  .object({
    model: z.string().optional(),
    // Other gateways' fallback lists: OpenRouter's `models`, LiteLLM's `fallbacks` (model names).
    models: fallbackList.nullish(),
    fallbacks: fallbackList.nullish(),
    messages: z.array(message).min(1, "at least one message"),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    seed: z.number().int().nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    tools: z.array(tool).optional(),
    tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) })]).optional(),
    response_format: z
      .union([
        z.object({ type: z.literal("text") }),
        z.object({ type: z.literal("json_object") }),
        z.object({ type: z.literal("json_schema"), json_schema: z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish() }).loose() }),
      ])
      .optional(),
    reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullish(),
    n: z.literal(1).nullish(),
    user: z.string().optional(),
  })
  .loose();

export type ChatRequestBody = z.infer<typeof chatRequestSchema>;

/** Reads the body, or throws invalid_request naming the field (OpenAI's `param`). */
export function parseChatRequest(body: unknown): ChatRequestBody {
  const parsed = chatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  const issue = knownShapeIssue(body, first, PART_SHAPES) ?? first;
  const param = issue.path.join(".");
  const n = first.code === "invalid_value" && param === "n" ? " (Switchboard returns one choice per request)" : "";
  throw invalidRequest(`${param || "body"}: ${issue.message}${n}`, "send an OpenAI Chat Completions request body (model, messages, ...).", { field: param || "body" });
}

type Content = ChatRequestBody["messages"][number]["content"];

/** A message's text: its string, or its text parts joined. */
function textOf(c: Content): string {
  if (typeof c === "string") return c;
  return (c ?? []).flatMap((p) => (p.type === "text" && typeof (p as { text?: unknown }).text === "string" ? [(p as { text: string }).text] : [])).join("\n");
}

/** A message's images, as URLs (https or data:). */
function imagesOf(c: Content): string[] {
  if (!Array.isArray(c)) return [];
  return c.flatMap((p) => {
    if (p.type !== "image_url") return [];
    const u = (p as { image_url: string | { url: string } }).image_url;
    return [typeof u === "string" ? u : u.url];
  });
}

/** A PDF sent as a data: URL (OpenAI's `file_data`), with its file name; undefined for anything else. */
export function pdfData(fileData: unknown, filename: unknown): DocumentPart | undefined {
  const m = typeof fileData === "string" ? /^data:application\/pdf;base64,(.*)$/s.exec(fileData) : null;
  if (!m) return undefined;
  return { data: m[1]!, ...(typeof filename === "string" && filename ? { title: filename } : {}) };
}

/** A file part's PDF, or undefined for what is not carried (a file id, another type). */
function pdfOf(p: { type: string }): DocumentPart | undefined {
  if (p.type !== "file") return undefined;
  const file = (p as { file?: { file_data?: unknown; filename?: unknown } }).file;
  return pdfData(file?.file_data, file?.filename);
}

/** A user message's PDFs, in order. */
function documentsOf(c: Content): DocumentPart[] {
  if (!Array.isArray(c)) return [];
  return c.flatMap((p) => {
    const pdf = pdfOf(p);
    return pdf ? [pdf] : [];
  });
}

/**
 * Settings that would change the answer but reach no model through Switchboard, as a note
 * (`logprobs, logit_bias dropped: ...`): a client that asked for them learns they were not applied.
 */
export function droppedSettings(b: ChatRequestBody): string[] {
  const r = b as Record<string, unknown>;
  const set = (k: string) => r[k] != null && r[k] !== false && r[k] !== 0 && !(typeof r[k] === "object" && Object.keys(r[k] as object).length === 0);
  const names = ["logprobs", "top_logprobs", "logit_bias", "audio", "web_search_options", "prediction", "verbosity"].filter(set);
  if (Array.isArray(r.modalities) && r.modalities.includes("audio") && !names.includes("audio")) names.push("modalities");
  return names.length ? [`${names.join(", ")} dropped: Switchboard does not carry ${names.length > 1 ? "them" : "it"} to any model`] : [];
}

/**
 * Content parts the model is not sent, as a note (`content parts dropped: file, input_audio`):
 * text is carried everywhere, images and PDF files (as data) in user messages; files by id,
 * audio and the rest are not.
 */
export function droppedParts(b: ChatRequestBody): string[] {
  const dropped = new Map<string, number>();
  for (const m of b.messages) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content) {
      if (p.type === "text" || (m.role === "user" && (p.type === "image_url" || pdfOf(p)))) continue;
      dropped.set(p.type, (dropped.get(p.type) ?? 0) + 1);
    }
  }
  return dropped.size ? [`content parts dropped: ${[...dropped].map(([type, n]) => (n > 1 ? `${type} (${n})` : type)).join(", ")}`] : [];
}

function toMessage(m: ChatRequestBody["messages"][number]): LlmMessage {
  const text = textOf(m.content);
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content: text };
    case "assistant": {
      const calls: ToolCall[] = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      return { role: "assistant", content: text, ...(calls.length ? { toolCalls: calls } : {}) };
    }
    case "tool":
      return { role: "tool", content: text, toolCallId: m.tool_call_id };
    case "function":
      return { role: "tool", content: `${m.name}: ${text}` };
    default: {
      const images = imagesOf(m.content);
      const documents = documentsOf(m.content);
      return { role: "user", content: text, ...(images.length ? { images } : {}), ...(documents.length ? { documents } : {}) };
    }
  }
}

function formatOf(f: ChatRequestBody["response_format"]): ResponseFormat | undefined {
  if (!f || f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json" };
  const s = f.json_schema;
  return s.schema ? { type: "json_schema", schema: s.schema, ...(s.name ? { name: s.name } : {}), ...(s.strict ? { strict: true } : {}) } : { type: "json" };
}

/** `reasoning_effort` as a provider-neutral reasoning request: `none` asks for none; above `high`, high. */
export function reasoningOf(e: ChatRequestBody["reasoning_effort"]): Reasoning | undefined {
  if (!e || e === "none") return undefined;
  return { effort: e === "xhigh" || e === "max" ? "high" : e };
}

/** `tool_choice` as the call the answer must make: `required` or a named function (`auto` and `none` force none). */
function toolChoiceOf(c: ChatRequestBody["tool_choice"]): ToolChoice | undefined {
  if (c === "required") return "required";
  return typeof c === "object" ? { name: c.function.name } : undefined;
}

/** The LLM job a request asks for: what the router reads and what the model is sent. */
export function chatJob(body: ChatRequestBody, choice: ModelChoice, who: { tenant: string }): LlmJob {
  const functionTools: FunctionTool[] =
    body.tool_choice === "none" ? [] : (body.tools ?? []).map((t) => ({ name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), parameters: t.function.parameters ?? { type: "object", properties: {} } }));
  return openAiStyleJob(
    {
      messages: body.messages.map(toMessage),
      user: body.user,
      maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      functionTools,
      toolChoice: forcedTool(toolChoiceOf(body.tool_choice), functionTools),
      responseFormat: formatOf(body.response_format),
      temperature: body.temperature,
      sampling: samplingOf({ topP: body.top_p, seed: body.seed, presencePenalty: body.presence_penalty, frequencyPenalty: body.frequency_penalty }),
      parallelToolCalls: body.parallel_tool_calls,
      stop: body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop,
      // Sent to the serving model where its catalog entry takes it; not a routing hint.
      reasoning: reasoningOf(body.reasoning_effort),
    },
    choice,
    who,
  );
}

const FINISH: Record<string, string> = { stop: "stop", length: "length", tool_calls: "tool_calls", content_filter: "content_filter", refusal: "content_filter", other: "stop" };

const toolCallsOut = (calls: ToolCall[]) => calls.map((c, index) => ({ index, id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } }));

/** Token counts, and the call's cost in USD as OpenRouter reports it (`usage.cost`): every attempt's, escalation included. */
function usageOut(run: LlmOutcome) {
  const u = run.result.usage;
  return { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens, prompt_tokens_details: { cached_tokens: u.cachedInputTokens }, cost: run.costUsd };
}

/** The whole answer: a `chat.completion` object. */
export function completionBody(run: LlmOutcome, created: number) {
  const r = run.result;
  return {
    id: `chatcmpl-${run.decision.requestId}`,
    object: "chat.completion",
    created,
    model: run.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: r.toolCalls.length && !r.text ? null : r.text, refusal: null, ...(r.toolCalls.length ? { tool_calls: toolCallsOut(r.toolCalls).map(({ index: _i, ...c }) => c) } : {}) },
        logprobs: null,
        finish_reason: FINISH[r.finishReason] ?? "stop",
      },
    ],
    usage: usageOut(run),
  };
}

/** One streamed chunk (`chat.completion.chunk`). */
export function chunkBody(id: string, model: string, created: number, delta: Record<string, unknown>, finish: string | null = null) {
  return { id, object: "chat.completion.chunk", created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

/** The chunks that close a stream: tool calls not streamed (whole) and what streamed ones lacked, the finish reason, and usage when asked for. */
export function closingChunks(run: LlmOutcome, id: string, created: number, includeUsage: boolean, streamed: ReadonlyMap<number, number> = new Map()): unknown[] {
  const r = run.result;
  const out: unknown[] = [];
  // Calls already streamed get only what their stream lacked (an empty argument list closes as "{}"); the rest go whole.
  const rest = toolCallsOut(r.toolCalls).flatMap((c) => {
    const sent = streamed.get(c.index);
    if (sent === undefined) return [c];
    const tail = c.function.arguments.slice(sent);
    return tail ? [{ index: c.index, function: { arguments: tail } }] : [];
  });
  if (rest.length) out.push(chunkBody(id, run.model, created, { tool_calls: rest }));
  out.push(chunkBody(id, run.model, created, {}, FINISH[r.finishReason] ?? "stop"));
  if (includeUsage) out.push({ id, object: "chat.completion.chunk", created, model: run.model, system_fingerprint: null, choices: [], usage: usageOut(run) });
  return out;
}

const TYPE: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error" };

/** A Switchboard error in OpenAI's shape, Switchboard's code and hint kept. */
export function openAiError(body: ErrorBody, status: number) {
  return {
    error: {
      message: body.message,
      type: TYPE[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"),
      param: body.field ?? null,
      code: body.code,
      hint: body.hint ?? null,
      retryable: body.retryable,
      ...(body.validValues ? { valid_values: body.validValues } : {}),
      ...(body.ceiling ? { ceiling: body.ceiling } : {}),
    },
  };
}
