import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { modelName, providerOf } from "../config/catalog.js";
import { PerplexityAdapter, TavilyAdapter, type RetrievalAdapter, type RetrievalQuery, type RetrievalResult, type Source } from "../providers/retrieval.js";
import type { Attempt } from "../resilience/failover.js";
import { SwitchboardError } from "../errors.js";
import type { Decision } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { callLlm, llmAvailable } from "./llm-pipeline.js";
import { jobDecision, runServiceChain } from "./service-chain.js";
export interface ResearchArgs {
  question: string;
  kind: RetrievalQuery["kind"];
  maxSources?: number;
  recencyDays?: number;
  includeDomains?: string[];
  tenant?: string;
  user?: string;
  requestId?: string;
}

export interface ResearchOutcome {
  answer: string;
  citations: Array<{ n: number; title: string; url: string; snippet: string; publishedAt?: string }>;
  note?: string;
  retrievalProvider: string;
  synthesisModel?: string;
  decision: Decision;
  attempts: Attempt[];
  costUsd: number;
}

function retrievalAdapter(runtime: Runtime, id: string): RetrievalAdapter {
  const creds = runtime.providers.credentials(providerOf(id))!;
  const opts = { apiKey: creds.key, baseUrl: creds.baseUrl };
  if (providerOf(id) === "tavily") return new TavilyAdapter(opts, modelName(id) === "basic" ? "basic" : "advanced");
  if (providerOf(id) === "perplexity") return new PerplexityAdapter(opts, modelName(id));
  throw new SwitchboardError({ code: "invalid_request", message: `${id} is not a retrieval service`, hint: "jobs.retrieval chains may name perplexity:* and tavily:* services.", retryable: false });
}

const SYSTEM =
  "You are a research analyst. Answer the question using only the numbered sources given. Cite every claim with the " +
  "source number in brackets, like [2]. If the sources disagree or do not cover something, say so. Be concise and factual.";

/** Retrieval (with failover between providers), then synthesis by the routed LLM with numbered citations. */
export async function research(runtime: Runtime, server: McpServer, args: ResearchArgs, ctx: { signal: AbortSignal; progress: (n: number, message: string) => void }): Promise<ResearchOutcome> {
  const settings = runtime.config.jobSettings.retrieval;
  const retrievalDecision = jobDecision(
    runtime,
    { prompt: args.question, mode: "research_analyst", ...(args.tenant ? { tenant: args.tenant } : {}), ...(args.requestId ? { requestId: args.requestId } : {}) },
    "retrieval",
    args.kind,
  );
  const q: RetrievalQuery = {
    question: args.question,
    kind: args.kind,
    maxSources: Math.min(args.maxSources ?? settings.maxSources, 20),
    ...(args.recencyDays ? { recencyDays: args.recencyDays } : {}),
    ...(args.includeDomains?.length ? { includeDomains: args.includeDomains } : {}),
  };
  ctx.progress(0, "searching");
  const found = await runServiceChain<RetrievalResult>(runtime, retrievalDecision, {
    timeoutMs: settings.timeoutMs,
    signal: ctx.signal,
    call: (id, signal) => {
      ctx.progress(0, `searching with ${id}`);
      return retrievalAdapter(runtime, id).retrieve(q, signal);
    },
  });
  const sources = dedupe(found.result.sources).slice(0, q.maxSources);
  const citations = sources.map((s, i) => ({ n: i + 1, title: s.title, url: s.url, snippet: s.snippet, ...(s.publishedAt ? { publishedAt: s.publishedAt } : {}) }));
  let cost = retrievalCost(runtime, found.model);

  // Synthesis runs on the LLM the router picks for the question itself.
  const decision = runtime.route({ prompt: args.question, mode: "research_analyst", ...(args.tenant ? { tenant: args.tenant } : {}), ...(args.user ? { user: args.user } : {}), requestId: retrievalDecision.requestId });
  const base = { citations, retrievalProvider: found.model, decision, attempts: found.attempts };
  if (!sources.length) {
    return { ...base, answer: found.result.answer ?? "", note: "the search returned no sources", costUsd: round(cost) };
  }
  if (!llmAvailable(runtime, server, decision)) {
    return {
      ...base,
      answer: found.result.answer ?? "",
      note: `no LLM is available to synthesize an answer (set ${llmKeyHint(runtime)} or use a client that supports sampling); the sources are returned as found${found.result.answer ? ", with the search provider's own summary" : ""}`,
      costUsd: round(cost),
    };
  }
  ctx.progress(sources.length, "synthesizing");
  const numbered = citations.map((c) => `[${c.n}] ${c.title} (${c.url})${c.publishedAt ? `, ${c.publishedAt}` : ""}\n${c.snippet}`).join("\n\n");
  const llm = await callLlm(
    runtime,
    server,
    decision,
    { system: SYSTEM, messages: [{ role: "user", content: `Question: ${args.question}\n\nSources:\n${numbered}` }], maxOutputTokens: 1500 },
    { signal: ctx.signal },
  );
  cost += llm.costUsd;
  return { ...base, answer: llm.result.text, synthesisModel: llm.model, attempts: [...found.attempts, ...llm.attempts], costUsd: round(cost) };
}

function dedupe(sources: Source[]): Source[] {
  const seen = new Set<string>();
  return sources.filter((s) => {
    const key = s.url.replace(/[#?].*$/, "").replace(/\/$/, "");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function retrievalCost(runtime: Runtime, id: string): number {
  const p = runtime.config.services[id]?.price;
  return p?.perRequest ?? 0;
}

function llmKeyHint(runtime: Runtime): string {
  return ["openai", "anthropic", "openrouter"].map((p) => runtime.providers.keyEnv(p)).filter(Boolean).join(" or ");
}

const round = (n: number) => Math.round(n * 1e8) / 1e8;
