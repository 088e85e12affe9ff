import type { ModeEntry, SwitchboardConfig, TenantEntry } from "../config/schema.js";
import type { JobMatch } from "./job.js";
import type { Task } from "./task.js";
import type { Decision, RouteInput } from "./types.js";

export interface ChosenMode {
  name: string;
  source: Decision["modeSource"];
  entry: ModeEntry;
}

/**
 * The caller's mode, else the job the prompt asks for (findJob keeps only modes in config), else
 * the tenant's default, else the task's own. `hard`: the learned difficulty asks for premium.
 */
export function chooseMode(cfg: SwitchboardConfig, input: RouteInput, tenant: TenantEntry, task: Task, job: JobMatch | undefined, hard = false): ChosenMode {
  if (input.mode) return chosen(cfg, input.mode, "explicit");
  if (job) return chosen(cfg, job.mode, "job");
  const taskMode = cfg.tasks[task.taskType].mode;
  if (tenant.defaultMode && tenant.defaultMode !== taskMode && taskMode === "realtime_assist") return chosen(cfg, tenant.defaultMode, "tenant");
  // An inferred quick-reply mode must not cap a complex or hard task: escalate to the planning mode.
  if ((task.complexity === "complex" || hard) && cfg.modes[taskMode]?.maxCostTier !== "premium" && cfg.modes.structured_planning) {
    return chosen(cfg, "structured_planning", "task");
  }
  return chosen(cfg, taskMode, "task");
}

function chosen(cfg: SwitchboardConfig, name: string, source: Decision["modeSource"]): ChosenMode {
  return { name, source, entry: cfg.modes[name]! };
}
