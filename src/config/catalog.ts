import { providerOf } from "./model-id.js";
import { COST_TIERS, type CostTier, type ModelEntry, type TenantEntry } from "./schema.js";

/**
 * Helpers over the catalog's entries: capability, price and tenant policy (ids split in
 * model-id.ts). Every layer that reads the catalog uses these.
 */
export { providerOf, modelName, modelRef } from "./model-id.js";


export const tierRank = (t: CostTier) => COST_TIERS.indexOf(t);

/** A model's capability at a task: its capability scores weighted by what the task needs. */
export function taskCapability(m: ModelEntry, weights: Partial<Record<keyof ModelEntry["capabilities"], number>>): number {
  let sum = 0;
  let wsum = 0;
  for (const [k, w] of Object.entries(weights)) {
    sum += m.capabilities[k as keyof ModelEntry["capabilities"]] * (w ?? 0);
    wsum += w ?? 0;
  }
  return wsum ? sum / wsum : 50;
}

/** Whether a tenant's policy lets it use a model at all. */
export function tenantAllows(t: TenantEntry, id: string): boolean {
  const p = providerOf(id);
  if (t.allowedProviders && !t.allowedProviders.includes(p)) return false;
  if (t.blockedProviders?.includes(p)) return false;
  if (t.allowedModels && !t.allowedModels.includes(id)) return false;
  return !t.blockedModels?.includes(id);
}

/** USD for a call at list prices (prices are per million tokens). */
export function callCost(m: ModelEntry, inputTokens: number, outputTokens: number): number {
  return (inputTokens * m.price.input + outputTokens * m.price.output) / 1e6;
}
