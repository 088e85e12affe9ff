import { z } from "zod";
import { LATENCY_CLASSES, TASK_TYPES, type SwitchboardConfig } from "../config/schema.js";

const MODE = "Copilot mode (see switchboard://config/routing-table). Default: from the job and task.";

/** The routing inputs every model-running tool accepts, written once. */
export const routingInput = {
  prompt: z.string().optional().describe("The task, as the user wrote it. Give this or messages."),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(["system", "user", "assistant", "tool"]),
        content: z.string(),
      }),
    )
    .optional()
    .describe("Chat turns, oldest first; the last user turn is classified."),
  mode: z
    .string()
    .optional()
    .describe(MODE),
  taskType: z.enum(TASK_TYPES).optional().describe("Default: classified from the prompt."),
  model: z.string().optional().describe("Force a provider:model from the catalog."),
  tenant: z.string().optional().describe("Whose policy, preferences and budget apply."),
  user: z.string().optional().describe("End-user id (preferences, usage)."),
  latency: z.enum(LATENCY_CLASSES).optional().describe("interactive: a person waits. Default: the mode's."),
  interaction: z.enum(["human_in_the_loop", "automated"]).optional().describe("Whether a person reviews the output."),
  costSensitivity: z.enum(["low", "medium", "high"]).optional().describe("high prefers cheaper models."),
  contextTokens: z.number().int().min(0).optional().describe("Context tokens beyond the prompt (files, documents)."),
  maxOutputTokens: z.number().int().positive().optional().describe("Cap on the answer's tokens; also prices the estimate."),
  attachments: z
    .array(
      z.strictObject({
        kind: z.enum(["image", "audio", "video", "document"]),
        name: z.string().optional(),
        mimeType: z.string().optional(),
        tokens: z.number().int().min(0).optional(),
      }),
    )
    .optional()
    .describe("Files going with the prompt; images need vision."),
  tools: z.array(z.string()).optional().describe("Internal tools the call will use."),
  mcpTools: z.array(z.string()).optional().describe("MCP tools the call will use."),
  modelPreferences: z
    .strictObject({
      costPriority: z.number().min(0).max(1).optional(),
      speedPriority: z.number().min(0).max(1).optional(),
      intelligencePriority: z.number().min(0).max(1).optional(),
      hints: z.array(z.strictObject({ name: z.string().optional() })).optional(),
    })
    .optional()
    .describe("MCP model preferences; hints: name substrings, first match wins."),
  qualityTarget: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("Share of premium quality to keep (0.9 saves more than 0.99)."),
  requestId: z.string().max(200).optional().describe("Your id (feedback, experiment arm)."),
};

/** `mode` lists the routing table's modes; what each is for is in the routing-table resource (the router checks the value). */
export function modeEnum(cfg: SwitchboardConfig): Record<string, { values: string[]; description: string }> {
  return {
    mode: {
      values: Object.keys(cfg.modes),
      description: MODE,
    },
  };
}
