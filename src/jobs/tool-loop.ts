import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { asFunctionTools, type DownstreamTool } from "../downstream/pool.js";
import type { LlmMessage, ToolCall, Usage } from "../providers/types.js";
import type { Attempt } from "../resilience/failover.js";
import type { Decision } from "../routing/types.js";
import type { Runtime } from "../runtime.js";
import { routeLlm, runLlmPipeline, type LlmJob, type LlmOutcome, type PipelineContext } from "./llm-pipeline.js";

/** One downstream tool call of a run: `<namespace>.<tool>`, "ok" or why not, and how long it took. */
export interface McpToolCall {
  tool: string;
  outcome: string;
  latencyMs: number;
}

export interface ToolLoopOutcome extends LlmOutcome {
  mcpToolCalls: McpToolCall[];
  /** What the run could not do as asked (a server unreachable, the step limit), for the caller. */
  warnings: string[];
}

const unique = <T>(xs: T[]) => [...new Set(xs)];
const addUsage = (a: Usage, b: Usage): Usage => {
  const written = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  const hour = (a.cacheWrite1hTokens ?? 0) + (b.cacheWrite1hTokens ?? 0);
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    ...(written ? { cacheWriteTokens: written } : {}),
    ...(hour ? { cacheWrite1hTokens: hour } : {}),
  };
};

/** The call's arguments as an object, or why they are not one. */
function argumentsOf(call: ToolCall): Record<string, unknown> | string {
  try {
    const v: unknown = JSON.parse(call.arguments || "{}");
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : "the arguments must be a JSON object";
  } catch {
    return "the arguments were not valid JSON";
  }
}

/**
 * run_llm with the downstream MCP tools the call names (`mcpTools`) or its mode lists: the model
 * is routed among tool-capable models and given those tools as functions; Switchboard calls them
 * on their servers and feeds the results back, for up to `mcp.maxToolSteps` rounds, each round
 * reserved and settled through the one LLM pipeline. A tool that fails, hangs, is missing or whose
 * server died comes back to the model as a structured error it can reason about, and the run
 * still answers. With no downstream tool that applies, this is one pipeline call.
 */
export async function runLlmWithTools(runtime: Runtime, server: McpServer | undefined, given: LlmJob, ctx: PipelineContext): Promise<ToolLoopOutcome> {
  const route = { ...given.route, needs: { ...given.route.needs, llm: true } };
  const named = given.route.mcpTools ?? [];
  // The mode's tools are known once routed; a routed call that names none and whose mode lists none is a plain call.
  const decision = given.decision ?? (named.length || runtime.downstream.configured ? routeLlm(runtime, { ...route, needs: { ...route.needs, toolCalling: named.length > 0 || route.needs.toolCalling } }) : undefined);
  const patterns = unique(decision?.mcpTools ?? named);
  if (!decision || !patterns.length || !runtime.downstream.configured) {
    const run = await runLlmPipeline(runtime, server, { ...given, ...(decision ? { decision } : {}) }, ctx);
    return { ...run, mcpToolCalls: [], warnings: [] };
  }

  const tenant = decision.tenant;
  const { tools, unavailable } = await runtime.downstream.toolsFor(tenant, patterns);
  const warnings = unavailable.map((u) => `MCP server ${u.server} is unavailable (${u.why}); its tools were not offered`);
  if (!tools.length) {
    warnings.push(`no downstream MCP tool matches ${patterns.join(", ")} for tenant ${tenant}`);
    const run = await runLlmPipeline(runtime, server, { ...given, decision }, ctx);
    return { ...run, mcpToolCalls: [], warnings };
  }
  return loop(runtime, server, given, decision, tools, warnings, ctx);
}

async function loop(runtime: Runtime, server: McpServer | undefined, given: LlmJob, first: Decision, tools: DownstreamTool[], warnings: string[], ctx: PipelineContext): Promise<ToolLoopOutcome> {
  const byFn = new Map(tools.map((t) => [t.fn, t]));
  const clientTools = given.call.functionTools ?? [];
  const messages: LlmMessage[] = [...given.call.messages];
  const calls: McpToolCall[] = [];
  const attempts: Attempt[] = [];
  let usage: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  let costUsd = 0;
  let decision = first;
  const max = runtime.config.mcp.maxToolSteps;

  for (let step = 1; ; step++) {
    // The last round offers no downstream tools, so the model answers with what it has.
    const last = step >= max;
    const functionTools = last ? clientTools : [...clientTools, ...asFunctionTools(tools)];
    const run = await runLlmPipeline(runtime, server, { ...given, decision, call: { ...given.call, messages, functionTools } }, { ...ctx, ...(step > 1 ? { onDecision: undefined } : {}) });
    decision = run.decision;
    attempts.push(...run.attempts);
    usage = addUsage(usage, run.usage);
    costUsd += run.costUsd;
    const mine = run.result.toolCalls.filter((c) => byFn.has(c.name));
    const theirs = run.result.toolCalls.filter((c) => !byFn.has(c.name));
    const done = (extra: string[] = []): ToolLoopOutcome => ({ ...run, attempts, usage, costUsd: Math.round(costUsd * 1e8) / 1e8, result: { ...run.result, usage }, mcpToolCalls: calls, warnings: [...warnings, ...extra] });
    // The caller's own functions go back to the caller; downstream calls asked for beside them are not run.
    if (theirs.length) return done(mine.length ? [`${mine.length} downstream tool call(s) asked for beside your functions were not run`] : []);
    if (!mine.length) return done(last && step > 1 ? [`stopped offering tools after ${max} steps (mcp.maxToolSteps)`] : []);

    ctx.onProgress?.(step * 1000, `step ${step}: calling ${mine.map((c) => byFn.get(c.name)!.id).join(", ")}`);
    const results = await Promise.all(mine.map((c) => callOne(runtime, decision.tenant, byFn.get(c.name)!, c, ctx.signal)));
    messages.push({ role: "assistant", content: run.result.text, toolCalls: mine });
    for (const [i, c] of mine.entries()) {
      const r = results[i]!;
      calls.push({ tool: byFn.get(c.name)!.id, outcome: r.outcome, latencyMs: r.latencyMs });
      messages.push({ role: "tool", toolCallId: c.id, content: r.content });
    }
    ctx.onProgress?.(step * 1000 + 500, `step ${step}: ${results.map((r, i) => `${byFn.get(mine[i]!.name)!.id} ${r.outcome}`).join(", ")}`);
  }
}

/** One downstream call; its result as the tool message the model reads (an error as structured JSON). */
async function callOne(runtime: Runtime, tenant: string, tool: DownstreamTool, call: ToolCall, signal: AbortSignal): Promise<{ outcome: string; latencyMs: number; content: string }> {
  const t0 = performance.now();
  const args = argumentsOf(call);
  const r =
    typeof args === "string"
      ? { ok: false, code: "invalid_arguments", text: `${args}; call ${tool.id} again with a JSON object matching its schema`, attempts: 0 }
      : await runtime.downstream.call(tenant, tool, args, signal);
  const latencyMs = Math.round(performance.now() - t0);
  const content = r.ok ? r.text : JSON.stringify({ error: { tool: tool.id, code: r.code, message: r.text, retryable: r.code === "timeout" || r.code === "server_unavailable" } });
  return { outcome: r.ok ? "ok" : r.code, latencyMs, content };
}
