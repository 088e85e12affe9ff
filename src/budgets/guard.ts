import { callCost, tenantAllows } from "../config/catalog.js";
import type { SwitchboardConfig } from "../config/schema.js";
import type { Decision } from "../routing/types.js";
import type { Budgets, Reservation } from "./ledger.js";

/** What the guard needs from the layers around it; it reaches nothing else. */
export interface BudgetGuardDeps {
  config: SwitchboardConfig;
  /** The spending ledger, or undefined when there is no store (then nothing is checked). */
  ledger: Budgets | undefined;
  /** Whether a model can be called here (its provider has credentials). */
  callable(id: string): boolean;
  /** Routes again in degraded mode with this reason; undefined when the caller pinned the model. */
  reroute(reason: string): Decision | undefined;
}

export interface GuardedCall {
  /** The decision to run: the one given, or its degraded re-route near a ceiling. */
  decision: Decision;
  /** Replaces the reservation with the real cost (0 for a failed call). Idempotent. */
  settle(costUsd: number): Promise<void>;
}

/**
 * Budget checks around one LLM call. Near a ceiling the call is re-routed in degraded mode (the
 * cheapest model that meets the task's level). Before the call its worst case is reserved: the
 * input estimate with a margin and the full output allowance, for the first answer plus one
 * escalation on the dearest model the chain could reach. After it, the reservation settles to
 * the real cost.
 */
export async function guardBudget(deps: BudgetGuardDeps, decision: Decision, maxOutputTokens: number): Promise<GuardedCall> {
  const { ledger, config: cfg } = deps;
  if (!ledger) return { decision, settle: async () => undefined };
  const pressure = await ledger.pressure(decision.tenant);
  let d = decision;
  if (pressure.ceiling && pressure.ratio >= cfg.budgets.degradeAt) {
    d = deps.reroute(`degraded: ${pressure.ceiling.label} budget ${Math.round(pressure.ratio * 100)}% used`) ?? d;
  }
  const reservation: Reservation = await ledger.reserve(d.tenant, worstCase(deps, d, maxOutputTokens));
  let settled = false;
  return {
    decision: d,
    settle: async (costUsd: number) => {
      if (settled) return;
      settled = true;
      await ledger.settle(reservation, costUsd);
    },
  };
}

/** The first answer on the routed model plus one escalation on the dearest model within reach. */
function worstCase(deps: BudgetGuardDeps, d: Decision, maxOutputTokens: number): number {
  const cfg = deps.config;
  const tenant = cfg.tenants[d.tenant]!;
  const inputTokens = Math.ceil(d.estimate.inputTokens * cfg.budgets.inputMargin);
  const costOf = (id: string) => {
    const m = cfg.models[id];
    return m ? callCost(m, inputTokens, Math.min(maxOutputTokens, m.maxOutput)) : 0;
  };
  const reachable = Object.keys(cfg.models).filter((id) => tenantAllows(tenant, id) && deps.callable(id));
  return costOf(d.model) + Math.max(0, ...reachable.map(costOf), ...d.fallbacks.map((f) => costOf(f.model)));
}
