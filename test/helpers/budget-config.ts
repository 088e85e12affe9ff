import type { SwitchboardConfig } from "../../src/config/schema.js";

/**
 * The slice of config the ledger reads, for one tenant: its ceilings (none when neither is given),
 * the global ones, and the budgets' knobs. Tenants are unique per test so a shared database stays clean.
 */
export function ledgerConfig(
  tenant: string,
  c: { dailyUsd?: number; monthlyUsd?: number; global?: { dailyUsd?: number; monthlyUsd?: number }; waitMs?: number } = {},
): () => SwitchboardConfig {
  const budget = { ...(c.dailyUsd !== undefined ? { dailyUsd: c.dailyUsd } : {}), ...(c.monthlyUsd !== undefined ? { monthlyUsd: c.monthlyUsd } : {}) };
  // A fresh object per read, as a reloading config would give.
  return () => ({ tenants: { [tenant]: { budget } }, budgets: { global: c.global ?? {}, degradeAt: 0.8, inputMargin: 1.25, ...(c.waitMs !== undefined ? { waitMs: c.waitMs } : {}) } }) as unknown as SwitchboardConfig;
}
