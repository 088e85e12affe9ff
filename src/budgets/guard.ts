import type { Decision, RouteInput } from "../routing/types.js";
import { callCost, providerOf, tenantAllows } from "../config/catalog.js";
import type { Runtime } from "../runtime.js";
import type { Reservation } from "./ledger.js";

/**
 * Budget checks around one LLM call. Near a ceiling the call is re-routed in degraded mode (the
 * cheapest model that meets the task's level). Before the call its worst case is reserved: the
 * input estimate with a margin and the full output allowance, for the first answer plus one
 * escalation on the dearest model the chain could reach. After it, the reservation settles to
 * the real cost.
 */
export async function guardBudget(
  runtime: Runtime,
  input: RouteInput,
  decision: Decision,
  maxOutputTokens: number,
): Promise<{ decision: Decision; settle: (costUsd: number) => Promise<void> }> {
  const store = runtime.store;
  if (!store) return { decision, settle: async () => undefined };
  const cfg = runtime.config;
  const budgets = await store.budgets();
  const pressure = await budgets.pressure(decision.tenant);
  let d = decision;
  if (pressure.ceiling && pressure.ratio >= cfg.budgets.degradeAt && !input.model) {
    d = runtime.route({ ...input, requestId: decision.requestId }, { degrade: { reason: `degraded: ${pressure.ceiling.label} budget ${Math.round(pressure.ratio * 100)}% used` } });
  }
  const tenant = cfg.tenants[d.tenant]!;
  const inputTokens = Math.ceil(d.estimate.inputTokens * cfg.budgets.inputMargin);
  const costOf = (id: string) => {
    const m = cfg.models[id];
    return m ? callCost(m, inputTokens, Math.min(maxOutputTokens, m.maxOutput)) : 0;
  };
  const reachable = Object.keys(cfg.models).filter((id) => tenantAllows(tenant, id) && !!runtime.providers.adapter(providerOf(id)));
  const worst = costOf(d.model) + Math.max(0, ...reachable.map(costOf), ...d.fallbacks.map((f) => costOf(f.model)));
  const reservation: Reservation = await budgets.reserve(d.tenant, worst);
  let settled = false;
  return {
    decision: d,
    settle: async (costUsd: number) => {
      if (settled) return;
      settled = true;
      await budgets.settle(reservation, costUsd);
    },
  };
}
