import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

/**
 * The `fetch` the LLM SDKs are given: Node's own HTTP client with keep-alive pools, for the JSON
 * requests every chat call makes. The global fetch (undici behind WHATWG streams) costs about
 * 0.2 ms more CPU per call on a 2-core host than this does, on the hot path of every request a
 * gateway relays. Anything but a plain text body (multipart uploads, streams) goes to the global
 * fetch. Answers are handed back as standard Responses: buffered whole, or as a stream when the
 * provider streams (server-sent events), so the SDKs parse them as they always do.
 */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
/** Statuses whose Response may not carry a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

export function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : undefined;
  const body = init.body;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || (body != null && typeof body !== "string") || init.redirect === "manual") {
    return fetch(input, init);
  }
  return new Promise<Response>((resolve, reject) => {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, { method: init.method ?? "GET", headers: headersOf(init.headers), agent: url.protocol === "https:" ? agents.https : agents.http, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      // After the answer began, an abort must end its body with the abort's reason, as fetch does
      // (the SDKs tell a cancelled stream from a broken one by that), not with a reset socket.
      const signal = init.signal;
      if (signal) {
        const cut = () => res.destroy(abortReason(signal));
        signal.addEventListener("abort", cut, { once: true });
        res.once("close", () => signal.removeEventListener("abort", cut));
      }
      const status = res.statusCode ?? 0;
      const headers = responseHeaders(res);
      const meta = { status, statusText: res.statusMessage ?? "", headers };
      if (NO_BODY.has(status)) {
        res.resume();
        return resolve(new Response(null, meta));
      }
      if ((res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        return resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, meta));
      }
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.once("end", () => resolve(new Response(Buffer.concat(parts), meta)));
      res.once("error", reject);
    });
    req.once("error", reject);
    req.end(body ?? undefined);
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("This operation was aborted", "AbortError");
}

function headersOf(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers || Array.isArray(h)) for (const [k, v] of h) out[k] = v;
  else Object.assign(out, h);
  return out;
}

function responseHeaders(res: IncomingMessage): Headers {
  const h = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
  return h;
}
