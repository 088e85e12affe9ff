import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { modelName, providerOf, tenantAllows } from "../config/catalog.js";
import { ProviderFailure, toProviderFailure } from "../providers/errors.js";
import { SAMPLING_MODEL, SamplingAdapter } from "../providers/sampling.js";
import type { ModelEntry } from "../config/schema.js";
import type { ChatRequest, ChatResult, FunctionTool, LlmMessage, PassthroughEvent, Reasoning, ResponseFormat, Sampling, ServerTool, SystemBlock, ThinkingDelta, ToolCallDelta, ToolChoice } from "../providers/types.js";
import { runChain, type Attempt } from "../resilience/failover.js";
import { answerProblem } from "../resilience/quality-gate.js";
import { strongerModel } from "../routing/escalation.js";
import type { Decision, ModelPreferences } from "../routing/types.js";
import type { Runtime } from "../runtime.js";

export interface LlmCallSpec {
  messages: LlmMessage[];
  system?: string;
  /** The system prompt as the caller's blocks with their cache breakpoints (`system` holds their joined text). */
  systemBlocks?: SystemBlock[];
  temperature?: number;
  /** top_p, top_k, seed and penalties, where the serving model's API takes them. */
  sampling?: Sampling;
  responseFormat?: ResponseFormat;
  functionTools?: FunctionTool[];
  /** With functionTools: the call the answer must make (the client's `tool_choice`). */
  toolChoice?: ToolChoice;
  /** With functionTools: false asks for one tool call per answer at most (`parallel_tool_calls`, `disable_parallel_tool_use`). */
  parallelToolCalls?: boolean;
  /** The provider's own server tools (Anthropic's web search): sent only to models that run them. */
  serverTools?: ServerTool[];
  maxOutputTokens?: number;
  modelPreferences?: ModelPreferences;
  /** Sequences that end the answer. */
  stop?: string[];
  /** Reasoning asked for: sent only to models whose catalog entry takes it (supports.reasoning). */
  reasoning?: Reasoning;
}

export interface LlmCallResult {
  result: ChatResult;
  /** provider:model that answered ("sampling:<client model>" through sampling). */
  model: string;
  provider: string;
  attempts: Attempt[];
  escalated: boolean;
  costUsd: number;
  /** Why the answer still fails its check, when nothing could do better. */
  problem?: string;
}

export interface LlmCallContext {
  signal: AbortSignal;
  /** Streams when set: called with the characters received so far. */
  onProgress?: (streamedChars: number, message: string) => void;
  /**
   * Streams when set: each piece of the answer as it arrives, with the model sending it. Once a
   * piece has been handed over, the answer cannot change hands: a failure after it ends the call
   * (no retry, fallback or escalation would repeat what the caller already has).
   */
  onText?: (piece: string, model: string) => void;
  /** With onText: each piece of the model's streamed thinking, which commits the answer to its model as text does. */
  onThinking?: (delta: ThinkingDelta, model: string) => void;
  /** With onText: each piece of a streamed tool call, which commits the answer to its model as text does. */
  onToolCall?: (delta: ToolCallDelta, model: string) => void;
  /** With onText: the events of blocks passed through untranslated (server tools'), which commit the answer as text does. */
  onBlock?: (event: PassthroughEvent, model: string) => void;
  /** Reserves budget for an escalation before it runs; when it does not fit, the first answer stands with a warning. */
  reserveEscalation?: (model: string) => Promise<{ ok: true } | { ok: false; why: string }>;
}

/** The decision's chain, then the client's own model when it can sample. */
function candidatesFor(decision: Decision, sampling: SamplingAdapter | undefined): string[] {
  return [decision.model, ...decision.fallbacks.map((f) => f.model), ...(sampling ? [SAMPLING_MODEL] : [])];
}

/** Whether any model of the decision's chain (or the client's) can be called here. */
export function llmAvailable(runtime: Runtime, server: McpServer | undefined, decision: Decision): boolean {
  if (server && SamplingAdapter.supported(server.server)) return true;
  return candidatesFor(decision, undefined).some((id) => !!runtime.providers.adapter(providerOf(id)));
}

/**
 * Runs one LLM call down the decision's chain with retries, breakers, fallbacks and escalation.
 * `server` is the MCP session the call came through (its client may sample); none over the
 * OpenAI- and Anthropic-compatible endpoints.
 */
