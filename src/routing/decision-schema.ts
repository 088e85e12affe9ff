import { z } from "zod";
import { COMPLEXITIES, COST_TIERS, JOB_KINDS, LATENCY_CLASSES, TASK_TYPES } from "../config/schema.js";

/**
 * The routing decision's shape, declared once. The `Decision` type is inferred from it, and the
 * tools' output schemas are this schema (route_task) or a pick of it (the summary every job
 * result carries), so the three can never drift apart.
 */

const modelRef = z.object({ model: z.string(), provider: z.string() });

export const DECISION_TIERS = ["explicit", "signals", "classifier", "default"] as const;

/** A Switchboard tool call the caller can make next, with the arguments found in the prompt. */
const toolCall = z.object({
  tool: z.string().describe("The Switchboard tool to call: run_llm, research, remove_background, upscale_image, style_transfer, generative_fill, voiceover or transcribe."),
  arguments: z.record(z.string(), z.unknown()).describe("Arguments found in the prompt; fill in what is missing (e.g. the image) before calling."),
  services: z.array(z.string()).optional().describe("The service chain the tool will use, primary first (retrieval for research)."),
  note: z.string().optional().describe("What the prompt asked that the arguments cannot carry, or what is still needed."),
});

const action = toolCall.extend({
  steps: z.array(toolCall).optional().describe("A job of several calls (dubbing: transcribe, translate, voice), in order."),
});

export const decisionShape = {
  requestId: z.string(),
  mode: z.string().describe("The copilot mode the call resolved to."),
  modeSource: z.enum(["explicit", "tenant", "task", "job"]).describe("What chose the mode: the caller, the tenant's default, the task, or a job found in the prompt."),
  job: z.enum(JOB_KINDS),
  action: action.describe("What to call next to run this decision."),
  taskType: z.enum(TASK_TYPES).optional().describe("LLM jobs only."),
  complexity: z.enum(COMPLEXITIES).optional(),
  costTier: z.enum(COST_TIERS).optional(),
  difficulty: z
    .object({
      score: z.number().describe("Calibrated chance (0 to 1) that an economy model's answer falls short where a premium model's would not."),
      reasons: z.array(z.string()).describe("What raised the score most."),
      qualityTarget: z.number().describe("The operating point: share of always-premium quality to keep (call, tenant or router setting)."),
      threshold: z.number().describe("Scores at or above this go premium at this operating point."),
    })
    .optional()
    .describe("LLM jobs only, when config ships a difficulty model."),
  model: z.string().describe("Chosen provider:model."),
  provider: z.string(),
  fallbacks: z.array(modelRef).describe("Ordered backups, tried when the primary fails."),
  tier: z.enum(DECISION_TIERS).describe("Which routing tier decided."),
  confidence: z.number(),
  signals: z.array(z.string()),
  reason: z.string().describe("One-sentence explanation."),
  alternatives: z.array(modelRef.extend({ score: z.number().optional(), why: z.string() })),
  estimate: z.object({
    inputTokens: z.number(),
    outputTokens: z.number(),
    costUsd: z.number(),
    unit: z.string().optional().describe("Services: what they charge by (image, second, minute, 1k characters, request)."),
    unitPriceUsd: z.number().optional(),
    units: z.number().optional().describe("How many units the estimate counts, when the prompt tells."),
  }),
  tools: z.array(z.string()),
  mcpTools: z.array(z.string()),
  latency: z.enum(LATENCY_CLASSES),
  tenant: z.string(),
  experiment: z.object({ name: z.string(), arm: z.enum(["treatment", "control"]) }).optional(),
  adjustments: z.array(z.object({ model: z.string(), delta: z.number(), reason: z.string() })),
  configVersion: z.string(),
  decisionMs: z.number(),
};

export const decisionSchema = z.object(decisionShape);

export type Decision = z.infer<typeof decisionSchema>;
export type DecisionTier = Decision["tier"];
export type ModelRef = z.infer<typeof modelRef>;
export type Alternative = Decision["alternatives"][number];
export type ScoreAdjustment = Decision["adjustments"][number];
export type DecisionAction = Decision["action"];

/** The part of a decision every job result carries, plus the model the router chose first. */
export const decisionSummarySchema = decisionSchema
  .pick({ requestId: true, mode: true, taskType: true, complexity: true, costTier: true, tier: true, confidence: true, reason: true, tools: true, mcpTools: true, experiment: true })
  .extend({ routedModel: z.string().describe("The model the router chose first.") });

export type DecisionSummary = z.infer<typeof decisionSummarySchema>;

export function decisionSummary(d: Decision): DecisionSummary {
  return {
    requestId: d.requestId,
    mode: d.mode,
    taskType: d.taskType,
    complexity: d.complexity,
    costTier: d.costTier,
    tier: d.tier,
    confidence: d.confidence,
    reason: d.reason,
    tools: d.tools,
    mcpTools: d.mcpTools,
    routedModel: d.model,
    ...(d.experiment ? { experiment: d.experiment } : {}),
  };
}
