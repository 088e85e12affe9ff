import { randomUUID } from "node:crypto";
import { callCost, providerOf, tenantAllows, tierRank } from "../config/catalog.js";
import { COST_TIERS, LATENCY_CLASSES, TASK_TYPES, type CostTier, type SwitchboardConfig, type TaskType } from "../config/schema.js";
import { invalidRequest, SwitchboardError, unknownValue } from "../errors.js";
import { TaskClassifier, type Prediction } from "./classifier.js";
import { estimateComplexity } from "./complexity.js";
import { applyRules } from "./rules.js";
import { pickFallbacks, selectModels, whyNot, type Weights } from "./select.js";
import { detectSignals, signalNames } from "./signals.js";
import { ATTACHMENT_TOKENS, estimateTokens, MESSAGE_OVERHEAD_TOKENS } from "./tokens.js";
import type { Alternative, Decision, DecisionTier, ModelRef, RouteContext, RouteInput } from "./types.js";

export interface Router {
  readonly config: SwitchboardConfig;
  readonly configVersion: string;
  readonly classifier: TaskClassifier;
  decide(input: RouteInput, ctx: RouteContext): Decision;
  /** Task type only (tiers 1-3), for evaluation. */
  classify(text: string): { taskType: TaskType; confidence: number; tier: DecisionTier; rule?: string; prediction?: Prediction };
}

export function trainingExamples(cfg: SwitchboardConfig) {
  return TASK_TYPES.flatMap((t) => cfg.tasks[t].examples.map((text) => ({ text, label: t })));
}

