import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenTable } from "../../auth.js";
import { invalidRequest, SwitchboardError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import { messagesApi } from "./anthropic-routes.js";
import { sendError } from "./common.js";
import { chatApi, responsesApi } from "./openai-routes.js";
import { refusedWithoutToken, serveLlm, type CompatApi } from "./serve-llm.js";

/** The LLM requests of the compatible APIs, by path (a query such as Claude Code's `?beta=true` is ignored). */
const LANES = new Map<string, CompatApi<never>>([
  ["/v1/chat/completions", chatApi as CompatApi<never>],
  ["/v1/messages", messagesApi as CompatApi<never>],
  ["/v1/responses", responsesApi as CompatApi<never>],
]);

export interface FastLaneOptions {
  runtime: Runtime;
  tokens: TokenTable;
  log: Logger;
  /** Whether a Host header names this server (the same check Express's guard makes). */
  hostAllowed(host: string | undefined): boolean;
  maxBodyBytes(): number;
  bodyTimeoutMs(): number;
}

/**
 * Serves the compatible APIs' LLM requests straight from Node's HTTP server, not through
 * Express: its router, body parser and response helpers cost about 0.35 ms of CPU per request
 * on a 2-core host, a large share of what a gateway may add to a call. Only the plain case comes
 * here: a POST to a known path, for an allowed Host, without an Origin. Browsers (which need
 * CORS answers) and everything else return false and go through Express and its guards.
 */
export function compatFastLane(opts: FastLaneOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { runtime, tokens, log } = opts;
  return (req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/v1/")) return false;
    const q = req.url.indexOf("?");
    const api = LANES.get(q < 0 ? req.url : req.url.slice(0, q));
    if (!api || req.headers.origin !== undefined || !opts.hostAllowed(req.headers.host)) return false;
    if (refusedWithoutToken(api, runtime, tokens, req, res, log)) return true;
    readJson(req, opts.maxBodyBytes(), opts.bodyTimeoutMs()).then(
      (body) => serveLlm(api, runtime, tokens, req, body, res, log),
      (refused: BodyRefused) => {
        // The rest of the body was never read: this connection cannot carry another request.
        res.setHeader("Connection", "close");
        res.once("finish", () => req.socket.destroy());
        sendError(res, refused.error, api.errorShape, {}, refused.status);
      },
    );
    return true;
  };
}

/** A body refused before it was parsed, with the HTTP status to answer. */
class BodyRefused extends Error {
  constructor(
    readonly status: number,
    readonly error: SwitchboardError,
  ) {
    super(error.body.message);
  }
}

/**
 * The request body as JSON (an empty body is `{}`, as Express's parser gives), within `maxBytes`
 * and, once the headers are in, within `timeoutMs` (a client that trickles its body is cut off).
 */
function readJson(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<unknown> {
  const tooLarge = () =>
    new BodyRefused(413, invalidRequest(`request body over ${maxBytes} bytes`, "send a smaller request, or raise http.maxLlmBodyBytes.", { field: "body" }));
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > maxBytes) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: BodyRefused) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) return reject(err);
      const text = Buffer.concat(chunks, size).toString("utf8");
      try {
        resolve(text.trim() === "" ? {} : JSON.parse(text));
      } catch (e) {
        reject(new BodyRefused(400, invalidRequest(`request body is not valid JSON: ${(e as Error).message}`, "send the request as one JSON object.", { field: "body" })));
      }
    };
    const slow = () =>
      new BodyRefused(
        408,
        new SwitchboardError({ code: "invalid_request", message: `request body not received within ${timeoutMs} ms`, hint: "send the whole body at once, or raise http.bodyTimeoutMs.", retryable: true }),
      );
    const timer = timeoutMs > 0 ? setTimeout(() => finish(slow()), timeoutMs) : undefined;
    timer?.unref();
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) return finish(tooLarge());
      chunks.push(c);
    });
    req.once("end", () => finish());
    req.once("error", () => finish(new BodyRefused(400, invalidRequest("the request body could not be read", "send the request again."))));
  });
}
