import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";
import { registerTool, type AnyToolDefinition } from "./define-tool.js";
import { generativeFillTool } from "./generative-fill.js";
import { recordFeedbackTool } from "./record-feedback.js";
import { removeBackgroundTool } from "./remove-background.js";
import { researchTool } from "./research.js";
import { routeTaskTool } from "./route-task.js";
import { runLlmTool } from "./run-llm.js";
import { styleTransferTool } from "./style-transfer.js";
import { transcribeTool } from "./transcribe.js";
import { upscaleImageTool } from "./upscale-image.js";
import { usageReportTool } from "./usage-report.js";
import { voiceoverTool } from "./voiceover.js";

/** Every tool Switchboard serves, in the order clients list them. A new tool is one line here. */
export const TOOLS: readonly AnyToolDefinition[] = [
  routeTaskTool,
  runLlmTool,
  researchTool,
  removeBackgroundTool,
  upscaleImageTool,
  styleTransferTool,
  generativeFillTool,
  voiceoverTool,
  transcribeTool,
  recordFeedbackTool,
  usageReportTool,
];

export function registerTools(server: McpServer, runtime: Runtime): void {
  for (const tool of TOOLS) registerTool(server, runtime, tool);
}

/**
 * Loads the code the tools run (the LLM pipeline, resilience, research, media and voice jobs).
 * The tools import it on their first run, so a start-up that lists tools and routes does not wait
 * for it (some 35 ms); a server calls this once it is idle, so that first run does not either.
 */
export function preloadJobs(): Promise<unknown> {
  return Promise.all([import("../jobs/tool-loop.js"), import("../jobs/research.js"), import("../jobs/voice.js"), import("../jobs/media-job.js")]);
}