export async function callLlm(runtime: Runtime, server: McpServer | undefined, decision: Decision, spec: LlmCallSpec, ctx: LlmCallContext): Promise<LlmCallResult> {
  const cfg = runtime.config;
  const latency = cfg.router.latencyClasses[decision.latency];
  const sampling = server && SamplingAdapter.supported(server.server) ? new SamplingAdapter(server.server, samplingPreferences(decision, spec.modelPreferences)) : undefined;
  let streamed = 0;
  /** Characters handed to `ctx.onText`: from the first, the answer is committed to its model. */
  let relayed = 0;
  let reported = 0;
  let lastSent = -1;
  // MCP progress must increase: a status message between attempts still moves it forward.
  /** The escalation target not yet reserved, and why an escalation was not run when the budget refused it. */
  let unreserved: string | undefined;
  let budgetNote: string | undefined;
  const send = (message: string) => {
    lastSent = Math.max(streamed, lastSent + 1);
    ctx.onProgress?.(lastSent, message);
  };

  const chain = await runChain(candidatesFor(decision, sampling), {
    cfg,
    board: runtime.breakers,
    signal: ctx.signal,
    limits: {
      attemptTimeoutMs: latency.attemptTimeoutMs,
      deadlineAt: Date.now() + latency.deadlineMs,
      interactive: decision.latency === "interactive",
    },
    reporting: {
      secrets: runtime.providers.secrets(),
      keyHint: (p) => runtime.providers.keyEnv(p),
      samplingPossible: true,
    },
    target: {
      callable: (id) => (id === SAMPLING_MODEL ? !!sampling : !!runtime.providers.adapter(providerOf(id))),
      eligible: (id) => tenantAllows(cfg.tenants[decision.tenant]!, id),
      check: (r) => answerProblem(r, spec.responseFormat),
      escalate: (failed, usable) => (relayed ? undefined : (unreserved = strongerModel(cfg, decision.taskType ?? cfg.modes[decision.mode]!.defaultTaskType, failed, usable))),
      stopAfterFailure: () => relayed > 0,
      call: async (id, signal) => {
        if (id === unreserved && ctx.reserveEscalation) {
          unreserved = undefined;
          const grant = await ctx.reserveEscalation(id);
          if (!grant.ok) {
            budgetNote = `not escalated to ${id}: ${grant.why}`;
            // Not retryable and not a sign of ill health: the chain returns the first answer, breakers untouched.
            throw new ProviderFailure("budget_exceeded", budgetNote, false);
          }
        }
        const adapter = id === SAMPLING_MODEL ? sampling! : runtime.providers.adapter(providerOf(id))!;
        const req = chatRequestFor(cfg.models[id], id, spec);
        const progress = ctx.onProgress;
        const onText = ctx.onText;
        const onThinking = ctx.onThinking;
        const onToolCall = ctx.onToolCall;
        const onBlock = ctx.onBlock;
        if (progress) send(`calling ${id}`);
        const answer = adapter.chat(req, {
          signal,
          ...(progress || onText
            ? {
                ...(onText && onThinking
                  ? {
                      onThinking: (delta: ThinkingDelta) => {
                        relayed += delta.type === "thinking" ? delta.text.length : delta.type === "signature" ? delta.signature.length : delta.data.length;
                        onThinking(delta, id);
                      },
                    }
                  : {}),
                ...(onText && onToolCall
                  ? {
                      onToolCall: (delta: ToolCallDelta) => {
                        relayed += 1 + (delta.arguments?.length ?? 0);
                        onToolCall(delta, id);
                      },
                    }
                  : {}),
                ...(onText && onBlock
                  ? {
                      onBlock: (event: PassthroughEvent) => {
                        relayed += 1;
                        onBlock(event, id);
                      },
                    }
                  : {}),
                onDelta: (piece: string) => {
                  if (onText) {
                    relayed += piece.length;
                    onText(piece, id);
                  }
                  if (!progress) return;
                  streamed += piece.length;
                  // Throttled: a notification per ~200 characters keeps clients alive without flooding them.
                  if (streamed - reported >= 200) {
                    reported = streamed;
                    send(`streaming from ${id}`);
                  }
                },
              }
            : {}),
        });
        if (!onText) return answer;
        return answer.catch((err: unknown) => {
          if (!relayed) throw err;
          // Part of this answer is already with the caller: no retry and no other model may follow it.
          const f = toProviderFailure(err, { provider: providerOf(id), secrets: runtime.providers.secrets(), cancelled: signal.aborted });
          throw new ProviderFailure(f.code, `${f.message} (after ${relayed} characters of the answer had been sent)`, false);
        });
      },
    },
  });

  const served = chain.model === SAMPLING_MODEL && sampling?.lastModel ? `sampling:${sampling.lastModel}` : chain.model;
  return {
    result: chain.result,
    model: served,
    provider: providerOf(chain.model),
    attempts: chain.attempts,
    escalated: chain.escalated,
    costUsd: llmCost(runtime, chain.model, chain.result),
    ...(chain.problem ? { problem: budgetNote ? `${chain.problem} (${budgetNote})` : chain.problem } : {}),
  };
}

