import type { CallRecord } from "../../../src/store/telemetry.js";

let seq = 0;

/** A call record with sensible defaults; override what the test is about. */
export function rec(over: Partial<CallRecord> & { at: Date }): CallRecord {
  seq++;
  return {
    requestId: `req-${seq}`,
    tenant: "default",
    tool: "route_task",
    mode: "realtime_assist",
    taskType: "debugging",
    tier: "signals",
    model: "openai:gpt-4.1-mini",
    provider: "openai",
    attempts: 1,
    fallbacks: 0,
    latencyMs: 10,
    inputTokens: 100,
    outputTokens: 50,
    costUsd: 0.001,
    tools: [],
    mcpTools: [],
    outcome: "ok",
    overridden: false,
    reason: `reason ${seq}`,
    ...over,
  };
}
