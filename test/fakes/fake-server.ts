// Shared plumbing for the wire-faithful provider fakes: an ephemeral node:http server that records
// every request, then answers it from a queue of scripted steps (replies or faults) or a default reply.
// The provider files (openai-fake.ts, anthropic-fake.ts) only supply the wire format.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { listenLoopback } from "./loopback.js";

export interface FakeReply {
  text?: string;
  toolCalls?: Array<{ id?: string; name: string; arguments: string /* JSON text */ }>;
  /** Provider-native: openai 'stop'|'length'|'tool_calls'|'content_filter'; anthropic 'end_turn'|'max_tokens'|'tool_use'|'refusal'. */
  finishReason?: string;
  /**
   * Sent verbatim in the provider's own terms (openai prompt_tokens includes cached; anthropic
   * input_tokens excludes cache reads and writes). cacheWrite: anthropic's cache_creation_input_tokens.
   */
  usage?: FakeUsage;
  /** Reasoning blocks before the answer (anthropic only); a thinking block's signature defaults to the fake's own. */
  thinking?: FakeThinking[];
  /** Wait this long before sending the response headers. */
  delayMs?: number;
  /** Stream the text in this many pieces (default 4). */
  chunks?: number;
  /**
   * A web search the model runs before its text (anthropic only, and only when the request
   * declares a web_search server tool, as the API runs none it was not given).
   */
  search?: FakeSearch;
}

export interface FakeSearch {
  query: string;
  results: Array<{ url: string; title: string }>;
}

export interface FakeUsage {
  input: number;
  output: number;
  cached?: number;
  cacheWrite?: number;
  /** Of cacheWrite, the tokens cached for an hour (anthropic's cache_creation.ephemeral_1h_input_tokens). */
  cacheWrite1h?: number;
}

export type FakeThinking = { thinking: string; signature?: string } | { redacted: string };

export type Fault =
  | { kind: "status"; status: number; retryAfter?: number; message?: string; code?: string; type?: string }
  | { kind: "hang" }
  | { kind: "reset" }
  | { kind: "malformed" }
  | { kind: "stream-cut"; afterChunks: number }
  | { kind: "context-length" }
  | { kind: "content-filter" };

export type StatusFault = Extract<Fault, { kind: "status" }>;

export interface Step {
  /** Only requests for this model consume the step. */
  model?: string;
  fault?: Fault;
  reply?: FakeReply;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of arbitrary shape
  body: any;
  receivedAt: number;
}

export interface FakeServer {
  /** Base URL for the SDK: openai "http://127.0.0.1:PORT/v1", anthropic "http://127.0.0.1:PORT". */
  url: string;
  requests: RecordedRequest[];
  enqueue(...steps: Step[]): void;
  setDefault(reply: FakeReply | ((req: RecordedRequest) => FakeReply)): void;
  /** Clear the queue, the recorded requests and the default reply. */
  reset(): void;
  /** Resolves once at least `count` requests have been recorded (counting since the last reset). */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void>;
}

/** A reply with every default filled in, handed to the provider's wire encoder. */
export interface ResolvedReply {
  text: string;
  toolCalls: Array<{ id?: string; name: string; arguments: string }>;
  finishReason?: string;
  usage: FakeUsage;
  thinking: FakeThinking[];
  chunks: number;
  search?: FakeSearch;
}

export interface ErrorResponse {
  status: number;
  body: unknown;
}

/** What a provider plugs into the shared server. */
export interface ProviderWire {
  /** The one route served, e.g. "/v1/chat/completions". */
  route: string;
  /** Appended to "http://127.0.0.1:PORT" to form FakeServer.url. */
  urlSuffix: string;
  /** Response header carrying the request id ("x-request-id" / "request-id"). */
  requestIdHeader: string;
  /** An error response when the request lacks valid credentials or required headers. */
  authenticate(req: RecordedRequest): ErrorResponse | undefined;
  /** The provider's own 400 for a body it refuses (checked before a scripted step is taken). */
  validate?(req: RecordedRequest): ErrorResponse | undefined;
  notFound(req: RecordedRequest): ErrorResponse;
  statusError(fault: StatusFault): ErrorResponse;
  contextLengthError(req: RecordedRequest, promptTokens: number): ErrorResponse;
  /** The reply standing in for a safety refusal. */
  contentFilterReply: FakeReply;
  /** All prompt text of a request body (for token estimates). */
  promptText(body: RecordedRequest["body"]): string;
  /** Text of the last user message (for the default reply). */
  lastUserText(body: RecordedRequest["body"]): string;
  /** The full non-streaming JSON body. */
  complete(req: RecordedRequest, reply: ResolvedReply): unknown;
  /** The complete list of SSE frames ("...\n\n" each), terminator included. */
  streamFrames(req: RecordedRequest, reply: ResolvedReply): string[];
  /** A 200 JSON body that does not parse. */
  malformedBody: string;
  /** An SSE frame whose data line does not parse. */
  malformedFrame: string;
}

