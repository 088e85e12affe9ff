// Wire-faithful fake of OpenAI's POST /v1/chat/completions (JSON and SSE), for the real `openai` SDK.
import {
  contentText,
  randomId,
  splitText,
  startFakeServer,
  type ErrorResponse,
  type FakeServer,
  type ProviderWire,
  type RecordedRequest,
  type ResolvedReply,
  type StatusFault,
} from "./fake-server.js";

export type { FakeReply, FakeServer, Fault, RecordedRequest, Step } from "./fake-server.js";

const CONTEXT_WINDOW = 128000;

function openaiError(status: number, message: string, type: string, code: string | null, param: string | null = null): ErrorResponse {
  return { status, body: { error: { message, type, param, code } } };
}

const STATUS_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid request.", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to sample from this model", type: "invalid_request_error", code: null },
  404: { message: "The model does not exist or you do not have access to it.", type: "invalid_request_error", code: "model_not_found" },
  429: {
    message: "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
    type: "requests",
    code: "rate_limit_exceeded",
  },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

function statusError(f: StatusFault): ErrorResponse {
  const d = STATUS_DEFAULTS[f.status] ?? (f.status >= 500 ? STATUS_DEFAULTS[500]! : STATUS_DEFAULTS[400]!);
  return openaiError(f.status, f.message ?? d.message, f.type ?? d.type, f.code ?? d.code);
}

interface Msg {
  role?: string;
  content?: unknown;
  tool_calls?: Array<{ function?: { arguments?: string } }>;
}
const messagesOf = (body: RecordedRequest["body"]): Msg[] => (Array.isArray(body?.messages) ? body.messages : []);

/** OpenAI's reasoning models (o-series, gpt-5): they take reasoning_effort and refuse a temperature. */
const REASONING_MODEL = /^(o\d|gpt-5)/;
/** Models that take no reasoning_effort. */
const NON_REASONING_MODEL = /^(gpt-4|gpt-3)/;

/** The API's own 400s for parameters a model refuses. */
function validate(req: RecordedRequest): ErrorResponse | undefined {
  const model = String(req.body?.model ?? "");
  const temperature: unknown = req.body?.temperature;
  if (REASONING_MODEL.test(model) && temperature != null && temperature !== 1) {
    return openaiError(400, `Unsupported value: 'temperature' does not support ${String(temperature)} with this model. Only the default (1) value is supported.`, "invalid_request_error", "unsupported_value", "temperature");
  }
  for (const field of ["top_p", "presence_penalty", "frequency_penalty"]) {
    if (REASONING_MODEL.test(model) && req.body?.[field] != null) {
      return openaiError(400, `Unsupported parameter: '${field}' is not supported with this model.`, "invalid_request_error", "unsupported_parameter", field);
    }
  }
  if (NON_REASONING_MODEL.test(model) && req.body?.reasoning_effort != null) {
    return openaiError(400, "Unsupported parameter: 'reasoning_effort' is not supported with this model.", "invalid_request_error", "unsupported_parameter", "reasoning_effort");
  }
  // File parts carry a file id or the file's bytes as a data: URL; a link is refused.
  const messages: Array<{ content?: unknown }> = Array.isArray(req.body?.messages) ? req.body.messages : [];
  for (const [i, m] of messages.entries()) {
    for (const [j, p] of (Array.isArray(m.content) ? m.content : []).entries()) {
      if (p?.type !== "file") continue;
      const data: unknown = p.file?.file_data;
      if (p.file?.file_id === undefined && (typeof data !== "string" || !data.startsWith("data:"))) {
        return openaiError(400, `Invalid value for 'file_data': Expected a base64-encoded data URL with an application/pdf MIME type (e.g. 'data:application/pdf;base64,...').`, "invalid_request_error", "invalid_value", `messages[${i}].content[${j}].file.file_data`);
      }
    }
  }
  // The o-series take low, medium and high only (gpt-5 takes minimal too).
  if (/^o\d/.test(model) && req.body?.reasoning_effort === "minimal") {
    return openaiError(400, "Unsupported value: 'reasoning_effort' does not support 'minimal' with this model. Supported values are: 'low', 'medium', and 'high'.", "invalid_request_error", "unsupported_value", "reasoning_effort");
  }
  return undefined;
}

const wire: ProviderWire = {
  route: "/v1/chat/completions",
  urlSuffix: "/v1",
  requestIdHeader: "x-request-id",

  authenticate(req) {
    const auth = req.headers["authorization"];
    const key = typeof auth === "string" && auth.startsWith("Bearer ") ? auth.slice("Bearer ".length).trim() : "";
    if (!key) {
      return openaiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
        "invalid_api_key",
      );
    }
    if (key === "bad-key") {
      return openaiError(401, `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", "invalid_api_key");
    }
    return undefined;
  },

  validate,
  notFound: (req) => openaiError(404, `Invalid URL (${req.method} ${req.path})`, "invalid_request_error", null),
  statusError,
  contextLengthError: (_req, tokens) =>
    openaiError(
      400,
      `This model's maximum context length is ${CONTEXT_WINDOW} tokens. However, your messages resulted in ${Math.max(tokens, CONTEXT_WINDOW + 1)} tokens. Please reduce the length of the messages.`,
      "invalid_request_error",
      "context_length_exceeded",
      "messages",
    ),
  contentFilterReply: { text: "", finishReason: "content_filter" },

  promptText: (body) =>
    messagesOf(body)
      .map((m) => contentText(m.content) + (m.tool_calls ?? []).map((c) => c.function?.arguments ?? "").join(""))
      .join(""),
  lastUserText: (body) => contentText(messagesOf(body).filter((m) => m.role === "user").at(-1)?.content),

  complete(req, reply) {
    const calls = withIds(reply);
    return {
      id: randomId("chatcmpl-"),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: String(req.body?.model),
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: reply.text === "" && calls.length > 0 ? null : reply.text,
            refusal: null,
            annotations: [],
            ...(calls.length > 0
              ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReason(reply),
        },
      ],
      usage: usageOf(reply),
      service_tier: "default",
      system_fingerprint: "fp_fake",
    };
  },

  streamFrames(req, reply) {
    const includeUsage = req.body?.stream_options?.include_usage === true;
    const base = {
      id: randomId("chatcmpl-"),
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: String(req.body?.model),
      service_tier: "default",
      system_fingerprint: "fp_fake",
    };
    const chunk = (delta: object, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const chunks: object[] = [chunk({ role: "assistant", content: "", refusal: null })];
    for (const piece of splitText(reply.text, reply.chunks)) chunks.push(chunk({ content: piece }));
    withIds(reply).forEach((c, index) => {
      chunks.push(chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
      for (const piece of splitText(c.arguments, reply.chunks)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    chunks.push(chunk({}, finishReason(reply)));
    if (includeUsage) chunks.push({ ...base, choices: [], usage: usageOf(reply) });
    return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
  },

  malformedBody: '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist',
  malformedFrame: 'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"delta":{"content":"oops\n\n',
};

function withIds(reply: ResolvedReply) {
  return reply.toolCalls.map((c) => ({ ...c, id: c.id ?? randomId("call_") }));
}

function finishReason(reply: ResolvedReply): string {
  return reply.finishReason ?? (reply.toolCalls.length > 0 ? "tool_calls" : "stop");
}

function usageOf(reply: ResolvedReply) {
  const { input, output, cached } = reply.usage;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Start a fake OpenAI server; give `url` (ends in /v1) to `new OpenAI({ baseURL })`. */
export function startOpenAIFake(): Promise<FakeServer> {
  return startFakeServer(wire);
}
