import { taskCapability, tierRank } from "../config/catalog.js";
import type { SwitchboardConfig, TaskType } from "../config/schema.js";

/** How much more capable at the task (on the 0-100 capability scale) a model must be to count as stronger. */
const MARGIN = 3;

/**
 * Where to escalate an answer that failed a visible check: the cheapest (by output price)
 * model that `usable` allows, clearly more capable at this task than `current` (by the
 * task's weights without speed: stronger means better, not faster) and not of a lower
 * tier. Undefined when `current` is not in the catalog or nothing qualifies.
 */
export function strongerModel(cfg: SwitchboardConfig, taskType: TaskType, current: string, usable: (id: string) => boolean): string | undefined {
  const models = cfg.models;
  const cur = models[current];
  if (!cur) return undefined;
  const { speed: _speed, ...quality } = cfg.tasks[taskType].weights;
  const weights = Object.keys(quality).length ? quality : { reasoning: 0.5, instruction: 0.5 };
  const base = taskCapability(cur, weights);
  return Object.entries(models)
    .filter(([id, m]) => usable(id) && taskCapability(m, weights) > base + MARGIN && tierRank(m.tier) >= tierRank(cur.tier))
    .sort(([, a], [, b]) => a.price.output - b.price.output)[0]?.[0];
}