export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString("hex");
}

/** Text of a message `content`: a string, or an array of parts whose `text` fields are joined. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (p && typeof p === "object" && typeof p.text === "string" ? p.text : "")).join("");
}

/** Split `s` into at most `n` contiguous, non-empty pieces of near-equal length. */
export function splitText(s: string, n: number): string[] {
  const count = Math.max(1, Math.min(Math.floor(n), s.length));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const piece = s.slice(Math.floor((i * s.length) / count), Math.floor(((i + 1) * s.length) / count));
    if (piece) out.push(piece);
  }
  return out;
}

export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

export async function startFakeServer(wire: ProviderWire): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let queue: Step[] = [];
  let fallback: FakeReply | ((req: RecordedRequest) => FakeReply) | undefined;
  let waiters: Array<{ count: number; resolve: (r: RecordedRequest[]) => void }> = [];
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const record = (req: RecordedRequest) => {
    requests.push(req);
    waiters = waiters.filter((w) => (requests.length >= w.count ? (w.resolve([...requests]), false) : true));
  };

  const takeStep = (model: unknown): Step | undefined => {
    const i = queue.findIndex((s) => s.model === undefined || s.model === model);
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };

  const resolveReply = (req: RecordedRequest, reply: FakeReply): ResolvedReply => {
    const text = reply.text ?? "";
    const toolCalls = reply.toolCalls ?? [];
    const outChars = text.length + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
    return {
      text,
      toolCalls,
      finishReason: reply.finishReason,
      usage: reply.usage ?? { input: estimateTokens(wire.promptText(req.body).length), output: estimateTokens(outChars) },
      thinking: reply.thinking ?? [],
      chunks: reply.chunks ?? 4,
      ...(reply.search ? { search: reply.search } : {}),
    };
  };

  const defaultReply = (req: RecordedRequest): FakeReply => {
    if (typeof fallback === "function") return fallback(req);
    if (fallback) return fallback;
    return { text: `fake answer from ${String(req.body?.model)}: ${wire.lastUserText(req.body).slice(0, 40)}` };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const rec: RecordedRequest = { method: req.method ?? "GET", path, headers: { ...req.headers }, body, receivedAt: Date.now() };
    record(rec);

    res.setHeader(wire.requestIdHeader, randomId("req_"));
    const sendJson = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      const data = typeof payload === "string" ? payload : JSON.stringify(payload);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers });
      res.end(data);
    };
    const sendError = (e: ErrorResponse, headers?: Record<string, string>) => sendJson(e.status, e.body, headers);

    if (req.method !== "POST" || path !== wire.route) return sendError(wire.notFound(rec));
    const authError = wire.authenticate(rec);
    if (authError) return sendError(authError);
    const invalid = wire.validate?.(rec);
    if (invalid) return sendError(invalid);

    const step = takeStep(rec.body?.model);
    const fault = step?.fault;
    const streaming = rec.body?.stream === true;

    switch (fault?.kind) {
      case "hang":
        return; // never answer: close() or the client's abort ends the socket
      case "reset":
        req.socket.destroy();
        return;
      case "status":
        return sendError(wire.statusError(fault), fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) });
      case "context-length":
        return sendError(wire.contextLengthError(rec, estimateTokens(wire.promptText(rec.body).length)));
    }

    const reply = fault?.kind === "content-filter" ? wire.contentFilterReply : (step?.reply ?? defaultReply(rec));
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    const resolved = resolveReply(rec, reply);

    if (!streaming) {
      return sendJson(200, fault?.kind === "malformed" ? wire.malformedBody : wire.complete(rec, resolved));
    }

    let frames = wire.streamFrames(rec, resolved);
    if (fault?.kind === "malformed") frames = [...frames.slice(0, 1), wire.malformedFrame];
    const cutAfter = fault?.kind === "stream-cut" ? fault.afterChunks : undefined;
    if (cutAfter !== undefined) frames = frames.slice(0, cutAfter);

    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    if (cutAfter === undefined) {
      for (const frame of frames) res.write(frame);
      return void res.end();
    }
    // Let the frames reach the client, then drop the connection without ending the chunked body.
    const socket = res.socket;
    const cut = () => socket?.destroy();
    const last = frames.pop();
    for (const frame of frames) res.write(frame);
    if (last === undefined) socket?.write("", cut);
    else res.write(last, cut);
  }

  const server = await listenLoopback(handle);

  return {
    url: `${server.origin}${wire.urlSuffix}`,
    requests,
    enqueue: (...steps) => void queue.push(...steps),
    setDefault: (reply) => void (fallback = reply),
    reset: () => {
      queue = [];
      requests.length = 0;
      fallback = undefined;
    },
    waitForRequests: (count) =>
      requests.length >= count ? Promise.resolve([...requests]) : new Promise((resolve) => waiters.push({ count, resolve })),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await server.close();
    },
  };
}
