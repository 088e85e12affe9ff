// Wire-faithful fake of Anthropic's POST /v1/messages (JSON and SSE), for the real `@anthropic-ai/sdk`:
// thinking blocks with signatures it checks when they come back, prompt-cache usage, and the 400s
// the real API gives for thinking and cache_control it refuses.
import { createHash } from "node:crypto";
import {
  contentText,
  randomId,
  splitText,
  startFakeServer,
  type ErrorResponse,
  type FakeServer,
  type FakeThinking,
  type ProviderWire,
  type RecordedRequest,
  type ResolvedReply,
  type StatusFault,
} from "./fake-server.js";

export type { FakeReply, FakeServer, Fault, RecordedRequest, Step } from "./fake-server.js";

const CONTEXT_WINDOW = 200000;

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const DEFAULT_MESSAGES: Record<string, string> = {
  invalid_request_error: "Invalid request.",
  authentication_error: "invalid x-api-key",
  permission_error: "Your API key does not have permission to use the specified resource.",
  not_found_error: "Not found",
  rate_limit_error: "Number of request tokens has exceeded your per-minute rate limit",
  api_error: "Internal server error",
  overloaded_error: "Overloaded",
};

function anthropicError(status: number, type: string, message: string): ErrorResponse {
  return { status, body: { type: "error", error: { type, message }, request_id: randomId("req_") } };
}

function statusError(f: StatusFault): ErrorResponse {
  const type = f.type ?? ERROR_TYPES[f.status] ?? (f.status >= 500 ? "api_error" : "invalid_request_error");
  return anthropicError(f.status, type, f.message ?? DEFAULT_MESSAGES[type] ?? "Error");
}

interface Msg {
  role?: string;
  content?: unknown;
}
const messagesOf = (body: RecordedRequest["body"]): Msg[] => (Array.isArray(body?.messages) ? body.messages : []);

/** The signature this fake gives a thinking block, and checks when the block comes back. */
export const fakeSignature = (thinking: string): string => `sig_${createHash("sha256").update(thinking).digest("base64url").slice(0, 32)}`;

const DOCS = "Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

type Block = { type?: string; cache_control?: unknown; thinking?: string; signature?: string; source?: { type?: string; media_type?: string } };
const blocksOf = (content: unknown): Block[] => (Array.isArray(content) ? (content as Block[]) : []);