/**
 * What one model of the chain is sent: the spec within the model's catalog entry (its output
 * ceiling; reasoning only where it is taken, temperature and sampling settings not where they are
 * refused).
 */
export function chatRequestFor(model: ModelEntry | undefined, id: string, spec: LlmCallSpec): ChatRequest {
  const samples = model?.supports.temperature !== false;
  const temperature = samples ? spec.temperature : undefined;
  return {
    model: modelName(id),
    messages: spec.messages,
    maxOutputTokens: Math.min(spec.maxOutputTokens ?? 4096, model?.maxOutput ?? 4096),
    ...(spec.system ? { system: spec.system } : {}),
    ...(spec.systemBlocks?.length ? { systemBlocks: spec.systemBlocks } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(samples && spec.sampling ? { sampling: spec.sampling } : {}),
    ...(spec.responseFormat ? { responseFormat: spec.responseFormat } : {}),
    ...(spec.functionTools?.length
      ? { tools: spec.functionTools, ...(spec.toolChoice ? { toolChoice: spec.toolChoice } : {}), ...(spec.parallelToolCalls !== undefined ? { parallelToolCalls: spec.parallelToolCalls } : {}) }
      : {}),
    ...(spec.stop?.length ? { stop: spec.stop } : {}),
    ...(spec.serverTools?.length && model?.supports.serverTools ? { serverTools: spec.serverTools } : {}),
    ...(spec.reasoning && model?.supports.reasoning
      ? { reasoning: spec.reasoning, maxOutputCeiling: model.maxOutput, ...(model.supports.reasoningEfforts ? { reasoningEfforts: model.supports.reasoningEfforts } : {}) }
      : {}),
  };
}

function samplingPreferences(d: Decision, p: ModelPreferences | undefined) {
  const name = modelName(d.model);
  const byTier = { economy: { cost: 0.8, intelligence: 0.3 }, standard: { cost: 0.5, intelligence: 0.6 }, premium: { cost: 0.2, intelligence: 0.9 } }[d.costTier ?? "standard"];
  return {
    hints: [name, ...(p?.hints ?? []).map((h) => h.name ?? "").filter(Boolean)],
    costPriority: p?.costPriority ?? byTier.cost,
    speedPriority: p?.speedPriority ?? (d.latency === "interactive" ? 0.7 : 0.3),
    intelligencePriority: p?.intelligencePriority ?? byTier.intelligence,
  };
}

/** Cost from catalog prices and the provider's reported usage; cache reads and writes at their own prices. */
export function llmCost(runtime: Runtime, id: string, r: ChatResult): number {
  const m = runtime.config.models[id];
  if (!m) return 0;
  const u = r.usage;
  const cached = Math.min(u.cachedInputTokens, u.inputTokens);
  const written = Math.min(u.cacheWriteTokens ?? 0, u.inputTokens - cached);
  const hour = Math.min(u.cacheWrite1hTokens ?? 0, written);
  const write = m.price.cacheWrite ?? m.price.input;
  const input =
    (u.inputTokens - cached - written) * m.price.input + cached * (m.price.cachedInput ?? m.price.input) + (written - hour) * write + hour * (m.price.cacheWrite1h ?? write);
  const cost = (input + u.outputTokens * m.price.output) / 1e6 + (u.webSearches ?? 0) * (m.price.perWebSearch ?? 0);
  return Math.round(cost * 1e8) / 1e8;
}
