import { z } from "zod";
import { decisionSummary, decisionSummarySchema } from "../routing/decision-schema.js";
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
  // Listed as an object (tools/list declares top-level fields only); switchboard://docs/tools/{name} has its fields.
  decision: decisionSummarySchema.describe("The routing decision's summary, with the requestId for record_feedback."),
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
