import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RetrievalAdapter, RetrievalQuery, RetrievalResult, Source } from "../providers/retrieval.js";
import { providerOf } from "../config/catalog.js";
import { SwitchboardError } from "../errors.js";
import type { Decision, RouteInput } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { llmAvailable } from "./llm-call.js";
import { runLlmPipeline } from "./llm-pipeline.js";
import type { Served } from "./served.js";
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

/** Served by the synthesis model when one answered, else by the retrieval service alone. */
export interface ResearchOutcome extends Served {
  answer: string;
  citations: Array<{ n: number; title: string; url: string; snippet: string; publishedAt?: string }>;
  note?: string;
  retrievalProvider: string;
  synthesisModel?: string;
}

function retrievalAdapter(runtime: Runtime, id: string): RetrievalAdapter {
  const adapter = runtime.providers.retrieval(id);
  if (adapter) return adapter;
  throw new SwitchboardError({ code: "invalid_request", message: `${id} is not a retrieval service`, hint: "jobs.retrieval chains may name perplexity:* and tavily:* services.", retryable: false });
}

const SYSTEM =
  "You are a research analyst. Answer the question using only the numbered sources given. Cite every claim with the " +
  "source number in brackets, like [2]. If the sources disagree or do not cover something, say so. Be concise and factual.";

/** Retrieval (with failover between providers), then synthesis by the routed LLM with numbered citations. */
export async function research(
  runtime: Runtime,
  server: McpServer,
  args: ResearchArgs,
  ctx: { signal: AbortSignal; progress: (n: number, message: string) => void; onDecision?: (d: Decision) => void },
): Promise<ResearchOutcome> {
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
  const synthesisRoute: RouteInput = { prompt: args.question, mode: "research_analyst", ...(args.tenant ? { tenant: args.tenant } : {}), ...(args.user ? { user: args.user } : {}), requestId: retrievalDecision.requestId };
  const decision = runtime.route(synthesisRoute);
  ctx.onDecision?.(decision);
  const base = { citations, retrievalProvider: found.model, decision, model: found.model, provider: providerOf(found.model), attempts: found.attempts };
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
  // Through the pipeline, so the synthesis is reserved against the tenant's budget like any LLM call.
  const llm = await runLlmPipeline(
    runtime,
    server,
    {
      route: synthesisRoute,
      decision,
      call: { system: SYSTEM, messages: [{ role: "user", content: `Question: ${args.question}\n\nSources:\n${numbered}` }], maxOutputTokens: 1500 },
    },
    { signal: ctx.signal, ...(ctx.onDecision ? { onDecision: ctx.onDecision } : {}) },
  );
  cost += llm.costUsd;
  return {
    ...base,
    decision: llm.decision,
    answer: llm.result.text,
    synthesisModel: llm.model,
    model: llm.model,
    provider: llm.provider,
    usage: llm.usage,
    attempts: [...found.attempts, ...llm.attempts],
    costUsd: round(cost),
  };
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
  // Every provider the catalog has an LLM on, each named by the env var that turns it on.
  const providers = [...new Set(Object.keys(runtime.config.models).map(providerOf))];
  return [...new Set(providers.map((p) => runtime.providers.keyEnv(p)).filter(Boolean))].join(" or ");
}

const round = (n: number) => Math.round(n * 1e8) / 1e8;
