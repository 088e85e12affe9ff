import { describe, expect, it } from "vitest";
import { RECENT_LIMIT, TOP_N, bucketSecondsFor, dashboardSnapshot, percentile, percentiles } from "../../../src/http/dashboard/snapshot.js";
import type { BreakerStatus } from "../../../src/resilience/breakers.js";
import { rec } from "./records.js";

const NOW = Date.parse("2026-11-22T12:00:30.000Z");
const ago = (ms: number) => new Date(NOW - ms);
const MIN = 60_000;

describe("percentiles", () => {
  it("uses the nearest rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 90)).toBe(90);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 90)).toBe(4);
  });

  it("sorts its input and reports the max", () => {
    expect(percentiles([30, 10, 20, 1000, 40])).toEqual({ count: 5, p50: 30, p90: 1000, p99: 1000, max: 1000 });
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe("buckets", () => {
  it("picks readable widths for each window", () => {
    expect(bucketSecondsFor(15)).toBe(10);
    expect(bucketSecondsFor(60)).toBe(60);
    expect(bucketSecondsFor(360)).toBe(300);
    expect(bucketSecondsFor(1440)).toBe(1800);
  });

  it("puts each call into its aligned bucket, the last holding now", () => {
    const records = [
      rec({ at: ago(10_000), costUsd: 0.5 }), // 12:00:20 -> bucket 12:00
      rec({ at: ago(20_000), costUsd: 0.25, outcome: "timeout" }), // 12:00:10 -> bucket 12:00
      rec({ at: ago(45_000), costUsd: 1 }), // 11:59:45 -> bucket 11:59
      rec({ at: ago(59 * MIN), costUsd: 2 }), // 11:01:30 -> bucket 11:01
      rec({ at: ago(61 * MIN), costUsd: 100 }), // outside the hour
      rec({ at: new Date(NOW + 5_000), costUsd: 100 }), // in the future: ignored
    ];
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.window.bucketSeconds).toBe(60);
    expect(s.series).toHaveLength(61); // 11:00 .. 12:00 inclusive: the first is partly outside the window
    expect(s.series[0]!.t).toBe("2026-11-22T11:00:00.000Z");
    expect(s.series.at(-1)!.t).toBe("2026-11-22T12:00:00.000Z");
    const byT = Object.fromEntries(s.series.map((b) => [b.t, b]));
    expect(byT["2026-11-22T12:00:00.000Z"]).toEqual({ t: "2026-11-22T12:00:00.000Z", calls: 2, errors: 1, spendUsd: 0.75 });
    expect(byT["2026-11-22T11:59:00.000Z"]!.spendUsd).toBe(1);
    expect(byT["2026-11-22T11:01:00.000Z"]!.spendUsd).toBe(2);
    expect(s.series.reduce((n, b) => n + b.calls, 0)).toBe(4);
    expect(s.totals.calls).toBe(4);
    expect(s.totals.spendUsd).toBe(3.75);
    expect(s.totals.errors).toBe(1);
    expect(s.totals.errorRate).toBe(0.25);
  });

  it("clamps the window to a day and keeps tiny sums exact", () => {
    const s = dashboardSnapshot([rec({ at: ago(1000), costUsd: 0.1 }), rec({ at: ago(2000), costUsd: 0.2 })], { now: NOW, windowMinutes: 99999, breakers: [] });
    expect(s.window.minutes).toBe(1440);
    expect(s.totals.spendUsd).toBe(0.3);
  });
});

describe("breakdowns", () => {
  it("counts by mode, model, provider and tool, busiest first, missing values as (none)", () => {
    const records = [
      rec({ at: ago(1000), mode: "research_analyst", model: "openai:gpt-4.1", provider: "openai" }),
      rec({ at: ago(2000), mode: "research_analyst", model: "openai:gpt-4.1", provider: "openai", outcome: "rate_limited" }),
      rec({ at: ago(3000), mode: "realtime_assist", model: "anthropic:claude-haiku-4-5", provider: "anthropic", tool: "run_llm" }),
      rec({ at: ago(4000), mode: undefined, model: undefined, provider: undefined, outcome: "invalid_request", costUsd: 0 }),
    ];
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.byMode.map((g) => [g.key, g.calls, g.errors])).toEqual([
      ["research_analyst", 2, 1],
      ["realtime_assist", 1, 0], // ties on calls go to the bigger spender
      ["(none)", 1, 1],
    ]);
    expect(s.byProvider[0]).toEqual({ key: "openai", calls: 2, errors: 1, spendUsd: 0.002 });
    expect(s.byTool.map((g) => [g.key, g.calls])).toEqual([
      ["route_task", 3],
      ["run_llm", 1],
    ]);
    expect(s.errors).toEqual([
      { code: "invalid_request", count: 1 },
      { code: "rate_limited", count: 1 },
    ]);
  });

  it("folds the long tail into (other)", () => {
    const records = Array.from({ length: TOP_N + 5 }, (_, i) => rec({ at: ago(1000 + i), model: `m${String(i).padStart(2, "0")}`, costUsd: 0 }));
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.byModel).toHaveLength(TOP_N + 1);
    expect(s.byModel.at(-1)).toEqual({ key: "(other)", calls: 5, errors: 0, spendUsd: 0 });
  });

  it("gives latency percentiles overall and per tool", () => {
    const records = [
      ...Array.from({ length: 100 }, (_, i) => rec({ at: ago(1000 + i), tool: "route_task", latencyMs: i + 1 })),
      ...Array.from({ length: 10 }, (_, i) => rec({ at: ago(5000 + i), tool: "run_llm", latencyMs: (i + 1) * 1000 })),
    ];
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] });
    const rt = s.latency.byTool.find((t) => t.tool === "route_task")!;
    expect([rt.count, rt.p50, rt.p90, rt.p99, rt.max]).toEqual([100, 50, 90, 99, 100]);
    const llm = s.latency.byTool.find((t) => t.tool === "run_llm")!;
    expect([llm.p50, llm.p90, llm.p99]).toEqual([5000, 9000, 10000]);
    expect(s.latency.overall.count).toBe(110);
    expect(s.latency.overall.p50).toBe(55);
    expect(s.latency.overall.p99).toBe(9000);
    expect(s.totals.latency).toEqual(s.latency.overall);
  });

  it("counts fallbacks and lists breakers with the open ones first", () => {
    const records = [
      rec({ at: ago(1000), fallbacks: 2, model: "anthropic:claude-sonnet-4-5" }),
      rec({ at: ago(2000), fallbacks: 1, model: "anthropic:claude-sonnet-4-5" }),
      rec({ at: ago(3000) }),
      rec({ at: ago(4000) }),
    ];
    const breakers: BreakerStatus[] = [
      { id: "openai:gpt-4.1", state: "closed", openings: 1 },
      { id: "openai:gpt-5", state: "open", openings: 3 },
      { id: "deepseek:deepseek-chat", state: "half_open", openings: 1 },
    ];
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers });
    expect(s.fallbacks).toEqual({ total: 3, calls: 2, rate: 0.5, byModel: [{ model: "anthropic:claude-sonnet-4-5", calls: 2, fallbacks: 3 }] });
    expect(s.totals.fallbacks).toBe(3);
    expect(s.totals.callsWithFallback).toBe(2);
    expect(s.breakers.map((b) => [b.id, b.alert])).toEqual([
      ["openai:gpt-5", true],
      ["deepseek:deepseek-chat", true],
      ["openai:gpt-4.1", false],
    ]);
    expect(s.totals.openBreakers).toBe(1);
  });
});

