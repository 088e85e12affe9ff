import { callCost, tenantAllows } from "../config/catalog.js";
import type { SwitchboardConfig } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
import { logger } from "../logger.js";
import type { Decision } from "../routing/types.js";
import type { Budgets, Reservation, Reserved } from "./ledger.js";

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

export type EscalationGrant = { ok: true } | { ok: false; why: string };

/**
 * The output a call may bill: one allowance for every model (within each model's ceiling), or
 * per model, as its request will carry it (extended thinking raises an Anthropic max_tokens).
 */
export type OutputAllowance = number | ((id: string) => number);

export interface GuardedCall {
  /** The decision to run: the one given, or its degraded re-route near a ceiling; its reason says if the call waited. */
  decision: Decision;
  /** Reserves an escalation to `model` before it runs; `ok: false` (with why) when it does not fit. */
  escalate(model: string): Promise<EscalationGrant>;
  /**
   * Replaces the reservations with the real cost (0 for a failed call). Idempotent. Never throws:
   * a store failure is logged and retried in the background, and the reservation's lease keeps the
   * ceiling safe meanwhile.
   */
  settle(costUsd: number): Promise<void>;
}

/** Background retries of a settle the store refused: 1 s, 2 s, 4 s ... about 17 minutes in all. */
const SETTLE_RETRIES = 10;

/**
 * Budget checks around one LLM call, one store round trip before it and one sent after it (none
 * for a tenant without ceilings). Near a ceiling the call is re-routed in degraded mode (the
 * cheapest model that meets the task's level). Before the call the first answer's worst case is
 * reserved (the input estimate with a margin and the full output allowance, on the dearest model of
 * the decision's chain); an escalation is reserved only when it happens (`escalate`). A call that
 * would fit once calls in flight settle waits for them, up to `budgets.waitMs`. Each reservation
 * has a lease of the call's deadline plus `budgets.leaseMarginMs`. After the call, the reservations
 * settle to the real cost.
 */
export async function guardBudget(deps: BudgetGuardDeps, decision: Decision, maxOutputTokens: OutputAllowance): Promise<GuardedCall> {
  const { ledger, config: cfg } = deps;
  // No store, or a tenant with no ceilings at all: nothing to check, nothing to write.
  if (!ledger || !ledger.ceilings(decision.tenant).length) return { decision, escalate: async () => ({ ok: true }), settle: async () => undefined };
  const leaseOf = (d: Decision) => (cfg.router.latencyClasses[d.latency]?.deadlineMs ?? 120_000) + (cfg.budgets.leaseMarginMs ?? 60_000);
  const waitMs = cfg.budgets.waitMs ?? 0;
  const reserveFor = (d: Decision, wait: number) => ledger.reserve(d.tenant, firstAnswer(deps, d, costOf(cfg, d, maxOutputTokens)), { leaseMs: leaseOf(d), waitMs: wait });
  const degrade = (ratio: number, label: string) => deps.reroute(`degraded: ${label} budget ${Math.round(ratio * 100)}% used`);

  // One round trip in the common case: the reservation also reports how full the ceilings were.
  // Near a ceiling (budgets.degradeAt) the call is re-routed in degraded mode and reserved again.
  let d = decision;
  let first: Reserved;
  try {
    first = await reserveFor(d, 0);
    const p = first.pressure;
    if (p.ceiling && p.ratio >= cfg.budgets.degradeAt) {
      const cheaper = degrade(p.ratio, p.ceiling.label);
      if (cheaper) {
        // Give the first reservation back before asking for the cheaper one, which may wait for room.
        await ledger.settle(first, 0).catch(() => undefined);
        d = cheaper;
        first = await reserveFor(d, waitMs);
      }
    }
  } catch (err) {
    if (!(err instanceof SwitchboardError) || err.body.code !== "budget_exceeded") throw err;
    // Refused at once: degrade if the ceilings are that full, else wait for calls in flight as configured.
    const p = await ledger.pressure(d.tenant).catch(() => ({ ratio: 0, ceiling: undefined }));
    const cheaper = p.ceiling && p.ratio >= cfg.budgets.degradeAt ? degrade(p.ratio, p.ceiling.label) : undefined;
    if (cheaper) d = cheaper;
    else if (waitMs <= 0) throw err;
    first = await reserveFor(d, waitMs);
  }
  if (first.waitedMs > 0) d = { ...d, reason: `${d.reason} (waited ${(first.waitedMs / 1000).toFixed(1)} s for calls in flight to settle before the budget admitted it)` };
  const cost = costOf(cfg, d, maxOutputTokens);
  const leaseMs = leaseOf(d);
  const reservations: Reservation[] = [first];
  let settled = false;
  return {
    decision: d,
    escalate: async (model: string) => {
      if (settled) return { ok: false, why: "the call has already settled" };
      try {
        reservations.push(await ledger.reserve(d.tenant, cost(model), { leaseMs, waitMs: 0 }));
        return { ok: true };
      } catch (err) {
        return { ok: false, why: err instanceof SwitchboardError ? err.message : "the budget store did not answer" };
      }
    },
    settle: async (costUsd: number) => {
      if (settled) return;
      settled = true;
      // The first answer's reservation takes the cost first, an escalation's the rest. All are sent at once.
      let left = Math.max(0, costUsd);
      await Promise.all(
        reservations.map((r) => {
          const part = Math.min(left, r.amountUsd);
          left -= part;
          return settleOrRetry(ledger, r, part);
        }),
      );
    },
  };
}

/** The worst case of one answer on `id`: the input estimate with its margin, the full output allowance. */
function costOf(cfg: SwitchboardConfig, d: Decision, maxOutputTokens: OutputAllowance): (id: string) => number {
  const inputTokens = Math.ceil(d.estimate.inputTokens * cfg.budgets.inputMargin);
  return (id: string) => {
    const m = Object.hasOwn(cfg.models, id) ? cfg.models[id] : undefined;
    if (!m) return 0;
    return callCost(m, inputTokens, typeof maxOutputTokens === "number" ? Math.min(maxOutputTokens, m.maxOutput) : maxOutputTokens(id));
  };
}

/** The first answer can come from the routed model or any fallback of its chain the tenant may use here: the dearest of them. */
function firstAnswer(deps: BudgetGuardDeps, d: Decision, cost: (id: string) => number): number {
  const tenant = deps.config.tenants[d.tenant];
  const chain = [d.model, ...d.fallbacks.map((f) => f.model)].filter((id, i) => i === 0 || ((!tenant || tenantAllows(tenant, id)) && deps.callable(id)));
  return Math.max(0, ...chain.map(cost));
}

async function settleOrRetry(ledger: Budgets, r: Reservation, costUsd: number): Promise<void> {
  try {
    await ledger.settle(r, costUsd);
  } catch (err) {
    logger.warn({ reservation: r.id, tenant: r.tenant, costUsd, err: String((err as Error)?.message ?? err) }, "budget settle failed; retrying in the background");
    retryLater(ledger, r, costUsd, 1);
  }
}

function retryLater(ledger: Budgets, r: Reservation, costUsd: number, n: number): void {
  if (n > SETTLE_RETRIES) {
    logger.error({ reservation: r.id, tenant: r.tenant, costUsd }, "budget settle gave up; the lease will release the reservation, this cost is not counted");
    return;
  }
  setTimeout(() => {
    ledger.settle(r, costUsd).then(
      () => logger.info({ reservation: r.id, attempt: n }, "budget settle retried and recorded"),
      () => retryLater(ledger, r, costUsd, n + 1),
    );
  }, 1000 * 2 ** (n - 1)).unref();
}
