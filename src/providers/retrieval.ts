import { createRequire } from "node:module";
import type OpenAI from "openai";
import type { TavilyClient, TavilySearchOptions } from "@tavily/core";
import { normalizeHttpError } from "./http-error.js";
import { sdkLogger } from "./sdk-logger.js";

export interface Source {
  title: string;
  url: string;
  snippet: string;
  publishedAt?: string;
}

export interface RetrievalQuery {
  question: string;
  kind: "web" | "deep" | "finance" | "news";
  maxSources: number;
  recencyDays?: number;
  includeDomains?: string[];
}

export interface RetrievalResult {
  sources: Source[];
  /** Some retrieval providers also write an answer (Perplexity); kept as a fallback. */
  answer?: string;
}

export interface RetrievalAdapter {
  readonly provider: string;
  retrieve(q: RetrievalQuery, signal: AbortSignal): Promise<RetrievalResult>;
}

type TavilySdk = typeof import("@tavily/core");
let tavilySdk: Promise<TavilySdk> | undefined;

/** The SDK takes a few hundred ms to load: only research calls pay, once (not every runtime that builds a registry). */
const loadTavilySdk = (): Promise<TavilySdk> => (tavilySdk ??= import("@tavily/core"));

/** Tavily search: advanced depth for deep research, topics for finance and news. */
export class TavilyAdapter implements RetrievalAdapter {
  readonly provider = "tavily";
  private client: TavilyClient | undefined;

  constructor(private readonly opts: { apiKey: string; baseUrl: string }, private readonly depth: "basic" | "advanced") {}

  async retrieve(q: RetrievalQuery): Promise<RetrievalResult> {
    try {
      const { tavily } = await loadTavilySdk();
      this.client ??= tavily({ apiKey: this.opts.apiKey, apiBaseURL: this.opts.baseUrl });
      const res = await this.client.search(q.question, {
        searchDepth: this.depth,
        topic: q.kind === "finance" ? "finance" : q.kind === "news" ? "news" : "general",
        maxResults: q.maxSources,
        ...(q.includeDomains?.length ? { includeDomains: q.includeDomains } : {}),
        ...(q.recencyDays ? (q.kind === "news" ? { days: q.recencyDays } : { timeRange: q.recencyDays <= 1 ? "day" : q.recencyDays <= 7 ? "week" : q.recencyDays <= 31 ? "month" : "year" }) : {}),
      } as TavilySearchOptions);
      return {
        sources: res.results.slice(0, q.maxSources).map((r) => ({ title: r.title, url: r.url, snippet: r.content.slice(0, 500), ...(r.publishedDate ? { publishedAt: r.publishedDate } : {}) })),
        ...(res.answer ? { answer: res.answer } : {}),
      };
    } catch (err) {
      throw tavilyError(err);
    }
  }
}

/** Tavily's SDK drops the HTTP status; its messages still say what happened. */
export function tavilyError(err: unknown): unknown {
  const e = normalizeHttpError(err) as { status?: number; message?: string };
  if (typeof e?.status === "number") return e;
  const m = String(e?.message ?? err);
  const status = /unauthori[sz]ed|invalid api key|api key|forbidden/i.test(m) ? 401 : /rate limit|too many requests|excessive requests|usage limit|exceeded your|pay-as-you-go limit/i.test(m) ? 429 : undefined;
  return status ? Object.assign(new Error(m), { name: "HttpError", status }) : err;
}

const require = createRequire(import.meta.url);
/** The OpenAI SDK loads with the first Perplexity adapter built, never at start-up. */
const loadOpenAiSdk = (): typeof OpenAI => (require("openai") as typeof import("openai")).default;

type PerplexityResponse = OpenAI.Chat.Completions.ChatCompletion & {
  citations?: string[];
  search_results?: Array<{ title?: string; url: string; date?: string; snippet?: string }>;
};

/** Perplexity's OpenAI-compatible chat, read for its citations and search results. */
export class PerplexityAdapter implements RetrievalAdapter {
  readonly provider = "perplexity";
  private readonly client: OpenAI;

  constructor(opts: { apiKey: string; baseUrl: string }, private readonly model: string) {
    const OpenAISdk = loadOpenAiSdk();
    this.client = new OpenAISdk({ apiKey: opts.apiKey, baseURL: opts.baseUrl, maxRetries: 0, logger: sdkLogger, logLevel: "warn" });
  }

  async retrieve(q: RetrievalQuery, signal: AbortSignal): Promise<RetrievalResult> {
    const recency = !q.recencyDays ? undefined : q.recencyDays <= 1 ? "day" : q.recencyDays <= 7 ? "week" : q.recencyDays <= 31 ? "month" : "year";
    const body = {
      model: this.model,
      messages: [
        { role: "system" as const, content: "Find current, reliable sources for the question and answer briefly with numbered citations." },
        { role: "user" as const, content: q.question },
      ],
      ...(recency ? { search_recency_filter: recency } : {}),
      ...(q.includeDomains?.length ? { search_domain_filter: q.includeDomains } : {}),
    };
    const res = (await this.client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, { signal })) as PerplexityResponse;
    const results = res.search_results?.length
      ? res.search_results.map((r) => ({ title: r.title ?? r.url, url: r.url, snippet: r.snippet ?? "", ...(r.date ? { publishedAt: r.date } : {}) }))
      : (res.citations ?? []).map((url) => ({ title: url, url, snippet: "" }));
    return { sources: results.slice(0, q.maxSources), ...(res.choices[0]?.message.content ? { answer: res.choices[0].message.content } : {}) };
  }
}
