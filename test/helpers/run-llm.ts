// The MCP harness bound to run_llm: its overlay (the tool overlay with a quick-tripping breaker and
// a short interactive deadline), the provider keys as the secrets to check for, and typed views
// of run_llm's result.
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { deepMerge } from "../../src/config/load.js";
import { startMcpHarness, toolOverlay, type Attempt, type ErrorBody, type McpHarness, type McpHarnessOptions, type ToolOutcome } from "./mcp-harness.js";
import { SECRETS } from "./llm-fakes.js";

export const PROMPT = "What is the capital of Peru?";

/** FAST_TOOL_OVERLAY, with circuits that open after two failures and a short interactive deadline. */
export const RUN_LLM_OVERLAY = toolOverlay({
  router: {
    failover: { maxRetryAfterMs: 2000, breaker: { consecutiveFailures: 2 } },
    latencyClasses: { interactive: { attemptTimeoutMs: 300, deadlineMs: 5000 } },
  },
});

export interface RunOutput {
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  model: string;
  provider: string;
  finishReason: string;
  decision: {
    requestId: string;
    mode: string;
    taskType: string;
    complexity: string;
    costTier: string;
    tier: string;
    confidence: number;
    reason: string;
    tools: string[];
    mcpTools: string[];
    routedModel: string;
  };
  attempts: Attempt[];
  escalated: boolean;
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number };
  costUsd: number;
  latencyMs: number;
}

export interface RunLlmHarnessOptions extends Pick<McpHarnessOptions, "env" | "sampling"> {
  /** Laid over RUN_LLM_OVERLAY (objects merge, arrays replace). */
  overlay?: Record<string, unknown>;
}

export interface RunLlmHarness extends McpHarness {
  /** Calls run_llm (see McpHarness.call). */
  run(args: Record<string, unknown>, opts?: RequestOptions, meta?: Record<string, unknown>): Promise<ToolOutcome<RunOutput>>;
  /** Calls run_llm, expects success and returns structuredContent. */
  ok(args: Record<string, unknown>, opts?: RequestOptions): Promise<RunOutput>;
  /** Calls run_llm, expects isError and returns the error body. */
  fail(args: Record<string, unknown>, opts?: RequestOptions): Promise<ErrorBody>;
}

export async function startRunLlmHarness(opts: RunLlmHarnessOptions): Promise<RunLlmHarness> {
  const mcp = await startMcpHarness({
    env: opts.env,
    overlay: deepMerge(RUN_LLM_OVERLAY, opts.overlay ?? {}),
    secrets: SECRETS,
    sampling: opts.sampling,
    clientName: "run-llm-tests",
    prefix: "switchboard-run-llm-",
  });
  return {
    ...mcp,
    run: (args, reqOpts, meta) => mcp.call<RunOutput>("run_llm", args, reqOpts, meta),
    ok: (args, reqOpts) => mcp.callOk<RunOutput>("run_llm", args, reqOpts),
    fail: (args, reqOpts) => mcp.callFail("run_llm", args, reqOpts),
  };
}
