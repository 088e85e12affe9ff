import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

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
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(abortReason(signal));
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    let answer: IncomingMessage | undefined;
    // One listener for the whole exchange rather than http.request's `signal` option, which wires
    // an end-of-stream watcher into every request. Before the answer, an abort fails the request;
    // after it began, it ends the body with the abort's reason, as fetch does (the SDKs tell a
    // cancelled stream from a broken one by that), not with a reset socket.
    const abort = () => (answer ?? req).destroy(abortReason(signal!));
    const req = request(url, { method: init.method ?? "GET", headers: headersOf(init.headers), agent: url.protocol === "https:" ? agents.https : agents.http }, (res) => {
      answer = res;
      const status = res.statusCode ?? 0;
      const meta = { status, statusText: res.statusMessage ?? "", headers: responseHeaders(res) };
      if (NO_BODY.has(status)) {
        res.resume();
        return resolve(new Response(null, meta));
      }
      if ((res.headers["content-type"] ?? "").startsWith("text/event-stream")) return resolve(new Response(webStream(res), meta));
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.once("end", () => resolve(new Response(Buffer.concat(parts), meta)));
      res.once("error", reject);
    });
    if (signal) {
      signal.addEventListener("abort", abort, { once: true });
      const off = () => signal.removeEventListener("abort", abort);
      req.once("close", () => (answer && !answer.closed ? answer.once("close", off) : off()));
    }
    req.once("error", reject);
    req.end(body ?? undefined);
  });
}

/**
 * A streamed answer's body as a web stream, read as it arrives and paused while the reader is
 * behind. `Readable.toWeb` does the same through a general adapter that costs about 0.1 ms more
 * before the first piece reaches the SDK's event parser, on the path of every first token.
 */
function webStream(res: IncomingMessage): ReadableStream<Uint8Array> {
  // Once closed, errored or cancelled, a late event must not touch the controller (it throws).
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on("data", (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      const settle = (err?: Error) => {
        if (!open) return;
        open = false;
        if (err) controller.error(err);
        else controller.close();
      };
      res.once("end", () => settle());
      res.once("error", settle);
      // Closed without an end or an error (the connection went away mid-answer): a cut, not a finish.
      res.once("close", () => res.complete || settle(new Error("the connection closed before the answer ended")));
    },
    pull() {
      res.resume();
    },
    cancel() {
      open = false;
      res.destroy();
    },
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