export function createRouter(cfg: SwitchboardConfig, configVersion: string, classifier?: TaskClassifier): Router {
  const clf = classifier ?? TaskClassifier.train(trainingExamples(cfg));
  const min = cfg.router.classifier.minConfidence;

  function classify(text: string) {
    const s = detectSignals(text);
    const rule = applyRules(text, s);
    if (rule) return { taskType: rule.taskType, confidence: rule.confidence, tier: "signals" as const, rule: rule.rule, signals: s };
    const prediction = clf.predict(text, s);
    return {
      taskType: prediction.taskType,
      confidence: prediction.confidence,
      tier: prediction.confidence >= min ? ("classifier" as const) : ("default" as const),
      prediction,
      signals: s,
    };
  }

  return {
    config: cfg,
    configVersion,
    classifier: clf,
    classify: (text) => {
      const { signals: _s, ...rest } = classify(text);
      return rest;
    },
    decide(input, ctx) {
      const t0 = performance.now();
      validate(input, cfg);
      const requestId = input.requestId ?? randomUUID();
      const tenantName = input.tenant ?? cfg.router.defaultTenant;
      const tenant = cfg.tenants[tenantName]!;
      const { text, turns, allText } = promptText(input);

      // Tier 1 (explicit) first, then the tiers that read the prompt.
      const cls = classify(text);
      const s = cls.signals;
      const taskType: TaskType = input.taskType ?? cls.taskType;
      let tier: DecisionTier = input.taskType ? "explicit" : cls.tier;
      const confidence = input.taskType ? 1 : cls.confidence;
      s.conversationTurns = turns;

      const contextTokens = input.contextTokens ?? 0;
      const attachTokens = (input.attachments ?? []).reduce((n, a) => n + (a.tokens ?? ATTACHMENT_TOKENS[a.kind]), 0);
      const inputTokens = estimateTokens(allText) + turns * MESSAGE_OVERHEAD_TOKENS + contextTokens + attachTokens;
      const cx = estimateComplexity(text, s, taskType, contextTokens + attachTokens);
      let modeName: string;
      let modeSource: Decision["modeSource"];
      const attachmentMode = modeFromAttachments(input, cfg);
      if (input.mode) [modeName, modeSource] = [input.mode, "explicit"];
      else if (attachmentMode) [modeName, modeSource] = [attachmentMode, "attachments"];
      else if (tenant.defaultMode && tenant.defaultMode !== cfg.tasks[taskType].mode && cfg.tasks[taskType].mode === "realtime_assist") {
        [modeName, modeSource] = [tenant.defaultMode, "tenant"];
      } else {
        [modeName, modeSource] = [cfg.tasks[taskType].mode, "task"];
        // An inferred quick-reply mode must not cap a complex task: escalate to the planning mode.
        if (cx.complexity === "complex" && cfg.modes[modeName]?.maxCostTier !== "premium" && cfg.modes.structured_planning) {
          modeName = "structured_planning";
        }
      }
      const mode = cfg.modes[modeName]!;
      if (modeSource === "explicit") tier = "explicit";

      const latency = input.latency ?? mode.latency;
      const outputTokens = input.maxOutputTokens ?? cfg.tasks[taskType].outputTokens[cx.complexity];

      const { targetTier, tierWhy } = targetCostTier(cfg, taskType, cx.complexity, input, mode.maxCostTier, ctx);
      const tools = unique([...mode.tools, ...(input.tools ?? [])]);
      const mcpTools = unique([...mode.mcpTools, ...(input.mcpTools ?? [])]);
      const base = {
        requestId,
        mode: modeName,
        modeSource,
        job: mode.job,
        taskType,
        complexity: cx.complexity,
        tools,
        mcpTools,
        latency,
        tenant: tenantName,
        configVersion,
      };
      const signals = [...signalNames(s), ...(cls.rule ? [`rule:${cls.rule}`] : [])];

      // Non-LLM modes (media, voice, transcription) take their chain as configured.
      if (mode.job !== "llm") {
        const [primary, ...rest] = mode.chain;
        return {
          ...base,
          costTier: mode.maxCostTier,
          model: primary!,
          provider: providerOf(primary!),
          fallbacks: rest.map(ref),
          tier: modeSource === "task" ? tier : "explicit",
          confidence,
          signals,
          reason: `${modeName} is a ${mode.job} job; using its configured chain (${mode.chain.join(" → ")}).`,
          alternatives: [],
          estimate: { inputTokens, outputTokens: 0, costUsd: 0 },
          adjustments: [],
          decisionMs: ms(t0),
        };
      }

      const forced = input.model ?? tenant.lockModel;
      const adjustments =
        ctx.adjuster && tenant.learning !== false
          ? ctx.adjuster.adjust({ tenant: tenantName, user: input.user, taskType, mode: modeName, candidates: Object.keys(cfg.models) })
          : [];
      const selection = selectModels({
        cfg,
        taskType,
        complexity: cx.complexity,
        targetTier,
        mode,
        modeExplicit: modeSource !== "task",
        tenant,
        inputTokens,
        outputTokens,
        needsTools: (input.tools?.length ?? 0) + (input.mcpTools?.length ?? 0) > 0 || input.needs?.toolCalling === true,
        needsJson: input.needs?.json === true,
        needsVision: (input.attachments ?? []).some((a) => a.kind === "image" || a.kind === "video"),
        latency,
        weights: weightsFor(cfg, input, latency),
        hints: (input.modelPreferences?.hints ?? []).map((h) => (h.name ?? "").toLowerCase()).filter(Boolean),
        configured: ctx.configuredProviders,
        adjustments,
      });

      if (selection.ranked.length === 0 && !forced) {
        throw new SwitchboardError({
          code: "invalid_request",
          message: `no model in the catalog can serve this request: ${summarizeDrops(selection.dropped)}`,
          hint: "shorten the input, drop tools or attachments the models cannot take, relax the tenant's allowed models, or add a suitable model to config/models.yaml.",
          retryable: false,
        });
      }

      let primary: string;
      let reason: string;
      let experiment: Decision["experiment"];
      const rankedIds = selection.ranked.map((c) => c.id);
      if (forced) {
        primary = forced;
        tier = "explicit";
        reason = input.model ? `The caller asked for ${forced}.` : `Tenant ${tenantName} is locked to ${forced} by policy.`;
      } else {
        primary = selection.ranked[0]!.id;
        if (tier === "default") {
          // Unsure what the task is: take the mode's own default chain rather than a guess.
          const chainPick = mode.chain.find((id) => rankedIds.includes(id));
          if (chainPick) primary = chainPick;
        }
        const arm = experimentArm(cfg, modeName, tenantName, requestId);
        if (arm) {
          experiment = { name: arm.name, arm: arm.treatment ? "treatment" : "control" };
          if (arm.treatment && rankedIds.includes(arm.model)) primary = arm.model;
        }
        reason = explain({ taskType, tier, confidence, cx: cx.complexity, targetTier, tierWhy, modeName, primary, rule: cls.rule, min, experiment, ctx });
      }

      const winner = selection.ranked.find((c) => c.id === primary);
      const fallbacks = tier === "default" && !forced
        ? [...mode.chain.filter((id) => id !== primary && rankedIds.includes(id)), ...rankedIds.filter((id) => id !== primary && !mode.chain.includes(id))]
            .slice(0, cfg.router.maxFallbacks)
            .map(ref)
        : pickFallbacks(selection.ranked, primary, cfg.router.maxFallbacks).map((c) => ref(c.id));
      const alternatives: Alternative[] = [];
      if (winner) {
        for (const c of selection.ranked.filter((c) => c.id !== primary).slice(0, 4)) {
          alternatives.push({ ...ref(c.id), score: round(c.score), why: whyNot(c, winner, taskType, targetTier) });
        }
      }
      for (const d of selection.dropped.filter((d) => cfg.tasks[taskType].preferredModels.includes(d.id) || mode.chain.includes(d.id)).slice(0, 3)) {
        alternatives.push({ model: d.id, provider: d.provider, why: `not eligible: ${d.why}` });
      }
      if (selection.relaxed.length) reason += ` (relaxed: ${selection.relaxed.join(", ")}, since nothing else could serve)`;
      for (const a of adjustments.filter((a) => a.model === primary)) reason += ` ${a.reason}.`;

      const primaryModel = cfg.models[primary]!;
      return {
        ...base,
        costTier: forced ? primaryModel.tier : targetTier,
        model: primary,
        provider: providerOf(primary),
        fallbacks,
        tier,
        confidence: round(confidence),
        signals,
        reason,
        alternatives,
        estimate: { inputTokens, outputTokens, costUsd: round(callCost(primaryModel, inputTokens, outputTokens), 6) },
        ...(experiment ? { experiment } : {}),
        adjustments,
        decisionMs: ms(t0),
      };
    },
  };
}

