// Prometheus metrics: counters fed by real MCP tool calls, gauges read at scrape time, and labels
// that stay bounded whatever callers send.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { ProviderFailure } from "../../src/providers/errors.js";
import type { CallRecord } from "../../src/store/telemetry.js";
import { createMetrics, type Metrics } from "../../src/http/metrics.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition into samples; comments and blank lines are skipped, anything else must parse. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples of `name` whose labels include every pair in `labels`. */
function samples(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample that matches; fails if none or several do. */
function value(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples(all, name, labels);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** Sum over every sample that matches (e.g. across modes). */
function total(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples(all, name, labels).reduce((n, s) => n + s.value, 0);
}

async function scrape(m: Metrics): Promise<Sample[]> {
  return parse(await m.render());
}

function fakeRecord(over: Partial<CallRecord>): CallRecord {
  return {
    requestId: "req-1",
    at: new Date(),
    tenant: "default",
    tool: "run_llm",
    attempts: 1,
    fallbacks: 0,
    latencyMs: 1500,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    tools: [],
    mcpTools: [],
    outcome: "ok",
    overridden: false,
    ...over,
  };
}

let runtime: Runtime;
let client: Client;
let closeServer: () => Promise<void>;
/** Every Metrics a test made; closed after it, so listeners never leak into the next test. */
const open: Metrics[] = [];

function metrics(opts?: Parameters<typeof createMetrics>[1]): Metrics {
  const m = createMetrics(runtime, opts);
  open.push(m);
  return m;
}

async function routeTask(args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name: "route_task", arguments: args })) as CallToolResult;
}

beforeAll(async () => {
  runtime = new Runtime({ env: {} });
  const { server } = createServer({ runtime });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: "metrics-test", version: "1.0.0" });
  await client.connect(clientSide);
  closeServer = () => server.close();
});

afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

afterAll(async () => {
  await client?.close();
  await closeServer?.();
  runtime?.close();
});

describe("tool call metrics from real route_task calls", () => {
  it("counts calls per outcome, errors per code, latency, and no tokens or spend for a decision", async () => {
    const m = metrics();
    const prompts = ["What is the capital of Peru?", "Write a haiku about autumn.", "Summarise this paragraph in one line."];
    for (const prompt of prompts) expect((await routeTask({ prompt })).isError).toBeFalsy();
    const explicit = await routeTask({ prompt: "Fix the timeline gap", mode: "timeline_doctor" });
    expect(explicit.isError).toBeFalsy();
    expect((explicit.structuredContent as { mode: string }).mode).toBe("timeline_doctor");
    const bad = await routeTask({ prompt: "hello", mode: "no_such_mode_x1" });
    expect(bad.isError).toBe(true);
    const first = bad.content[0];
    expect(first?.type === "text" && (JSON.parse(first.text) as { error: { code: string } }).error.code).toBe("invalid_request");

    const s = await scrape(m);
    expect(total(s, "switchboard_tool_calls_total", { tool: "route_task", outcome: "ok" })).toBe(4);
    expect(value(s, "switchboard_tool_calls_total", { tool: "route_task", mode: "timeline_doctor", outcome: "ok" })).toBe(1);
    // The failed call resolved no mode; the junk mode it asked for is not a label.
    expect(value(s, "switchboard_tool_calls_total", { tool: "route_task", mode: "none", outcome: "invalid_request" })).toBe(1);
    expect(samples(s, "switchboard_tool_calls_total").some((x) => Object.values(x.labels).includes("no_such_mode_x1"))).toBe(false);
    expect(value(s, "switchboard_tool_errors_total", { tool: "route_task", code: "invalid_request" })).toBe(1);
    expect(samples(s, "switchboard_tool_errors_total")).toHaveLength(1);

    expect(total(s, "switchboard_tool_latency_seconds_count", { tool: "route_task" })).toBe(5);
    expect(total(s, "switchboard_tool_latency_seconds_bucket", { tool: "route_task", le: "+Inf" })).toBe(5);
    const sum = total(s, "switchboard_tool_latency_seconds_sum", { tool: "route_task" });
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
    // Buckets reach down to a millisecond and up to two minutes.
    const les = samples(s, "switchboard_tool_latency_seconds_bucket", { tool: "route_task", mode: "timeline_doctor" }).map((x) => x.labels.le);
    expect(les).toContain("0.001");
    expect(les).toContain("120");

    // route_task only decides: its token estimate was never sent to a provider, and it costs nothing.
    expect(samples(s, "switchboard_tokens_total")).toHaveLength(0);
    expect(samples(s, "switchboard_spend_usd_total")).toHaveLength(0);
    expect(samples(s, "switchboard_fallbacks_total")).toHaveLength(0);
  });

  it("keeps its own registry: two instances on one runtime both count, and neither touches the default registry", async () => {
    const a = metrics();
    const b = metrics();
    expect(a.registry).not.toBe(b.registry);
    expect((await routeTask({ prompt: "Translate 'hello' into French." })).isError).toBeFalsy();
    for (const m of [a, b]) expect(total(await scrape(m), "switchboard_tool_calls_total", { tool: "route_task", outcome: "ok" })).toBe(1);
    const { register } = await import("prom-client");
    expect(register.getSingleMetric("switchboard_tool_calls_total")).toBeUndefined();
  });

  it("close() stops counting and clears the registry", async () => {
    const m = metrics();
    expect(runtime.observed).toBe(true);
    expect((await routeTask({ prompt: "What is 2 + 2?" })).isError).toBeFalsy();
    const counter = m.registry.getSingleMetric("switchboard_tool_calls_total")!;
    const before = (await counter.get()).values.reduce((n, v) => n + v.value, 0);
    expect(before).toBe(1);

    m.close();
    expect(runtime.observed).toBe(false);
    expect((await routeTask({ prompt: "What is 3 + 3?" })).isError).toBeFalsy();
    expect((await counter.get()).values.reduce((n, v) => n + v.value, 0)).toBe(1);
    expect(samples(parse(await m.render()), "switchboard_tool_calls_total")).toHaveLength(0);
  });
});

