import type { ModelEntry } from "../config/schema.js";
import type { ErrorCode } from "../errors.js";

export interface FallbackContext {
  models: Readonly<Record<string, ModelEntry>>;
  /** router.failover.contentFiltered: where a filtered request goes next. */
  contentFiltered: readonly string[];
  /** A person is waiting for the answer. */
  interactive: boolean;
  tried: ReadonlySet<string>;
  callable(id: string): boolean;
  /** Whether a model outside the chain may be brought in (tenant policy). */
  eligible(id: string): boolean;
}

/**
 * Typed fallbacks: what failed decides what is worth trying next. Returns the new order of
 * `queue` (the models still to try):
 * - context length: only models with a larger window than the failed one, then any other
 *   callable, eligible, untried model with a larger window, cheapest input first;
 * - content filter: the configured alternatives (untried, eligible) first;
 * - timeout on an interactive call: fastest first.
 * Any other failure leaves the order as it is.
 */
export function reorder(queue: readonly string[], code: ErrorCode, failed: string, c: FallbackContext): string[] {
  const models = c.models;
  if (code === "context_length_exceeded") {
    const window = models[failed]?.contextWindow ?? 0;
    const bigger = (id: string) => (models[id]?.contextWindow ?? 0) > window;
    const keep = queue.filter(bigger);
    const extra = Object.keys(models)
      .filter((id) => bigger(id) && !c.tried.has(id) && !keep.includes(id) && c.callable(id) && c.eligible(id))
      .sort((a, b) => models[a]!.price.input - models[b]!.price.input);
    return [...keep, ...extra];
  }
  if (code === "content_filtered") {
    const alt = c.contentFiltered.filter((id) => !c.tried.has(id) && id !== failed && c.eligible(id));
    return [...alt, ...queue.filter((id) => !alt.includes(id))];
  }
  if (code === "timeout" && c.interactive) {
    return [...queue].sort((a, b) => (models[a]?.latencyMs ?? 1e9) - (models[b]?.latencyMs ?? 1e9));
  }
  return [...queue];
}
