import { z } from "zod";
import { defineTool } from "./define-tool.js";
import { servedFields, servedOutput } from "./served-output.js";

export const researchTool = defineTool({
  name: "research",
  title: "Research a question with cited sources",
  description:
    "Search the web (Perplexity or Tavily, each falling back to the other), then have the routed model answer with numbered " +
    "citations [n]. Without an LLM the sources come back with a note.",
  input: {
    question: z.string().min(3).max(4000).describe("What to research."),
    kind: z.enum(["web", "deep", "finance", "news"]).default("web").describe("deep: Tavily advanced; finance, news: Tavily topics."),
    maxSources: z.number().int().min(1).max(20).optional().describe("Sources to use."),
    recencyDays: z.number().int().min(1).max(3650).optional().describe("Only sources from the last N days."),
    includeDomains: z.array(z.string().regex(/^[a-z0-9.-]+$/i)).max(20).optional().describe("Search only these."),
    tenant: z.string().optional(),
    user: z.string().optional(),
    requestId: z.string().max(200).optional(),
  },
  output: {
    answer: z.string(),
    citations: z.array(z.object({ n: z.number(), title: z.string(), url: z.string(), snippet: z.string(), publishedAt: z.string().optional() })),
    note: z.string().optional(),
    providers: z.object({ retrieval: z.string(), synthesis: z.string().optional() }),
    ...servedOutput,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: async (args, ctx) => {
    const t0 = performance.now();
    const { research } = await import("../jobs/research.js");
    const r = await research(ctx.runtime, ctx.server, args, {
      signal: ctx.extra.signal,
      progress: ctx.status,
      onDecision: (decision) => ctx.serve({ decision }),
    });
    ctx.serve(r);
    return {
      answer: r.answer,
      citations: r.citations,
      ...(r.note ? { note: r.note } : {}),
      providers: { retrieval: r.retrievalProvider, ...(r.synthesisModel ? { synthesis: r.synthesisModel } : {}) },
      ...servedFields(r, t0),
    };
  },
});
