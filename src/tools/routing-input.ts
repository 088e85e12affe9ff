import { z } from "zod";
import { LATENCY_CLASSES, TASK_TYPES, type SwitchboardConfig } from "../config/schema.js";

/** The routing inputs every model-running tool accepts, written once. */
export const routingInput = {
  prompt: z.string().optional().describe("The task or question, as the user wrote it. Give this or `messages`."),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(["system", "user", "assistant", "tool"]),
        content: z.string(),
      }),
    )
    .optional()
    .describe("Chat turns, oldest first, instead of (or as well as) `prompt`. The last user turn is what gets classified."),
  mode: z
    .string()
    .optional()
    .describe("Copilot mode from the routing table (e.g. realtime_assist, structured_planning, research_analyst, system_optimizer). Leave out to let Switchboard pick it from the task."),
  taskType: z.enum(TASK_TYPES).optional().describe("Set only if you already know the task type; otherwise Switchboard classifies the prompt."),
  model: z.string().optional().describe("Force a `provider:model` id from the catalog (e.g. anthropic:claude-sonnet-4-5). Leave out to let Switchboard choose."),
  tenant: z.string().optional().describe("Tenant whose policy, preferences and budget apply. Defaults to the configured default tenant."),
  user: z.string().optional().describe("End-user id, for per-user preferences and usage."),
  latency: z.enum(LATENCY_CLASSES).optional().describe("interactive: a person is waiting; background: batch work that can take longer. Defaults to the mode's latency class."),
  interaction: z.enum(["human_in_the_loop", "automated"]).optional().describe("Whether a person reviews the output (human_in_the_loop) or it feeds automation."),
  costSensitivity: z.enum(["low", "medium", "high"]).optional().describe("high: prefer cheaper models; low: quality first."),
  contextTokens: z.number().int().min(0).optional().describe("Extra context tokens the call will carry beyond the prompt (files, retrieved documents)."),
  maxOutputTokens: z.number().int().positive().optional().describe("Upper bound on the answer's length in tokens; also used for the cost estimate."),
  attachments: z
    .array(
      z.strictObject({
        kind: z.enum(["image", "audio", "video", "document"]),
        name: z.string().optional(),
        mimeType: z.string().optional(),
        tokens: z.number().int().min(0).optional().describe("Token size if known (documents)."),
      }),
    )
    .optional()
    .describe("Files that go with the prompt. Images require a vision-capable model."),
  tools: z.array(z.string()).optional().describe("Internal tools the caller will use (e.g. timeline_commands). Any tools require a model with tool calling."),
  mcpTools: z.array(z.string()).optional().describe("MCP tools the caller will use (e.g. stripe.billing). Any tools require a model with tool calling."),
  modelPreferences: z
    .strictObject({
      costPriority: z.number().min(0).max(1).optional(),
      speedPriority: z.number().min(0).max(1).optional(),
      intelligencePriority: z.number().min(0).max(1).optional(),
      hints: z.array(z.strictObject({ name: z.string().optional() })).optional(),
    })
    .optional()
    .describe("MCP-style preferences: priorities in [0,1] and name hints (substrings such as 'claude-sonnet' or 'gpt-4.1'), in order: the first that matches a model the tenant and the call allow wins."),
  qualityTarget: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("Cost against quality: the share of always-premium quality to keep (e.g. 0.9 saves more, 0.99 sends more calls to premium). Defaults to the tenant's or router's setting."),
  requestId: z.string().max(200).optional().describe("Your id for this request; decides the experiment arm deterministically and links feedback."),
};

/** `mode` lists the routing table's modes, each in a few words (the router checks the value). */
export function modeEnum(cfg: SwitchboardConfig): Record<string, { values: string[]; description: string }> {
  const modes = Object.entries(cfg.modes);
  return {
    mode: {
      values: modes.map(([name]) => name),
      description: `Copilot mode; leave out to let Switchboard pick it from the job and task. ${modes.map(([name, m]) => `${name}: ${m.description.replace(/\.$/, "")}`).join("; ")}.`,
    },
  };
}
