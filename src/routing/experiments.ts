import type { SwitchboardConfig } from "../config/schema.js";

/** Deterministic traffic split: the same tenant and request id always land in the same arm. */
export function experimentArm(cfg: SwitchboardConfig, mode: string, tenant: string, requestId: string) {
  for (const [name, e] of Object.entries(cfg.experiments)) {
    if (!e.enabled || e.mode !== mode || (e.tenants && !e.tenants.includes(tenant))) continue;
    const bucket = fnv(`${name}:${tenant}:${requestId}`) / 2 ** 32;
    return { name, model: e.model, treatment: bucket < e.share };
  }
  return undefined;
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // FNV-1a's high bits barely move when only the last characters differ (request ids often do):
  // murmur3's finalizer spreads every input bit over the whole word before bucketing.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
