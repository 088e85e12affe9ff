import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { providerOf } from "../config/schema.js";
import { SAMPLING_MODEL, SamplingAdapter } from "../providers/sampling.js";
import type { ChatRequest, ChatResult, LlmMessage, ResponseFormat } from "../providers/types.js";
import { invalidRequest } from "../resilience/errors.js";
import { runChain } from "../resilience/failover.js";
import { answerProblem, stripFences } from "../resilience/quality-gate.js";
import type { Decision } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { logger } from "../logger.js";
import { defineTool, registerTool, type ToolContext } from "./define-tool.js";
import { routingInput } from "./routing-input.js";

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
const attempt = z.object({
  model: z.string(),
  provider: z.string(),
  outcome: z.enum(["ok", "error", "skipped", "escalated"]),
  errorCode: z.string().optional(),
  message: z.string().optional(),
  latencyMs: z.number(),
});

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
  }),
  attempts: z.array(attempt).describe("Every try in order: retries, skips (open circuit, no credentials), escalations."),
  escalated: z.boolean(),
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
  const wantsJson = !!responseFormat && responseFormat.type !== "text";
  const decision = runtime.route({ ...routing, needs: { toolCalling: (functionTools?.length ?? 0) > 0, json: wantsJson } });
  if (decision.job !== "llm") {
    throw invalidRequest(`mode ${decision.mode} is a ${decision.job} job, not an LLM call`, "use the matching media, voice or transcription tool, or pick an LLM mode.", { field: "mode" });
  }

  const messages: LlmMessage[] = [...(args.messages ?? [])];
  if (args.prompt?.trim()) messages.push({ role: "user", content: args.prompt });
  const cfg = runtime.config;
  const latency = cfg.router.latencyClasses[decision.latency];
  const sampling = SamplingAdapter.supported(server.server)
    ? new SamplingAdapter(server.server, samplingPreferences(decision, args))
    : undefined;
  const candidates = [decision.model, ...decision.fallbacks.map((f) => f.model), ...(sampling ? [SAMPLING_MODEL] : [])];

  let streamed = 0;
  let lastProgress = 0;
  const progress = (message: string) => void ctx.progress(streamed, undefined, message).catch(() => undefined);
  const wantsProgress = extra._meta?.progressToken !== undefined;

  const chain = await runChain(candidates, {
    cfg,
    board: runtime.breakers,
    taskType: decision.taskType,
    signal: extra.signal,
    attemptTimeoutMs: latency.attemptTimeoutMs,
    deadlineAt: Date.now() + latency.deadlineMs,
    interactive: decision.latency === "interactive",
    secrets: runtime.providers.secrets(),
    keyHint: (p) => runtime.providers.keyEnv(p),
    callable: (id) => (id === SAMPLING_MODEL ? !!sampling : !!runtime.providers.adapter(providerOf(id))),
    check: (r) => answerProblem(r, responseFormat as ResponseFormat | undefined),
    call: (id, signal) => {
      const adapter = id === SAMPLING_MODEL ? sampling! : runtime.providers.adapter(providerOf(id))!;
      const model = cfg.models[id];
      const req: ChatRequest = {
        model: id.slice(id.indexOf(":") + 1),
        messages,
        maxOutputTokens: Math.min(args.maxOutputTokens ?? 4096, model?.maxOutput ?? 4096),
        ...(system ? { system } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        ...(responseFormat ? { responseFormat: responseFormat as ResponseFormat } : {}),
        ...(functionTools?.length ? { tools: functionTools } : {}),
      };
      if (wantsProgress) progress(`calling ${id}`);
      return adapter.chat(req, {
        signal,
        ...(wantsProgress
          ? {
              onDelta: (piece: string) => {
                streamed += piece.length;
                // Throttled: a notification per ~200 characters keeps clients alive without flooding them.
                if (streamed - lastProgress >= 200) {
                  lastProgress = streamed;
                  progress(`streaming from ${id}`);
                }
              },
            }
          : {}),
      });
    },
  });

  const served = chain.model === SAMPLING_MODEL && sampling?.lastModel ? `sampling:${sampling.lastModel}` : chain.model;
  const result: ChatResult = chain.result;
  const costUsd = priceOf(runtime, chain.model, result);
  const out = {
    text: wantsJson ? stripFences(result.text) : result.text,
    toolCalls: result.toolCalls,
    model: served,
    provider: providerOf(chain.model),
    finishReason: result.finishReason,
    decision: {
      requestId: decision.requestId,
      mode: decision.mode,
      taskType: decision.taskType,
      complexity: decision.complexity,
      costTier: decision.costTier,
      tier: decision.tier,
      confidence: decision.confidence,
      reason: decision.reason,
      tools: decision.tools,
      mcpTools: decision.mcpTools,
      routedModel: decision.model,
    },
    attempts: chain.attempts,
    escalated: chain.escalated,
    usage: result.usage,
    costUsd,
    latencyMs: Math.round(performance.now() - t0),
  };
  logger.info(
    { requestId: decision.requestId, model: served, attempts: chain.attempts.length, escalated: chain.escalated, latencyMs: out.latencyMs, costUsd },
    "run_llm served",
  );
  return out;
}

function samplingPreferences(d: Decision, args: Args) {
  const name = d.model.slice(d.model.indexOf(":") + 1);
  const p = args.modelPreferences;
  const byTier = { economy: { cost: 0.8, intelligence: 0.3 }, standard: { cost: 0.5, intelligence: 0.6 }, premium: { cost: 0.2, intelligence: 0.9 } }[d.costTier];
  return {
    hints: [name, ...(p?.hints ?? []).map((h) => h.name ?? "").filter(Boolean)],
    costPriority: p?.costPriority ?? byTier.cost,
    speedPriority: p?.speedPriority ?? (d.latency === "interactive" ? 0.7 : 0.3),
    intelligencePriority: p?.intelligencePriority ?? byTier.intelligence,
  };
}

/** Cost from catalog prices and the provider's reported usage; cached input at its own price. */
function priceOf(runtime: Runtime, id: string, r: ChatResult): number {
  const m = runtime.config.models[id];
  if (!m) return 0;
  const cached = Math.min(r.usage.cachedInputTokens, r.usage.inputTokens);
  const cost = ((r.usage.inputTokens - cached) * m.price.input + cached * (m.price.cachedInput ?? m.price.input) + r.usage.outputTokens * m.price.output) / 1e6;
  return Math.round(cost * 1e8) / 1e8;
}
