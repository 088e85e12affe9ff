import { defineTool } from "./define-tool.js";
import { decisionShape } from "../routing/decision-schema.js";
import { modeEnum, routingInput } from "./routing-input.js";

export const routeTaskTool = defineTool({
  name: "route_task",
  title: "Route a task to a model",
  description:
    "Pick the model and provider for a task and say why, without calling any model (offline, free, sub-millisecond). Give the " +
    "prompt or messages and any constraints you know. Returns provider:model, fallbacks, task, complexity, cost tier and estimate, " +
    "a one-line reason, alternatives, and `action`: the call that runs it. Fields: switchboard://docs/tools/route_task.",
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