describe("labels from call records", () => {
  it("collapses unknown tenants, modes, models, providers and codes; counts spend, tokens and fallbacks", async () => {
    const m = metrics();
    runtime.recordCall(
      fakeRecord({ tenant: "junk-tenant-9f3a", mode: "junk-mode-77", model: "openai:gpt-4.1-mini", provider: "openai", costUsd: 0.25, inputTokens: 1200, outputTokens: 300, fallbacks: 2 }),
    );
    runtime.recordCall(fakeRecord({ tenant: "acme", mode: "realtime_assist", model: "evil:model-x", provider: "evil", costUsd: 0.5, inputTokens: 10 }));
    runtime.recordCall(fakeRecord({ tenant: "acme", mode: "realtime_assist", model: "openai:gpt-4.1-mini", provider: "openai", costUsd: 0.125 }));
    runtime.recordCall(fakeRecord({ outcome: "made_up_code", attempts: 0 }));

    const text = await m.render();
    expect(text).not.toMatch(/junk|evil|made_up/);
    const s = parse(text);
    expect(value(s, "switchboard_spend_usd_total", { tenant: "unknown", provider: "openai", model: "openai:gpt-4.1-mini" })).toBeCloseTo(0.25, 10);
    expect(value(s, "switchboard_spend_usd_total", { tenant: "acme", provider: "unknown", model: "unknown" })).toBeCloseTo(0.5, 10);
    expect(value(s, "switchboard_spend_usd_total", { tenant: "acme", provider: "openai", model: "openai:gpt-4.1-mini" })).toBeCloseTo(0.125, 10);
    expect(samples(s, "switchboard_spend_usd_total")).toHaveLength(3);

    expect(value(s, "switchboard_tokens_total", { direction: "input", provider: "openai", model: "openai:gpt-4.1-mini" })).toBe(1200);
    expect(value(s, "switchboard_tokens_total", { direction: "output", provider: "openai", model: "openai:gpt-4.1-mini" })).toBe(300);
    expect(value(s, "switchboard_tokens_total", { direction: "input", provider: "unknown", model: "unknown" })).toBe(10);

    expect(value(s, "switchboard_fallbacks_total", { tool: "run_llm", mode: "unknown" })).toBe(2);
    expect(value(s, "switchboard_tool_calls_total", { tool: "run_llm", mode: "unknown", outcome: "ok" })).toBe(1);
    expect(value(s, "switchboard_tool_calls_total", { tool: "run_llm", mode: "realtime_assist", outcome: "ok" })).toBe(2);
    expect(value(s, "switchboard_tool_calls_total", { tool: "run_llm", mode: "none", outcome: "other" })).toBe(1);
    expect(value(s, "switchboard_tool_errors_total", { tool: "run_llm", code: "other" })).toBe(1);
    // 1.5 s lands above the 1 s bucket and within 2.5 s.
    expect(value(s, "switchboard_tool_latency_seconds_bucket", { tool: "run_llm", mode: "realtime_assist", le: "1" })).toBe(0);
    expect(value(s, "switchboard_tool_latency_seconds_bucket", { tool: "run_llm", mode: "realtime_assist", le: "2.5" })).toBe(2);
  });
});

