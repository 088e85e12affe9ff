import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { openDb, type Db } from "../../src/store/db.js";
import { Budgets, type ReserveOptions } from "../../src/budgets/ledger.js";
import { guardBudget, type GuardedCall } from "../../src/budgets/guard.js";
import { loadConfig } from "../../src/config/load.js";
import { callCost } from "../../src/config/catalog.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import type { Decision } from "../../src/routing/types.js";

const MODEL = "openai:gpt-4.1-mini";
const DEAREST = "anthropic:claude-opus-4-5";

/** The shipped config with one fresh tenant whose daily ceiling is `dailyUsd`, and no global ceilings in the way. */
function configFor(tenant: string, dailyUsd: number): SwitchboardConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    tenants: { ...config.tenants, [tenant]: { ...config.tenants.default!, budget: { dailyUsd } } },
    budgets: { ...config.budgets, global: {}, waitMs: 30000 },
  };
}

function decisionFor(tenant: string): Decision {
  return { requestId: randomUUID(), tenant, model: MODEL, fallbacks: [], estimate: { inputTokens: 1000, outputTokens: 500 }, latency: "interactive", reason: "routed." } as unknown as Decision;
}

/** A ledger that tells the test when a reservation starts waiting. */
class WatchedBudgets extends Budgets {
  onWait: (() => void) | undefined;
  override reserve(tenant: string, amountUsd: number, opts: ReserveOptions = {}) {
    return super.reserve(tenant, amountUsd, { ...opts, onWait: () => this.onWait?.() });
  }
}

describe("the budget guard", () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ dataDir: ":memory:" });
  }, 60000);
  afterAll(async () => {
    await db?.close();
  });

  it("reserves only the first answer up front, so a burst that fits is admitted; an escalation that does not fit is refused, not failed", async () => {
    const tenant = `t-${randomUUID()}`;
    const probe = configFor(tenant, 1);
    const first = callCost(probe.models[MODEL]!, 1250, 1000);
    const dearest = callCost(probe.models[DEAREST]!, 1250, 1000);
    // Room for 20 first answers: with an escalation on the dearest model reserved up front, one would fit.
    const cfg = configFor(tenant, first * 20 + first / 2);
    expect(first + dearest).toBeGreaterThan(cfg.tenants[tenant]!.budget!.dailyUsd! / 2);
    const ledger = new Budgets(db, () => cfg);
    const deps = { config: cfg, ledger, callable: () => true, reroute: () => undefined };
    const calls = await Promise.all(Array.from({ length: 20 }, () => guardBudget(deps, decisionFor(tenant), 1000)));
    expect(calls).toHaveLength(20);
    const grant = await calls[0]!.escalate(DEAREST);
    expect(grant.ok).toBe(false);
    expect(!grant.ok && grant.why).toMatch(/ceiling/);
    for (const c of calls) await c.settle(first / 2);
    const c = ledger.ceilings(tenant)[0]!;
    const spent = await ledger.spent(c.scope, c.period);
    expect(spent.settledUsd).toBeCloseTo((first / 2) * 20, 6);
    expect(spent.reservedUsd).toBeCloseTo(0, 8);
  });

  it("reserves an escalation when it happens and settles the cost across both reservations", async () => {
    const tenant = `t-${randomUUID()}`;
    const cfg = configFor(tenant, 1);
    const ledger = new Budgets(db, () => cfg);
    const call = await guardBudget({ config: cfg, ledger, callable: () => true, reroute: () => undefined }, decisionFor(tenant), 1000);
    const c = ledger.ceilings(tenant)[0]!;
    const first = (await ledger.spent(c.scope, c.period)).reservedUsd;
    expect(await call.escalate(DEAREST)).toEqual({ ok: true });
    expect((await ledger.spent(c.scope, c.period)).reservedUsd).toBeGreaterThan(first);
    await call.settle(first + 0.001);
    await call.settle(5);
    expect(await ledger.spent(c.scope, c.period)).toEqual({ settledUsd: Math.round((first + 0.001) * 1e8) / 1e8, reservedUsd: 0 });
  });

  it("a call that would fit once calls in flight settle waits for them, and its decision says so", async () => {
    const tenant = `t-${randomUUID()}`;
    const probe = configFor(tenant, 1);
    const first = callCost(probe.models[MODEL]!, 1250, 1000);
    const cfg = configFor(tenant, first * 1.5);
    const ledger = new WatchedBudgets(db, () => cfg);
    const deps = { config: cfg, ledger, callable: () => true, reroute: () => undefined };
    const running = await guardBudget(deps, decisionFor(tenant), 1000);
    const waiting = new Promise<void>((res) => (ledger.onWait = res));
    const next: Promise<GuardedCall> = guardBudget(deps, decisionFor(tenant), 1000);
    await waiting;
    await running.settle(first / 4);
    const admitted = await next;
    expect(admitted.decision.reason).toMatch(/waited [\d.]+ s for calls in flight to settle/);
    await admitted.settle(0);
  });
});