function validate(input: RouteInput, cfg: SwitchboardConfig): void {
  const hasPrompt = typeof input.prompt === "string" && input.prompt.trim().length > 0;
  const hasMessages = Array.isArray(input.messages) && input.messages.some((m) => m.content?.trim());
  if (!hasPrompt && !hasMessages) {
    throw invalidRequest("the prompt is empty", "pass the task text in `prompt`, or chat turns in `messages` with at least one non-empty content.", { field: "prompt" });
  }
  const size = (input.prompt?.length ?? 0) + (input.messages ?? []).reduce((n, m) => n + (m.content?.length ?? 0), 0);
  if (size > cfg.router.maxPromptChars) {
    throw invalidRequest(
      `the prompt is ${size.toLocaleString("en")} characters, over the limit of ${cfg.router.maxPromptChars.toLocaleString("en")}`,
      "send the large material as an attachment with its token count (attachments[].tokens) or as contextTokens, or raise router.maxPromptChars in your config.",
      { field: "prompt" },
    );
  }
  if (input.mode && !cfg.modes[input.mode]) throw unknownValue("mode", input.mode, Object.keys(cfg.modes));
  if (input.taskType && !(TASK_TYPES as readonly string[]).includes(input.taskType)) throw unknownValue("taskType", input.taskType, [...TASK_TYPES]);
  if (input.model && !cfg.models[input.model]) throw unknownValue("model", input.model, Object.keys(cfg.models));
  if (input.tenant && !cfg.tenants[input.tenant]) throw unknownValue("tenant", input.tenant, Object.keys(cfg.tenants));
  if (input.latency && !(LATENCY_CLASSES as readonly string[]).includes(input.latency)) throw unknownValue("latency", input.latency, [...LATENCY_CLASSES]);
  if (input.model) {
    if (!tenantAllows(cfg.tenants[input.tenant ?? cfg.router.defaultTenant]!, input.model)) {
      throw invalidRequest(`tenant "${input.tenant ?? cfg.router.defaultTenant}" does not allow model ${input.model}`, "pick a model the tenant allows, or leave model out to let Switchboard choose.", { field: "model" });
    }
  }
}

function promptText(input: RouteInput): { text: string; turns: number; allText: string } {
  if (input.messages?.length) {
    const users = input.messages.filter((m) => m.role === "user" && m.content?.trim());
    // The last user turn says what is wanted now; the rest is context for size and cost.
    const text = [input.prompt ?? "", users.at(-1)?.content ?? ""].filter(Boolean).join("\n\n") || input.messages.at(-1)!.content;
    const allText = [input.prompt ?? "", ...input.messages.map((m) => m.content ?? "")].join("\n");
    return { text, turns: input.messages.length, allText };
  }
  return { text: input.prompt!, turns: 1, allText: input.prompt! };
}

const EDIT_RE = /\b(remove|cut out|erase|delete) (the )?background|\bupscal\w*|\benhance (the )?resolution|\bstyle transfer|\bin the style of|\b(fill|inpaint|outpaint|extend) (the|this|in)|\bgenerative fill/i;

