import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { Runtime } from "../../src/runtime.js";
import { callRecord } from "../../src/tools/call-record.js";

const cfg = loadConfig({ env: {} }).config;
const runtime = new Runtime({ env: {} });
const decision = runtime.route({ prompt: "Summarize this article about tides in three bullets: the moon pulls the sea...", requestId: "req-1" });
const attempt = { model: decision.model, provider: decision.provider, outcome: "error" as const, errorCode: "timeout" as const, latencyMs: 30 };

describe("callRecord: a tool call's telemetry from its typed served block", () => {
  it("a decision alone (route_task) sent no tokens anywhere", () => {
    const r = callRecord("route_task", { prompt: "x" }, { decision, model: decision.model, provider: decision.provider }, "ok", 1.5, cfg);
    expect(r).toMatchObject({ requestId: "req-1", tool: "route_task", mode: decision.mode, taskType: decision.taskType, model: decision.model, attempts: 0, inputTokens: 0, costUsd: 0, outcome: "ok" });
    expect(r.reason).toBe(decision.reason);
  });

  it("a call that failed after routing keeps its decision and estimates the input it sent", () => {
    const r = callRecord("run_llm", {}, { decision, attempts: [attempt, { ...attempt, model: "anthropic:claude-haiku-4-5", provider: "anthropic" }] }, "timeout", 900, cfg);
    expect(r).toMatchObject({ mode: decision.mode, attempts: 2, fallbacks: 1, inputTokens: decision.estimate.inputTokens, outcome: "timeout" });
    expect(r.inputTokens).toBeGreaterThan(0);
  });

  it("a successful call counts the provider's usage and cost, not the estimate", () => {
    const r = callRecord("run_llm", { model: "openai:gpt-4.1" }, { decision, model: "openai:gpt-4.1", provider: "openai", attempts: [{ ...attempt, outcome: "ok" }], usage: { inputTokens: 11, outputTokens: 7, cachedInputTokens: 0 }, costUsd: 0.0001 }, "ok", 20, cfg);
    expect(r).toMatchObject({ inputTokens: 11, outputTokens: 7, costUsd: 0.0001, overridden: true, provider: "openai" });
  });

  it("a refused call has no decision: tenant, user and request id come from the arguments", () => {
    const r = callRecord("run_llm", { tenant: "acme", user: "ann", requestId: "mine", prompt: "secret plans" }, {}, "invalid_request", 0.2, cfg);
    expect(r).toMatchObject({ tenant: "acme", user: "ann", requestId: "mine", attempts: 0, inputTokens: 0, tools: [], outcome: "invalid_request" });
    expect(r.mode).toBeUndefined();
    // Prompts are only kept when the config opts in.
    expect(r.prompt).toBeUndefined();
    const kept = callRecord("run_llm", { prompt: "secret plans" }, {}, "ok", 1, { ...cfg, store: { ...cfg.store, recordPrompts: true } });
    expect(kept.prompt).toBe("secret plans");
    expect(kept.tenant).toBe(cfg.router.defaultTenant);
  });

  it("a refused call's arguments as sent: an over-long id or user, or an unknown tenant, is not kept (an indexed column would lose the row)", () => {
    const r = callRecord("route_task", { tenant: "x".repeat(10_000), user: "u".repeat(5_000), requestId: "😀".repeat(3_000) }, {}, "invalid_request", 0.2, cfg);
    expect(r.tenant).toBe(cfg.router.defaultTenant);
    expect(r.user).toBeUndefined();
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const proto = callRecord("route_task", { tenant: "__proto__", requestId: "r".repeat(200) }, {}, "invalid_request", 0.2, cfg);
    expect(proto.tenant).toBe(cfg.router.defaultTenant);
    expect(proto.requestId).toBe("r".repeat(200));
  });
});