/** The API's own checks of what it refuses: cache breakpoints, thinking settings and returned thinking blocks. */
function validate(req: RecordedRequest): ErrorResponse | undefined {
  const body = req.body ?? {};
  const invalid = (message: string) => anthropicError(400, "invalid_request_error", message);
  const messages = messagesOf(body);
  const tools: Block[] = Array.isArray(body.tools) ? body.tools : [];
  const carriers = [...tools, ...blocksOf(body.system), ...messages.flatMap((m) => blocksOf(m.content))];
  const breakpoints = carriers.filter((b) => b?.cache_control).length;
  if (breakpoints > 4) return invalid(`A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`);
  for (const [i, m] of messages.entries()) {
    for (const [j, b] of blocksOf(m.content).entries()) {
      if (b?.type === "thinking" && b.signature !== fakeSignature(String(b.thinking))) return invalid(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      // A base64 document is a PDF; text goes in a text source.
      if (b?.type === "document" && b.source?.type === "base64" && b.source.media_type !== "application/pdf") {
        return invalid(`messages.${i}.content.${j}.document.source.base64.media_type: Input should be 'application/pdf'`);
      }
    }
  }
  const thinking = body.thinking;
  if (thinking?.type !== "enabled") return undefined;
  if (!Number.isInteger(thinking.budget_tokens) || thinking.budget_tokens < 1024) return invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
  if (!(body.max_tokens > thinking.budget_tokens)) return invalid(`\`max_tokens\` must be greater than \`thinking.budget_tokens\`. ${DOCS}#max-tokens-and-context-window-size`);
  if (body.temperature !== undefined && body.temperature !== 1) return invalid(`\`temperature\` may only be set to 1 when thinking is enabled. ${DOCS}#feature-compatibility`);
  if (body.tool_choice?.type === "any" || body.tool_choice?.type === "tool") return invalid(`Thinking may not be enabled when tool_choice forces tool use. ${DOCS}#feature-compatibility`);
  const last = messages.map((m, i) => [m, i] as const).findLast(([m]) => m.role === "assistant");
  const content = last ? blocksOf(last[0].content) : [];
  const first = content[0]?.type;
  if (last && content.some((b) => b?.type === "tool_use") && first !== "thinking" && first !== "redacted_thinking") {
    return invalid(
      `messages.${last[1]}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. ${DOCS}`,
    );
  }
  return undefined;
}

/** A reply's thinking blocks as the API returns them. */
const thinkingBlocks = (list: FakeThinking[]) =>
  list.map((t) => ("redacted" in t ? { type: "redacted_thinking", data: t.redacted } : { type: "thinking", thinking: t.thinking, signature: t.signature ?? fakeSignature(t.thinking) }));

/** Text of the content blocks, counting tool_use inputs and tool_result contents too. */
function blocksText(content: unknown): string {
  if (!Array.isArray(content)) return contentText(content);
  return content
    .map((b) => (b?.type === "tool_use" ? JSON.stringify(b.input ?? {}) : b?.type === "tool_result" ? contentText(b.content) : contentText([b])))
    .join("");
}

const wire: ProviderWire = {
  route: "/v1/messages",
  urlSuffix: "",
  requestIdHeader: "request-id",

  // SDK 0.x sends the key as `x-api-key`; SDK 1.x sends it as `Authorization: Bearer <key>`. Accept both.
  authenticate(req) {
    const auth = req.headers["authorization"];
    const bearer = typeof auth === "string" && auth.startsWith("Bearer ") ? auth.slice("Bearer ".length).trim() : "";
    const key = typeof req.headers["x-api-key"] === "string" && req.headers["x-api-key"] ? req.headers["x-api-key"] : bearer;
    if (!key) return anthropicError(401, "authentication_error", "x-api-key header is required");
    if (key === "bad-key") return anthropicError(401, "authentication_error", "invalid x-api-key");
    if (!req.headers["anthropic-version"]) return anthropicError(400, "invalid_request_error", "anthropic-version: header is required");
    return undefined;
  },

  validate,
  notFound: () => anthropicError(404, "not_found_error", "Not Found"),
  statusError,
  contextLengthError: (_req, tokens) =>
    anthropicError(400, "invalid_request_error", `prompt is too long: ${Math.max(tokens, CONTEXT_WINDOW + 1)} tokens > ${CONTEXT_WINDOW} maximum`),
  contentFilterReply: { text: "", finishReason: "refusal" },

  promptText: (body) => blocksText(body?.system) + messagesOf(body).map((m) => blocksText(m.content)).join(""),
  lastUserText: (body) =>
    contentText(
      messagesOf(body)
        .filter((m) => m.role === "user")
        .at(-1)?.content,
    ),

  complete(req, reply) {
    const content: object[] = thinkingBlocks(reply.thinking);
    const search = searchOf(req, reply);
    if (search) content.push(search.use, search.result);
    if (reply.text) content.push(search ? { type: "text", text: reply.text, citations: search.citations } : { type: "text", text: reply.text });
    for (const c of withIds(reply)) content.push({ type: "tool_use", id: c.id, name: c.name, input: JSON.parse(c.arguments || "{}") });
    return { ...messageShell(req), content, ...stopOf(reply), usage: usageOf(reply, reply.usage.output, search ? 1 : 0) };
  },

  streamFrames(req, reply) {
    const frames: string[] = [];
    const emit = (type: string, data: object) => frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const search = searchOf(req, reply);
    emit("message_start", {
      message: { ...messageShell(req), content: [], stop_reason: null, stop_sequence: null, stop_details: null, usage: usageOf(reply, Math.min(1, reply.usage.output), 0) },
    });
    let index = 0;
    for (const t of thinkingBlocks(reply.thinking)) {
      if (t.type === "redacted_thinking") emit("content_block_start", { index, content_block: t });
      else {
        emit("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
        for (const thinking of splitText(t.thinking!, reply.chunks)) emit("content_block_delta", { index, delta: { type: "thinking_delta", thinking } });
        emit("content_block_delta", { index, delta: { type: "signature_delta", signature: t.signature } });
      }
      emit("content_block_stop", { index });
      index++;
    }
    if (search) {
      // The call streams its input as JSON pieces; the result comes whole in its start.
      emit("content_block_start", { index, content_block: { ...search.use, input: {} } });
      emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(search.use.input) } });
      emit("content_block_stop", { index });
      index++;
      emit("content_block_start", { index, content_block: search.result });
      emit("content_block_stop", { index });
      index++;
    }
    if (reply.text) {
      emit("content_block_start", { index, content_block: search ? { type: "text", text: "", citations: [] } : { type: "text", text: "" } });
      frames.push('event: ping\ndata: {"type": "ping"}\n\n');
      if (search) for (const citation of search.citations) emit("content_block_delta", { index, delta: { type: "citations_delta", citation } });
      for (const text of splitText(reply.text, reply.chunks)) emit("content_block_delta", { index, delta: { type: "text_delta", text } });
      emit("content_block_stop", { index });
      index++;
    }
    for (const c of withIds(reply)) {
      emit("content_block_start", { index, content_block: { type: "tool_use", id: c.id, name: c.name, input: {} } });
      emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: "" } });
      for (const partial_json of splitText(c.arguments, reply.chunks)) emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
      emit("content_block_stop", { index });
      index++;
    }
    emit("message_delta", { delta: stopOf(reply), usage: { output_tokens: reply.usage.output, ...(search ? { server_tool_use: { web_search_requests: 1 } } : {}) } });
    emit("message_stop", {});
    return frames;
  },

  malformedBody: '{"id":"msg_broken","type":"message","role":"assistant","content":[{"type":"te',
  malformedFrame: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"oo\n\n',
};

