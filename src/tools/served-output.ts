import { z } from "zod";
import { decisionSchema, decisionSummary } from "../routing/decision-schema.js";
import type { Served } from "../jobs/served.js";

/** One try in a failover chain, as every model-running tool reports it. */
export const attemptOutput = z.object({
  model: z.string(),
  provider: z.string(),
  outcome: z.enum(["ok", "error", "skipped", "escalated"]),
  errorCode: z.string().optional(),
  message: z.string().optional(),
  latencyMs: z.number(),
});

/** What every job tool reports about how it was served, besides its own result. */
export const servedOutput = {
  model: z.string().describe("The provider:model (or service) that served the call."),
  provider: z.string(),
  // Listed compactly (every agent carries tools/list in its context): the summary's other fields
  // (task, tier, tools, MCP tools, routedModel) come through as listed on run_llm's output.
  decision: decisionSchema.pick({ requestId: true, mode: true, reason: true }).loose().describe("The routing decision's summary (as in run_llm's output)."),
  attempts: z.array(attemptOutput).describe("Every try in order: retries, skips (open circuit, no credentials), escalations."),
  costUsd: z.number(),
  latencyMs: z.number(),
};

/** The served-by fields of a tool result, from what served it and the call's start time. */
export function servedFields(s: Served, t0: number) {
  return {
    model: s.model,
    provider: s.provider,
    decision: decisionSummary(s.decision),
    attempts: s.attempts,
    costUsd: s.costUsd,
    latencyMs: Math.round(performance.now() - t0),
  };
}
