// Wire-faithful fake of Perplexity's POST /chat/completions (served at the root, no /v1), for the
// real `openai` SDK: `new OpenAI({ apiKey, baseURL: fake.url })`. Replies carry Perplexity's extras
// (`citations`, `search_results`) next to the OpenAI-shaped fields; the SDK passes them through.
import { randomUUID } from "node:crypto";
import { contentText, estimateTokens, splitText } from "./fake-server.js";
import {
  bearerToken,
  slugify,
  startServiceFake,
  type ErrorReply,
  type ServiceFake,
  type ServiceFault,
  type ServiceStatusFault,
} from "./service-fake.js";

export type { ServiceFake, ServiceFault, ServiceRequest } from "./service-fake.js";

export interface PerplexitySearchResult {
  title: string;
  url: string;
  date?: string | null;
  last_updated?: string | null;
  snippet?: string;
}

export interface PerplexityReply {
  text?: string;
  citations?: string[];
  /** Defaults to one entry per citation. */
  searchResults?: PerplexitySearchResult[];
  finishReason?: string;
  /** Stream the text in this many pieces (default 4). */
  chunks?: number;
}

export type PerplexityStep = { fault: ServiceFault } | PerplexityReply;

export type PerplexityFake = ServiceFake<PerplexityStep>;

// A missing or invalid key is rejected by Perplexity's openresty front door with an HTML page, not
// JSON: the openai SDK raises AuthenticationError whose message is that HTML.
const UNAUTHORIZED_HTML =
  "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>openresty/1.27.4</center>\r\n</body>\r\n</html>\r\n";

const pplxError = (status: number, message: string, type: string): ErrorReply => ({ status, body: { error: { message, type, code: status } } });

const STATUS_DEFAULTS: Record<number, { message: string; type: string }> = {
  400: { message: "Invalid request.", type: "bad_request" },
  429: { message: "Rate limit exceeded. Please try again later.", type: "rate_limit_exceeded" },
  500: { message: "Internal server error.", type: "internal_server_error" },
  503: { message: "Service temporarily unavailable.", type: "service_unavailable" },
};

function statusError(f: ServiceStatusFault): ErrorReply {
  if (f.status === 401 && f.message === undefined) return { status: 401, body: UNAUTHORIZED_HTML, contentType: "text/html" };
  const d = STATUS_DEFAULTS[f.status] ?? (f.status >= 500 ? STATUS_DEFAULTS[500]! : STATUS_DEFAULTS[400]!);
  return pplxError(f.status, f.message ?? d.message, d.type);
}

interface Msg {
  role?: string;
  content?: unknown;
}

function defaultReply(question: string): Required<Pick<PerplexityReply, "text" | "citations">> {
  const slug = slugify(question);
  return {
    text: `Here is what the web says about "${question.slice(0, 60)}" [1]. A second source agrees [2].`,
    citations: [`https://example.org/${slug}-1`, `https://example.com/${slug}-2`],
  };
}

function searchResultsFor(citations: string[]): PerplexitySearchResult[] {
  return citations.map((url, i) => ({
    title: `Source ${i + 1}: ${new URL(url).hostname}`,
    url,
    date: "2025-06-02",
    last_updated: "2025-06-03",
    snippet: `Snippet from source ${i + 1}.`,
  }));
}

/** Start a fake Perplexity server; give `url` (no /v1) to `new OpenAI({ baseURL: url })`. */
export function startPerplexityFake(): Promise<PerplexityFake> {
  return startServiceFake<PerplexityStep>({
    urlSuffix: "",
    handle(ex) {
      const { rec } = ex;
      if (rec.method !== "POST" || rec.path !== "/chat/completions") return ex.error(pplxError(404, "Not Found", "not_found"));
      const key = bearerToken(rec.headers);
      if (!key || key === "bad-key") return ex.error({ status: 401, body: UNAUTHORIZED_HTML, contentType: "text/html" });

      const step = ex.take();
      if (step && "fault" in step) return ex.fault(step.fault, statusError);

      const body = rec.body ?? {};
      const messages: Msg[] = Array.isArray(body.messages) ? body.messages : [];
      const question = contentText(messages.filter((m) => m.role === "user").at(-1)?.content);
      const fallback = defaultReply(question);
      const text = step?.text ?? fallback.text;
      const citations = step?.citations ?? (step?.text !== undefined ? [] : fallback.citations);
      const search_results = step?.searchResults ?? searchResultsFor(citations);
      const model = typeof body.model === "string" ? body.model : "sonar";
      const promptTokens = estimateTokens(messages.map((m) => contentText(m.content)).join("").length);
      const usageFor = (completion: number) => ({
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        total_tokens: promptTokens + completion,
        search_context_size: "low",
        cost: { input_tokens_cost: 0, output_tokens_cost: 0, request_cost: 0.005, total_cost: 0.005 },
      });
      const base = { id: randomUUID(), model, created: Math.floor(Date.now() / 1000) };
      const finish = step?.finishReason ?? "stop";

      if (body.stream !== true) {
        return ex.json(200, {
          ...base,
          usage: usageFor(estimateTokens(text.length)),
          citations,
          search_results,
          object: "chat.completion",
          choices: [{ index: 0, finish_reason: finish, message: { role: "assistant", content: text } }],
        });
      }

      // Perplexity streams one JSON object per event: every chunk repeats citations, search_results and
      // the cumulative usage; `message` holds the text so far and `delta` the new piece. No [DONE].
      const pieces = text ? splitText(text, step?.chunks ?? 4) : [""];
      let soFar = "";
      const frames = pieces.map((piece, i) => {
        soFar += piece;
        const last = i === pieces.length - 1;
        const chunk = {
          ...base,
          usage: usageFor(estimateTokens(soFar.length)),
          citations,
          search_results,
          object: "chat.completion",
          choices: [
            {
              index: 0,
              finish_reason: last ? finish : null,
              message: { role: "assistant", content: soFar },
              delta: { role: "assistant", content: piece },
            },
          ],
        };
        return `data: ${JSON.stringify(chunk)}\r\n\r\n`;
      });
      ex.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
      for (const f of frames) ex.res.write(f);
      ex.res.end();
    },
  });
}
