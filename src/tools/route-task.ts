import { defineTool } from "./define-tool.js";
import { decisionShape } from "../routing/decision-schema.js";
import { modeEnum, routingInput } from "./routing-input.js";

export const routeTaskTool = defineTool({
  name: "route_task",
  title: "Route a task to a model",
  description:
    "Decide which model and provider should handle a task, and explain why, without calling any model. " +
    "Give the prompt (or messages) and any constraints you know (mode, tenant, latency, tools, attachments, cost priorities). " +
    "Returns the chosen provider:model with ordered fallbacks, the task type and complexity, cost tier, estimated tokens and cost, " +
    "the internal and MCP tools the mode uses, and a one-sentence reason with the alternatives considered. Fast (well under a millisecond of routing), offline and free.",
  input: routingInput,
  listedEnums: modeEnum,
  output: decisionShape,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime, serve }) => {
    const decision = runtime.route(args);
    serve({ decision, model: decision.model, provider: decision.provider });
    return decision;
  },
});