function withIds(reply: ResolvedReply) {
  return reply.toolCalls.map((c) => ({ ...c, id: c.id ?? randomId("toolu_") }));
}

function messageShell(req: RecordedRequest) {
  return { id: randomId("msg_"), type: "message", role: "assistant", model: String(req.body?.model) };
}

function stopOf(reply: ResolvedReply) {
  const stop_reason = reply.finishReason ?? (reply.toolCalls.length > 0 ? "tool_use" : "end_turn");
  const stop_details = stop_reason === "refusal" ? { type: "refusal", category: null, explanation: null } : null;
  return { stop_reason, stop_sequence: null, stop_details };
}

/**
 * The reply's web search as the API returns it (a server_tool_use block, its web_search_tool_result,
 * and the citations of the text that follows), when the request declared the web_search tool.
 */
function searchOf(req: RecordedRequest, reply: ResolvedReply) {
  const declared = Array.isArray(req.body?.tools) && req.body.tools.some((t: { type?: unknown }) => typeof t?.type === "string" && t.type.startsWith("web_search_"));
  if (!reply.search || !declared) return undefined;
  const id = randomId("srvtoolu_");
  const results = reply.search.results.map((r) => ({ type: "web_search_result", url: r.url, title: r.title, encrypted_content: randomId("enc_"), page_age: null }));
  return {
    use: { type: "server_tool_use", id, name: "web_search", input: { query: reply.search.query } },
    result: { type: "web_search_tool_result", tool_use_id: id, content: results },
    citations: results.slice(0, 1).map((r) => ({ type: "web_search_result_location", url: r.url, title: r.title, encrypted_index: randomId("idx_"), cited_text: r.title })),
  };
}

function usageOf(reply: ResolvedReply, outputTokens: number, webSearches = 0) {
  const written = reply.usage.cacheWrite ?? 0;
  const hour = reply.usage.cacheWrite1h ?? 0;
  return {
    input_tokens: reply.usage.input,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: reply.usage.cached ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: written - hour, ephemeral_1h_input_tokens: hour },
    output_tokens: outputTokens,
    server_tool_use: webSearches ? { web_search_requests: webSearches } : null,
    service_tier: "standard",
  };
}

/** Start a fake Anthropic server; give `url` (no /v1) to `new Anthropic({ baseURL })`. */
export function startAnthropicFake(): Promise<FakeServer> {
  return startFakeServer(wire);
}
