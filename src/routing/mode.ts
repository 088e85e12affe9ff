import type { ModeEntry, SwitchboardConfig, TenantEntry } from "../config/schema.js";
import type { Task } from "./task.js";
import type { Decision, RouteInput } from "./types.js";

export interface ChosenMode {
  name: string;
  source: Decision["modeSource"];
  entry: ModeEntry;
}

/** The caller's mode, else one the attachments call for, else the tenant's default, else the task's own. */
export function chooseMode(cfg: SwitchboardConfig, input: RouteInput, tenant: TenantEntry, task: Task): ChosenMode {
  if (input.mode) return chosen(cfg, input.mode, "explicit");
  const attachmentMode = modeFromAttachments(input, cfg);
  if (attachmentMode) return chosen(cfg, attachmentMode, "attachments");
  const taskMode = cfg.tasks[task.taskType].mode;
  if (tenant.defaultMode && tenant.defaultMode !== taskMode && taskMode === "realtime_assist") return chosen(cfg, tenant.defaultMode, "tenant");
  // An inferred quick-reply mode must not cap a complex task: escalate to the planning mode.
  if (task.complexity === "complex" && cfg.modes[taskMode]?.maxCostTier !== "premium" && cfg.modes.structured_planning) {
    return chosen(cfg, "structured_planning", "task");
  }
  return chosen(cfg, taskMode, "task");
}

function chosen(cfg: SwitchboardConfig, name: string, source: Decision["modeSource"]): ChosenMode {
  return { name, source, entry: cfg.modes[name]! };
}

const EDIT_RE = /\b(remove|cut out|erase|delete) (the )?background|\bupscal\w*|\benhance (the )?resolution|\bstyle transfer|\bin the style of|\b(fill|inpaint|outpaint|extend) (the|this|in)|\bgenerative fill/i;

function modeFromAttachments(input: RouteInput, cfg: SwitchboardConfig): string | undefined {
  const kinds = new Set((input.attachments ?? []).map((a) => a.kind));
  const text = input.prompt ?? input.messages?.at(-1)?.content ?? "";
  if ((kinds.has("image") || kinds.has("video")) && EDIT_RE.test(text) && cfg.modes.vision_editing) return "vision_editing";
  if (kinds.has("audio") && /\b(transcri\w+|caption|subtitle|speech to text)\b/i.test(text) && cfg.modes.batch_transcription) return "batch_transcription";
  return undefined;
}
