import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";
import { defineTool, registerTool } from "./define-tool.js";
import { decisionOutput, routingInput } from "./routing-input.js";

export const routeTaskTool = defineTool({
  name: "route_task",
  title: "Route a task to a model",
  description:
    "Decide which model and provider should handle a task, and explain why, without calling any model. " +
    "Give the prompt (or messages) and any constraints you know (mode, tenant, latency, tools, attachments, cost priorities). " +
    "Returns the chosen provider:model with ordered fallbacks, the task type and complexity, cost tier, estimated tokens and cost, " +
    "the internal and MCP tools the mode uses, and a one-sentence reason with the alternatives considered. Fast (well under a millisecond of routing), offline and free.",
  input: routingInput,
  output: decisionOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }) => runtime.route(args),
});

export function registerRouteTask(server: McpServer, runtime: Runtime): void {
  registerTool(server, runtime, routeTaskTool);
}