function modeFromAttachments(input: RouteInput, cfg: SwitchboardConfig): string | undefined {
  const kinds = new Set((input.attachments ?? []).map((a) => a.kind));
  const text = input.prompt ?? input.messages?.at(-1)?.content ?? "";
  if ((kinds.has("image") || kinds.has("video")) && EDIT_RE.test(text) && cfg.modes.vision_editing) return "vision_editing";
  if (kinds.has("audio") && /\b(transcri\w+|caption|subtitle|speech to text)\b/i.test(text) && cfg.modes.batch_transcription) return "batch_transcription";
  return undefined;
}

function targetCostTier(
  cfg: SwitchboardConfig,
  taskType: TaskType,
  complexity: "simple" | "medium" | "complex",
  input: RouteInput,
  ceiling: CostTier,
  ctx: RouteContext,
): { targetTier: CostTier; tierWhy: string[] } {
  const why: string[] = [];
  let rank = tierRank(cfg.tasks[taskType].tiers[complexity]);
  const prefs = input.modelPreferences;
  if (input.costSensitivity === "high" || (prefs?.costPriority ?? 0) >= 0.8) {
    rank--;
    why.push("cost-sensitive");
  }
  if (input.costSensitivity === "low" && (prefs?.intelligencePriority ?? 0) >= 0.8) {
    rank++;
    why.push("quality first");
  } else if ((prefs?.intelligencePriority ?? 0) >= 0.9) {
    rank++;
    why.push("quality first");
  }
  if (ctx.degrade) {
    rank = 0;
    why.push(ctx.degrade.reason);
  }
  rank = Math.max(0, Math.min(rank, tierRank(ceiling), COST_TIERS.length - 1));
  return { targetTier: COST_TIERS[rank]!, tierWhy: why };
}

function weightsFor(cfg: SwitchboardConfig, input: RouteInput, latency: string): Weights {
  const p = input.modelPreferences;
  const w: Weights = { ...cfg.router.weights };
  if (p && (p.costPriority !== undefined || p.speedPriority !== undefined || p.intelligencePriority !== undefined)) {
    w.intelligence = p.intelligencePriority ?? 0.5;
    w.cost = p.costPriority ?? 0.5;
    w.speed = p.speedPriority ?? 0.5;
  }
  if (input.costSensitivity === "high") w.cost += 0.3;
  if (input.costSensitivity === "low") w.cost = Math.max(0, w.cost - 0.2);
  if (latency === "interactive" && input.interaction !== "automated") w.speed += 0.05;
  if (latency === "background") w.speed = Math.max(0, w.speed - 0.1);
  return w;
}

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

function explain(a: {
  taskType: TaskType;
  tier: DecisionTier;
  confidence: number;
  cx: string;
  targetTier: CostTier;
  tierWhy: string[];
  modeName: string;
  primary: string;
  rule?: string;
  min: number;
  experiment?: Decision["experiment"];
  ctx: RouteContext;
}): string {
  const task = a.taskType.replace("_", " ");
  const how =
    a.tier === "signals"
      ? `signals show ${task} (${a.rule})`
      : a.tier === "classifier"
        ? `the classifier reads it as ${task} (${pct(a.confidence)})`
        : a.tier === "explicit"
          ? `the caller set ${a.modeName}; task reads as ${task}`
          : `the classifier is unsure (${pct(a.confidence)} < ${pct(a.min)}; best guess ${task}), so ${a.modeName}'s default chain applies`;
  const cost = `${a.cx} ${task} needs the ${a.targetTier} tier${a.tierWhy.length ? ` (${a.tierWhy.join(", ")})` : ""}`;
  const exp = a.experiment?.arm === "treatment" ? `; experiment ${a.experiment.name} sends this call to its alternative` : "";
  return `${cap(how)}; ${cost}: ${a.primary} fits best${exp}.`;
}

const ref = (id: string): ModelRef => ({ model: id, provider: providerOf(id) });
const unique = (xs: string[]) => [...new Set(xs)];
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const ms = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000;
const pct = (n: number) => `${Math.round(n * 100)}%`;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function summarizeDrops(dropped: Array<{ id: string; why: string }>): string {
  const byWhy = new Map<string, string[]>();
  for (const d of dropped) byWhy.set(d.why, [...(byWhy.get(d.why) ?? []), d.id]);
  return [...byWhy.entries()].slice(0, 4).map(([why, ids]) => `${ids.length} model(s) ${why}`).join("; ");
}
