import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { callLlm } from "../jobs/llm-pipeline.js";
import { guardBudget } from "../budgets/guard.js";
import type { LlmMessage, ResponseFormat } from "../providers/types.js";
import { invalidRequest } from "../errors.js";
import { stripFences } from "../resilience/quality-gate.js";
import type { Decision } from "../routing/types.js";
import type { Attempt } from "../resilience/failover.js";
import type { Runtime } from "../runtime.js";
import { logger } from "../logger.js";
import { defineTool, registerTool, type ToolContext } from "./define-tool.js";
import { attemptOutput, routingInput } from "./routing-input.js";

const jsonSchemaObject = z.record(z.string(), z.unknown());

export const runLlmInput = {
  ...routingInput,
  system: z.string().optional().describe("System instructions for the model."),
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature (not sent to APIs that no longer take one)."),
  responseFormat: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({ type: z.literal("json") }),
      z.strictObject({ type: z.literal("json_schema"), schema: jsonSchemaObject.describe("JSON Schema the answer must match."), name: z.string().optional() }),
    ])
    .optional()
    .describe("Ask for JSON ({type:'json'}) or JSON matching a schema ({type:'json_schema', schema}). An answer that does not parse or match is retried once on a stronger model."),
  functionTools: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
        description: z.string().optional(),
        parameters: jsonSchemaObject.describe("JSON Schema of the arguments."),
      }),
    )
    .optional()
    .describe("Functions the model may call. Its calls come back in toolCalls (not executed); only models with tool calling are chosen."),
};

const usage = z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedInputTokens: z.number() });

export const runLlmOutput = {
  text: z.string().describe("The answer (for JSON formats: the JSON text, without Markdown fences)."),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })),
  model: z.string().describe("The provider:model that answered."),
  provider: z.string(),
  finishReason: z.string(),
  decision: z.object({
    requestId: z.string(),
    mode: z.string(),
    taskType: z.string(),
    complexity: z.string(),
    costTier: z.string(),
    tier: z.string(),
    confidence: z.number(),
    reason: z.string(),
    tools: z.array(z.string()),
    mcpTools: z.array(z.string()),
    routedModel: z.string().describe("The model the router chose first."),
    experiment: z.object({ name: z.string(), arm: z.enum(["treatment", "control"]) }).optional(),
  }),
  attempts: z.array(attemptOutput).describe("Every try in order: retries, skips (open circuit, no credentials), escalations."),
  escalated: z.boolean(),
  warnings: z.array(z.string()).describe("Problems Switchboard saw in the answer but could not fix (e.g. JSON that still misses the schema)."),
  usage,
  costUsd: z.number(),
  latencyMs: z.number(),
};

export const runLlmTool = defineTool({
  name: "run_llm",
  title: "Run an LLM call on the routed model",
  description:
    "Route the task like route_task, then call the chosen model and return its answer. If the provider fails, Switchboard " +
    "retries, skips broken providers and falls back down the chain by itself; an answer that is empty, refused, cut off or not the " +
    "requested JSON is retried once on a stronger model. Only when every option is spent does it return a structured error " +
    "(code, message, hint, retryable, attempts). Streams progress notifications when you pass a progressToken.",
  input: runLlmInput,
  output: runLlmOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: runLlm,
});

export function registerRunLlm(server: McpServer, runtime: Runtime): void {
  registerTool(server, runtime, runLlmTool);
}

type Args = z.infer<z.ZodObject<typeof runLlmInput>>;

async function runLlm(args: Args, ctx: ToolContext) {
  const { runtime, server, extra } = ctx;
  const t0 = performance.now();
  const { system, temperature, responseFormat, functionTools, ...routing } = args;
  const format = responseFormat as ResponseFormat | undefined;
  const wantsJson = !!format && format.type !== "text";
  const routeInput = { ...routing, needs: { toolCalling: (functionTools?.length ?? 0) > 0, json: wantsJson } };
  const routed = runtime.route(routeInput);
  if (routed.job !== "llm") {
    throw invalidRequest(`mode ${routed.mode} is a ${routed.job} job, not an LLM call`, "use the matching media, voice or transcription tool, or pick an LLM mode.", { field: "mode" });
  }
  const budget = await guardBudget(runtime, routeInput, routed, args.maxOutputTokens ?? 4096);
  const decision = budget.decision;
  const messages: LlmMessage[] = [...(args.messages ?? [])];
  if (args.prompt?.trim()) messages.push({ role: "user", content: args.prompt });

  const wantsProgress = extra._meta?.progressToken !== undefined;
  const call = await callLlm(
    runtime,
    server,
    decision,
    {
      messages,
      ...(system ? { system } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(format ? { responseFormat: format } : {}),
      ...(functionTools ? { functionTools } : {}),
      ...(args.maxOutputTokens ? { maxOutputTokens: args.maxOutputTokens } : {}),
      ...(args.modelPreferences ? { modelPreferences: args.modelPreferences } : {}),
    },
    {
      signal: extra.signal,
      ...(wantsProgress ? { onProgress: ctx.status } : {}),
    },
  ).catch(async (err: unknown) => {
    // Failed calls are not billed by providers (a cut stream's partial output aside): release the reservation.
    await budget.settle(0);
    throw err;
  });
  await budget.settle(call.costUsd);

  const r = call.result;
  const out = {
    text: wantsJson ? stripFences(r.text) : r.text,
    toolCalls: r.toolCalls,
    model: call.model,
    provider: call.provider,
    finishReason: r.finishReason,
    decision: decisionSummary(decision),
    attempts: call.attempts,
    escalated: call.escalated,
    warnings: call.problem ? [call.problem] : [],
    usage: r.usage,
    costUsd: call.costUsd,
    latencyMs: Math.round(performance.now() - t0),
  };
  logger.info(
    { requestId: decision.requestId, model: call.model, attempts: call.attempts.length, escalated: call.escalated, latencyMs: out.latencyMs, costUsd: call.costUsd },
    "run_llm served",
  );
  return out;
}

/** The served-by fields of a job result (see servedOutput), from a job outcome and its start time. */
export function served(r: { model: string; provider: string; decision: Decision; attempts: Attempt[]; costUsd: number }, t0: number) {
  return {
    model: r.model,
    provider: r.provider,
    decision: decisionSummary(r.decision),
    attempts: r.attempts,
    costUsd: r.costUsd,
    latencyMs: Math.round(performance.now() - t0),
  };
}

/** The part of a decision every job result carries. */
export function decisionSummary(d: Decision) {
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
