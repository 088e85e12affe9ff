import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { guardBudget, type GuardedCall } from "../budgets/guard.js";
import type { RateScope } from "../budgets/rate-limits.js";
import type { RateLimits } from "../config/schema.js";
import { providerOf } from "../config/catalog.js";
import { invalidRequest } from "../errors.js";
import type { ChatResult, Usage } from "../providers/types.js";
import type { Decision, RouteInput } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { callLlm, chatRequestFor, type LlmCallContext, type LlmCallSpec } from "./llm-call.js";
import type { Served } from "./served.js";

/**
 * The one way an LLM is called, whichever tool calls it:
 *
 *   route → reserve budget → run the chain → settle (sent, not awaited) → report what served
 *
 * Each step is a function of its own, so the next features slot in where they belong: streaming
 * to a client is a chain option, an escalation is reserved only when it happens (the guard's
 * `escalate`, called by the chain's hook), and a multi-step tool loop repeats reserve → chain →
 * settle per step.
 */

export interface LlmJob {
  /** What the router reads (prompt or messages, mode, tenant, preferences, needs...). */
  route: RouteInput;
  /** What the model is sent. */
  call: LlmCallSpec;
  /** An LLM decision the caller already made (research routes first to see whether an LLM is there). */
  decision?: Decision;
  /** The bearer token the call came with (over HTTP): its own rate limits apply beside the tenant's. */
  caller?: { label: string; rateLimits?: RateLimits };
}

export interface PipelineContext extends LlmCallContext {
  /** Told the decision as soon as the call is routed and reserved, before any model runs. */
  onDecision?(decision: Decision): void;
}

export interface LlmOutcome extends Served {
  result: ChatResult;
  usage: Usage;
  /** The answer came from a stronger model after the first fell short. */
  escalated: boolean;
  /** Why the answer still fails its check, when nothing could do better. */
  problem?: string;
}

/** `server`: the MCP session the call came through, or undefined over the compatible HTTP APIs. */
export async function runLlmPipeline(runtime: Runtime, server: McpServer | undefined, given: LlmJob, ctx: PipelineContext): Promise<LlmOutcome> {
  // An LLM is what the caller asked for: a prompt that reads like a media or voice job still gets an answer.
  const job = { ...given, route: { ...given.route, needs: { ...given.route.needs, llm: true } } };
  const routed = job.decision ?? routeLlm(runtime, job.route);
  const limiter = await runtime.rateLimits();
  const admitted = await limiter.admit(rateScopes(runtime, routed.tenant, job.caller), routed.estimate.inputTokens + routed.estimate.outputTokens);
  const guarded = await reserve(runtime, job, routed);
  const decision = guarded.decision;
  ctx.onDecision?.(decision);
  const call = await callLlm(runtime, server, decision, job.call, { ...ctx, reserveEscalation: guarded.escalate }).catch(async (err: unknown) => {
    // Failed calls are not billed by providers (a cut stream's partial output aside): release the reservation.
    void guarded.settle(0);
    throw err;
  });
  // Sent, not awaited: the answer goes back while the settle is written (the ledger's readers wait for it).
  void guarded.settle(call.costUsd);
  limiter.correct(admitted, call.result.usage.inputTokens + call.result.usage.outputTokens);
  return {
    decision,
    model: call.model,
    provider: call.provider,
    attempts: call.attempts,
    costUsd: call.costUsd,
    usage: call.result.usage,
    result: call.result,
    escalated: call.escalated,
    ...(call.problem ? { problem: call.problem } : {}),
  };
}

/** The rate limits a call counts against: its tenant's and its token's, where configured. */
function rateScopes(runtime: Runtime, tenant: string, caller: LlmJob["caller"]): RateScope[] {
  const t = Object.hasOwn(runtime.config.tenants, tenant) ? runtime.config.tenants[tenant]?.rateLimits : undefined;
  return [
    ...(t ? [{ scope: `tenant:${tenant}`, label: `tenant ${tenant}`, limits: t }] : []),
    ...(caller?.rateLimits ? [{ scope: `token:${caller.label}`, label: `token ${caller.label}`, limits: caller.rateLimits }] : []),
  ];
}

/** Routes an LLM call: a decision that names a media, voice or transcription job is refused. */
export function routeLlm(runtime: Runtime, input: RouteInput): Decision {
  const d = runtime.route(input);
  if (d.job !== "llm") {
    throw invalidRequest(`mode ${d.mode} is a ${d.job} job, not an LLM call`, "use the matching media, voice or transcription tool, or pick an LLM mode.", { field: "mode" });
  }
  return d;
}

/**
 * Near a ceiling the guard re-routes in degraded mode, unless the caller pinned the model. Each
 * model's worst case is the output its request may bill as its adapter sends it.
 */
async function reserve(runtime: Runtime, job: LlmJob, decision: Decision): Promise<GuardedCall> {
  const cfg = runtime.config;
  return guardBudget(
    {
      config: cfg,
      ledger: await runtime.budgets(),
      callable: (id) => !!runtime.providers.adapter(providerOf(id)),
      reroute: (reason) => (job.route.model ? undefined : runtime.route({ ...job.route, requestId: decision.requestId }, { degrade: { reason } })),
    },
    decision,
    (id) => {
      const req = chatRequestFor(cfg.models[id], id, job.call);
      return runtime.providers.adapter(providerOf(id))?.maxBilledOutput?.(req) ?? req.maxOutputTokens;
    },
  );
}
