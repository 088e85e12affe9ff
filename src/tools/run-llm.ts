import { z } from "zod";
import type { LlmMessage, ResponseFormat } from "../providers/types.js";
import { stripFences } from "../resilience/quality-gate.js";
import { decisionSummary, decisionSummarySchema } from "../routing/decision-schema.js";
import { logger } from "../logger.js";
import { principalOf } from "../auth.js";
import { defineTool, type ToolContext } from "./define-tool.js";
import { modeEnum, routingInput } from "./routing-input.js";
import { servedOutput } from "./served-output.js";

const jsonSchemaObject = z.record(z.string(), z.unknown());

export const runLlmInput = {
  ...routingInput,
  system: z.string().optional().describe("System instructions."),
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature (dropped where an API takes none)."),
  responseFormat: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({ type: z.literal("json") }),
      z.strictObject({ type: z.literal("json_schema"), schema: jsonSchemaObject, name: z.string().optional() }),
    ])
    .optional()
    // Listed as one object (a oneOf of three is most of run_llm's schema); the strict parse still checks the union.
    .meta({
      oneOf: undefined,
      type: "object",
      properties: { type: { enum: ["text", "json", "json_schema"] }, schema: { type: "object", description: "JSON Schema, for json_schema." }, name: { type: "string" } },
      required: ["type"],
    })
    .describe("JSON, or JSON matching a schema; an answer that fails is retried once on a stronger model."),
  functionTools: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
        description: z.string().optional(),
        parameters: jsonSchemaObject.describe("JSON Schema."),
      }),
    )
    .optional()
    .describe("Functions the model may call; calls come back in toolCalls, not run."),
};

const usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedInputTokens: z.number(), cacheWriteTokens: z.number().optional(), cacheWrite1hTokens: z.number().optional() });

export const runLlmOutput = {
  text: z.string().describe("The answer (for JSON formats: the JSON text, without Markdown fences)."),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })),
  finishReason: z.string(),
  ...servedOutput,
  decision: decisionSummarySchema.describe("The routing decision: mode, task, tier, tools, MCP tools, reason, requestId."),
  model: z.string().describe("The provider:model that answered."),
  escalated: z.boolean(),
  warnings: z.array(z.string()).describe("Problems Switchboard saw in the answer but could not fix (e.g. JSON that still misses the schema)."),
  mcpToolCalls: z.array(z.object({ tool: z.string(), outcome: z.string(), latencyMs: z.number() })).describe("Downstream MCP tools called (ns.tool, ok or an error code)."),
  usage,
};

export const runLlmTool = defineTool({
  name: "run_llm",
  title: "Run an LLM call on the routed model",
  description:
    "Route like route_task (same arguments, described there), then call the chosen model and return its answer. Retries and " +
    "falls back down the chain by itself; an empty, refused, cut-off or wrong-JSON answer is retried once on a stronger model. " +
    "Fails only when all options are spent, with a structured error (code, message, hint, retryable, attempts).",
  input: runLlmInput,
  listedEnums: modeEnum,
  describedOn: { tool: "route_task", fields: Object.keys(routingInput) },
  output: runLlmOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: runLlm,
});

type Args = z.infer<z.ZodObject<typeof runLlmInput>>;
const unique = (xs: string[]) => [...new Set(xs)];

async function runLlm(args: Args, ctx: ToolContext) {
  const { runtime, server, extra } = ctx;
  const t0 = performance.now();
  const { system, temperature, responseFormat, functionTools, ...routing } = args;
  const format = responseFormat as ResponseFormat | undefined;
  const wantsJson = !!format && format.type !== "text";
  const messages: LlmMessage[] = [...(args.messages ?? [])];
  if (args.prompt?.trim()) messages.push({ role: "user", content: args.prompt });

  const wantsProgress = extra._meta?.progressToken !== undefined;
  const caller = principalOf(extra);
  const { runLlmWithTools } = await import("../jobs/tool-loop.js");
  const run = await runLlmWithTools(
    runtime,
    server,
    {
      route: { ...routing, needs: { toolCalling: (functionTools?.length ?? 0) > 0, json: wantsJson } },
      ...(caller ? { caller } : {}),
      call: {
        messages,
        ...(system ? { system } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        ...(format ? { responseFormat: format } : {}),
        ...(functionTools ? { functionTools } : {}),
        ...(args.maxOutputTokens ? { maxOutputTokens: args.maxOutputTokens } : {}),
        ...(args.modelPreferences ? { modelPreferences: args.modelPreferences } : {}),
      },
    },
    {
      signal: extra.signal,
      onDecision: (decision) => ctx.serve({ decision }),
      ...(wantsProgress ? { onProgress: ctx.status } : {}),
    },
  );
  ctx.serve({ ...run, ...(run.mcpToolCalls.length ? { mcpToolsUsed: unique(run.mcpToolCalls.map((c) => c.tool)) } : {}) });

  const r = run.result;
  const out = {
    text: wantsJson ? stripFences(r.text) : r.text,
    toolCalls: r.toolCalls,
    model: run.model,
    provider: run.provider,
    finishReason: r.finishReason,
    decision: decisionSummary(run.decision),
    attempts: run.attempts,
    escalated: run.escalated,
    warnings: [...(run.problem ? [run.problem] : []), ...run.warnings],
    mcpToolCalls: run.mcpToolCalls,
    usage: r.usage,
    costUsd: run.costUsd,
    latencyMs: Math.round(performance.now() - t0),
  };
  logger.info(
    { requestId: run.decision.requestId, model: run.model, attempts: run.attempts.length, escalated: run.escalated, latencyMs: out.latencyMs, costUsd: run.costUsd },
    "run_llm served",
  );
  return out;
}
