import { randomUUID } from "node:crypto";
import type { LatencyClass, SwitchboardConfig, TenantEntry } from "../config/schema.js";
import { chooseMode, type ChosenMode } from "./mode.js";
import { readPrompt, type Prompt } from "./prompt.js";
import { classifyTask, type Classified, type Task } from "./task.js";
import type { DecisionTier, RouteContext, RouteInput } from "./types.js";

/** What decide knows about a call before any model is picked; every later step reads it. */
export interface Call {
  cfg: SwitchboardConfig;
  configVersion: string;
  input: RouteInput;
  ctx: RouteContext;
  requestId: string;
  tenantName: string;
  tenant: TenantEntry;
  prompt: Prompt;
  task: Task;
  mode: ChosenMode;
  /** The task's tier, except that a mode the caller names makes the decision explicit. */
  tier: DecisionTier;
  latency: LatencyClass;
  /** An LLM job's expected output: the caller's cap, else the task's typical size. */
  outputTokens: number;
  /** A model the caller names, else the tenant's policy lock: it skips the choice. */
  forced: string | undefined;
}

/** Reads the request: its prompt, its task (tiers 1-3) and the mode it runs in. */
export function readCall(cfg: SwitchboardConfig, configVersion: string, classify: (text: string) => Classified, input: RouteInput, ctx: RouteContext): Call {
  const requestId = input.requestId ?? randomUUID();
  const tenantName = input.tenant ?? cfg.router.defaultTenant;
  const tenant = cfg.tenants[tenantName]!;
  const prompt = readPrompt(input);
  const task = classifyTask(input, prompt, classify(prompt.text));
  const mode = chooseMode(cfg, input, tenant, task);
  return {
    cfg,
    configVersion,
    input,
    ctx,
    requestId,
    tenantName,
    tenant,
    prompt,
    task,
    mode,
    tier: mode.source === "explicit" ? "explicit" : task.tier,
    latency: input.latency ?? mode.entry.latency,
    outputTokens: input.maxOutputTokens ?? cfg.tasks[task.taskType].outputTokens[task.complexity],
    forced: input.model ?? tenant.lockModel,
  };
}
