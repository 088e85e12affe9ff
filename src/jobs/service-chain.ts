import { type JobKind } from "../config/schema.js";
import { providerOf } from "../config/catalog.js";
import { invalidRequest } from "../errors.js";
import { runChain, type ChainResult } from "../resilience/failover.js";
import type { Decision, RouteInput } from "../routing/types.js";
import type { Runtime } from "../runtime.js";

/**
 * A non-chat job's decision: the router resolves the mode (its tools, MCP tools, tenant), and
 * the job's own chain from config (jobs.<kind>.<job>) replaces the LLM pick.
 */
export function jobDecision(runtime: Runtime, input: RouteInput & { mode: string }, kind: JobKind, job: string): Decision {
  const chains = runtime.config.jobs[kind] as Record<string, string[]>;
  const chain = chains[job];
  if (!chain) throw invalidRequest(`unknown ${kind} job "${job}"`, `use one of: ${Object.keys(chains).join(", ")}.`, { validValues: Object.keys(chains) });
  const d = runtime.route(input);
  const [primary, ...rest] = chain;
  return {
    ...d,
    job: kind,
    model: primary!,
    provider: providerOf(primary!),
    fallbacks: rest.map((m) => ({ model: m, provider: providerOf(m) })),
    reason: `${d.mode} runs ${kind} job "${job}" on its configured chain (${chain.join(" → ")}).`,
    alternatives: [],
  };
}

/** Runs a service call down the decision's chain with the same retries, breakers and fallbacks as LLM calls. */
export function runServiceChain<T>(
  runtime: Runtime,
  decision: Decision,
  opts: { timeoutMs: number; signal: AbortSignal; call: (id: string, signal: AbortSignal) => Promise<T> },
): Promise<ChainResult<T>> {
  const chain = [decision.model, ...decision.fallbacks.map((f) => f.model)];
  return runChain<T>(chain, {
    cfg: runtime.config,
    board: runtime.breakers,
    signal: opts.signal,
    limits: {
      attemptTimeoutMs: opts.timeoutMs,
      deadlineAt: Date.now() + opts.timeoutMs * Math.min(chain.length, 3),
      interactive: decision.latency === "interactive",
    },
    reporting: {
      secrets: runtime.providers.secrets(),
      keyHint: (p) => runtime.providers.keyEnv(p),
    },
    target: {
      callable: (id) => !!runtime.providers.credentials(providerOf(id)),
      call: opts.call,
    },
  });
}
