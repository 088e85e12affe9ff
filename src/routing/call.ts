import { randomUUID } from "node:crypto";
import type { LatencyClass, SwitchboardConfig, TenantEntry } from "../config/schema.js";
import { defaultJobOf } from "./action.js";
import { judgeDifficulty, type JudgedDifficulty } from "./difficulty.js";
import { detectJob, type JobMatch, type JobName } from "./job.js";
import { outputEstimate } from "./length.js";
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
  /** The job the prompt asks for, when it is not a chat answer (and the caller did not rule it out). */
  job: JobMatch | undefined;
  /** The job the decision runs: the one found, or a non-LLM mode's own when the caller named the mode. */
  jobName: JobName | undefined;
  /** The task's tier, except that a mode the caller names makes the decision explicit. */
  tier: DecisionTier;
  latency: LatencyClass;
  /** An LLM job's expected output: the caller's cap, else the length the prompt asks for, else the task's typical size. */
  outputTokens: number;
  /** A model the caller names, else the tenant's policy lock: it skips the choice. */
  forced: string | undefined;
  /** The learned difficulty and the operating point it is held against (undefined without a model in config). */
  difficulty: JudgedDifficulty | undefined;
}

/** Reads the request: its prompt, its task (tiers 1-3) and the mode it runs in. */
export function readCall(cfg: SwitchboardConfig, configVersion: string, classify: (text: string) => Classified, input: RouteInput, ctx: RouteContext): Call {
  const requestId = input.requestId ?? randomUUID();
  const tenantName = input.tenant ?? cfg.router.defaultTenant;
  const tenant = cfg.tenants[tenantName]!;
  const prompt = readPrompt(input);
  const task = classifyTask(input, prompt, classify(prompt.text));
  const job = findJob(cfg, input, prompt.text);
  const difficulty = judgeDifficulty(cfg, input, tenant, task);
  const mode = chooseMode(cfg, input, tenant, task, job, difficulty?.premium === true);
  const jobName = job?.name ?? (mode.entry.job !== "llm" ? defaultJobOf(cfg, mode.entry.chain) : mode.entry.retrieval ? "research" : undefined);
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
    job,
    jobName,
    tier: mode.source === "explicit" ? "explicit" : task.tier,
    latency: input.latency ?? mode.entry.latency,
    outputTokens: input.maxOutputTokens ?? outputEstimate(cfg, prompt.text, task.taskType, task.complexity),
    forced: input.model ?? tenant.lockModel,
    difficulty,
  };
}

/**
 * Job first, unless the caller already said what this is: a task type means a chat answer, a
 * mode keeps only a job of that mode, and run_llm (needs.llm) keeps only jobs an LLM does.
 */
function findJob(cfg: SwitchboardConfig, input: RouteInput, text: string): JobMatch | undefined {
  if (input.taskType) return undefined;
  const job = detectJob(text, input.attachments);
  if (!job || !Object.hasOwn(cfg.modes, job.mode)) return undefined;
  if (input.mode && input.mode !== job.mode) return undefined;
  if (input.needs?.llm && cfg.modes[job.mode]!.job !== "llm") return undefined;
  return job;
}