describe("gauges read at scrape time", () => {
  it("reports the config version in force, once", async () => {
    const s = await scrape(metrics());
    const info = samples(s, "switchboard_config_info");
    expect(info).toEqual([{ name: "switchboard_config_info", labels: { version: runtime.configVersion, switchboard_instance: runtime.instance }, value: 1 }]);
    expect(runtime.configVersion.length).toBeGreaterThan(0);
  });

  it("reports HTTP sessions from the callback, and none without one", async () => {
    const counts = { streamable: 3, sse: 1 };
    const m = metrics({ sessions: () => counts });
    let s = await scrape(m);
    expect(value(s, "switchboard_http_sessions", { transport: "streamable" })).toBe(3);
    expect(value(s, "switchboard_http_sessions", { transport: "sse" })).toBe(1);
    counts.streamable = 0;
    counts.sse = 7;
    s = await scrape(m);
    expect(value(s, "switchboard_http_sessions", { transport: "streamable" })).toBe(0);
    expect(value(s, "switchboard_http_sessions", { transport: "sse" })).toBe(7);

    expect(samples(await scrape(metrics()), "switchboard_http_sessions")).toHaveLength(0);
  });

  it("includes default process metrics under the switchboard_ prefix", async () => {
    const s = await scrape(metrics());
    expect(value(s, "switchboard_process_start_time_seconds")).toBeGreaterThan(0);
    expect(samples(s, "switchboard_nodejs_heap_size_total_bytes")).toHaveLength(1);
  });

  describe("with a runtime of its own (config overlay)", () => {
    let dir: string;
    let overlayFile: string;
    let br: Runtime;
    const BREAKER = { router: { failover: { breaker: { consecutiveFailures: 1, halfOpenAfterMs: 0 } } } };
    const down = () => Promise.reject(new ProviderFailure("provider_unavailable", "provider is down", true));

    beforeAll(() => {
      // One failure opens a circuit, and an open one lets the next call probe at once (half-open).
      dir = mkdtempSync(join(tmpdir(), "switchboard-metrics-"));
      overlayFile = join(dir, "overlay.json");
      writeFileSync(overlayFile, JSON.stringify(BREAKER));
      br = new Runtime({ overlayFile, env: {} });
    });
    afterAll(() => {
      br?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("follows a config reload: only the new version is reported, and a tenant it adds becomes a label", async () => {
      const m = createMetrics(br);
      try {
        const spend = (tenant: string) => br.recordCall(fakeRecord({ tenant, model: "openai:gpt-4.1-mini", provider: "openai", costUsd: 1 }));
        const v1 = br.configVersion;
        let s = await scrape(m);
        expect(samples(s, "switchboard_config_info")).toEqual([{ name: "switchboard_config_info", labels: { version: v1, switchboard_instance: br.instance }, value: 1 }]);
        spend("newco");
        expect(value(await scrape(m), "switchboard_spend_usd_total", { tenant: "unknown" })).toBe(1);

        writeFileSync(overlayFile, JSON.stringify({ ...BREAKER, tenants: { newco: { description: "added by a reload" } } }));
        expect(br.reload()).toBe(true);
        expect(br.configVersion).not.toBe(v1);
        spend("newco");
        s = await scrape(m);
        expect(samples(s, "switchboard_config_info")).toEqual([{ name: "switchboard_config_info", labels: { version: br.configVersion, switchboard_instance: br.instance }, value: 1 }]);
        expect(value(s, "switchboard_spend_usd_total", { tenant: "newco" })).toBe(1);
        expect(value(s, "switchboard_spend_usd_total", { tenant: "unknown" })).toBe(1);
      } finally {
        m.close();
      }
    });

    it("maps each state to its number and counts openings, as of each scrape", async () => {
      const m = createMetrics(br);
      try {
        const closed = br.breakers.get("openai:gpt-4.1-mini");
        await expect(closed.execute(() => Promise.resolve("ok"))).resolves.toBe("ok");

        const opened = br.breakers.get("anthropic:claude-haiku-4-5");
        await expect(opened.execute(down)).rejects.toThrow("provider is down");

        const half = br.breakers.get("openai:gpt-4.1");
        await expect(half.execute(down)).rejects.toThrow("provider is down");
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const probe = half.execute(() => gate); // the probe is in flight: half-open until it settles

        const isolated = br.breakers.get("anthropic:claude-sonnet-4-5").isolate();

        let s = await scrape(m);
        const state = (breaker: string) => value(s, "switchboard_breaker_state", { breaker });
        const openings = (breaker: string) => value(s, "switchboard_breaker_openings", { breaker });
        expect(state("openai:gpt-4.1-mini")).toBe(0);
        expect(state("openai:gpt-4.1")).toBe(1);
        expect(state("anthropic:claude-haiku-4-5")).toBe(2);
        expect(state("anthropic:claude-sonnet-4-5")).toBe(3);
        expect(openings("openai:gpt-4.1-mini")).toBe(0);
        expect(openings("anthropic:claude-haiku-4-5")).toBe(1);
        expect(openings("openai:gpt-4.1")).toBe(1);
        expect(samples(s, "switchboard_breaker_state")).toHaveLength(4);

        // The probe succeeds and the hold is lifted: the next scrape sees both closed.
        release();
        await probe;
        isolated.dispose();
        s = await scrape(m);
        expect(state("openai:gpt-4.1")).toBe(0);
        expect(state("anthropic:claude-sonnet-4-5")).toBe(0);
        expect(state("anthropic:claude-haiku-4-5")).toBe(2);
        expect(openings("openai:gpt-4.1")).toBe(1);
      } finally {
        m.close();
      }
    });
  });
});