describe("tenant filter", () => {
  const records = [
    rec({ at: ago(1000), tenant: "acme", costUsd: 1 }),
    rec({ at: ago(2000), tenant: "acme", costUsd: 1 }),
    rec({ at: ago(3000), tenant: "default", costUsd: 5 }),
  ];

  it("shows every tenant without a filter", () => {
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [], tenantChoices: true });
    expect(s.tenant).toBeNull();
    expect(s.totals.calls).toBe(3);
    expect(s.tenants).toEqual([
      { tenant: "acme", calls: 2 },
      { tenant: "default", calls: 1 },
    ]);
  });

  it("keeps only the chosen tenant everywhere", () => {
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, tenant: "acme", breakers: [] });
    expect(s.tenant).toBe("acme");
    expect(s.totals).toMatchObject({ calls: 2, spendUsd: 2 });
    expect(s.recent.every((r) => r.tenant === "acme")).toBe(true);
    expect(s.series.reduce((n, b) => n + b.spendUsd, 0)).toBe(2);
    // Without tenantChoices no other tenant's name leaks.
    expect(s.tenants).toEqual([{ tenant: "acme", calls: 2 }]);
    expect(JSON.stringify(s)).not.toContain("default");
  });

  it("lists no tenants unless asked", () => {
    expect(dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] }).tenants).toEqual([]);
  });
});

describe("recent decisions", () => {
  it("are the newest 50, newest first, whatever the input order", () => {
    const records = Array.from({ length: 80 }, (_, i) => rec({ at: ago((i * 7919) % 80 * 1000 + 1000), requestId: `r${(i * 7919) % 80}` }));
    const s = dashboardSnapshot(records, { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.recent).toHaveLength(RECENT_LIMIT);
    expect(s.recent.map((r) => r.requestId)).toEqual(Array.from({ length: RECENT_LIMIT }, (_, i) => `r${i}`));
    const times = s.recent.map((r) => Date.parse(r.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("carry the decision's fields and never the prompt", () => {
    const r = rec({ at: ago(1000), prompt: "secret prompt text", reason: "Signals show debugging", taskType: "debugging", costUsd: 0.0123 });
    const s = dashboardSnapshot([r], { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.recent[0]).toMatchObject({ requestId: r.requestId, tenant: "default", tool: "route_task", mode: "realtime_assist", taskType: "debugging", model: "openai:gpt-4.1-mini", provider: "openai", latencyMs: 10, costUsd: 0.0123, outcome: "ok", reason: "Signals show debugging" });
    expect(JSON.stringify(s)).not.toContain("secret prompt text");
  });

  it("break time ties by arrival, latest first", () => {
    const at = ago(1000);
    const s = dashboardSnapshot([rec({ at, requestId: "first" }), rec({ at, requestId: "second" })], { now: NOW, windowMinutes: 60, breakers: [] });
    expect(s.recent.map((r) => r.requestId)).toEqual(["second", "first"]);
  });

  it("handle an empty feed", () => {
    const s = dashboardSnapshot([], { now: new Date(NOW), windowMinutes: 15, breakers: [] });
    expect(s.totals).toMatchObject({ calls: 0, errors: 0, errorRate: 0, spendUsd: 0 });
    expect(s.recent).toEqual([]);
    expect(s.series.every((b) => b.calls === 0)).toBe(true);
    expect(s.series.length).toBeGreaterThan(80);
  });
});
