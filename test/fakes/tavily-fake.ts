// Wire-faithful fake of Tavily's POST /search, for the real `@tavily/core` SDK
// (`tavily({ apiKey, apiBaseURL: fake.url })`).
import { randomUUID } from "node:crypto";
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

export interface TavilyResultInput {
  title: string;
  url: string;
  content: string;
  /** Defaults to a descending score (0.9, 0.8, ...). */
  score?: number;
  published_date?: string;
  raw_content?: string | null;
  favicon?: string;
}

export type TavilyStep =
  | { fault: ServiceFault }
  /** Served verbatim (missing scores filled in); `answer` is returned even without include_answer. */
  | { results: TavilyResultInput[]; answer?: string };

export type TavilyFake = ServiceFake<TavilyStep>;

/** Tavily wraps every error as FastAPI's `{ detail: { error } }`; the SDK throws `new Error(detail.error)`. */
const tavilyError = (status: number, message: string): ErrorReply => ({ status, body: { detail: { error: message } } });

const TAVILY_STATUS_MESSAGES: Record<number, string> = {
  400: "Invalid request.",
  401: "Unauthorized: missing or invalid API key.",
  403: "Forbidden.",
  429: "Your request has been blocked due to excessive requests. Please reduce rate of requests.",
  432: "This request exceeds your plan's set usage limit. Please upgrade your plan or contact support@tavily.com",
  433: "This request exceeds the pay-as-you-go limit. You can increase your limit on the Tavily dashboard.",
  500: "Internal Server Error",
};

const tavilyStatusError = (f: ServiceStatusFault): ErrorReply =>
  tavilyError(f.status, f.message ?? TAVILY_STATUS_MESSAGES[f.status] ?? (f.status >= 500 ? "Internal Server Error" : "Invalid request."));

const NEWS_DATE = "Mon, 02 Jun 2025 10:00:00 GMT";

function defaultTavilyResults(body: Record<string, unknown>): TavilyResultInput[] {
  const query = String(body.query);
  const slug = slugify(query);
  const count = typeof body.max_results === "number" ? Math.max(0, Math.min(20, Math.floor(body.max_results))) : 3;
  const domains = Array.isArray(body.include_domains) && body.include_domains.length > 0 ? body.include_domains.map(String) : ["example.org"];
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    return {
      title: `${query} — result ${n}`,
      url: `https://${domains[i % domains.length]}/${slug}-${n}`,
      content: `Snippet ${n} about ${query}: deterministic fake content for tests.`,
    };
  });
}

/** Start a fake Tavily server; give `url` to `tavily({ apiKey, apiBaseURL: url })`. */
export function startTavilyFake(): Promise<TavilyFake> {
  return startServiceFake<TavilyStep>({
    urlSuffix: "",
    handle(ex) {
      const { rec } = ex;
      if (rec.path !== "/search") return ex.json(404, { detail: "Not Found" });
      if (rec.method !== "POST") return ex.json(405, { detail: "Method Not Allowed" });

      const body: Record<string, unknown> = rec.body && typeof rec.body === "object" ? rec.body : {};
      const key = bearerToken(rec.headers) || (typeof body.api_key === "string" ? body.api_key : "");
      if (!key || key === "bad-key") return ex.error(tavilyError(401, TAVILY_STATUS_MESSAGES[401]!));
      if (typeof body.query !== "string" || body.query === "") return ex.error(tavilyError(400, "Query is missing."));

      const step = ex.take();
      if (step && "fault" in step) return ex.fault(step.fault, tavilyStatusError);

      const depth = body.search_depth === "advanced" ? "advanced" : "basic";
      const news = body.topic === "news";
      const source = step?.results ?? defaultTavilyResults(body);
      const results = source.map((r, i) => ({
        url: r.url,
        title: r.title,
        content: r.content,
        score: r.score ?? Math.round((0.9 - i * 0.1) * 1000) / 1000,
        raw_content: r.raw_content !== undefined ? r.raw_content : body.include_raw_content ? `# ${r.title}\n\n${r.content}` : null,
        ...(r.published_date !== undefined ? { published_date: r.published_date } : news ? { published_date: NEWS_DATE } : {}),
        ...(r.favicon !== undefined ? { favicon: r.favicon } : body.include_favicon ? { favicon: `${new URL(r.url).origin}/favicon.ico` } : {}),
      }));
      const answer = step?.answer ?? (body.include_answer ? `Fake answer for "${body.query}" drawn from ${results.length} results.` : null);
      ex.json(200, {
        query: body.query,
        follow_up_questions: null,
        answer,
        images: [],
        results,
        response_time: 0.42,
        request_id: randomUUID(),
        ...(body.include_usage ? { usage: { credits: depth === "advanced" ? 2 : 1 } } : {}),
      });
    },
  });
}
