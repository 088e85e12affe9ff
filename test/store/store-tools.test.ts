import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { startTavilyFake, type TavilyFake } from "../fakes/tavily-fake.js";
import { randomUUID } from "node:crypto";
import { postgresUrl } from "./pg-available.js";
import type { StoreOptions } from "../../src/store/store.js";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[store-tools] PostgreSQL not reachable: the postgres half is skipped");
const BACKENDS: Array<[string, StoreOptions | undefined]> = [
  ["pglite", { dataDir: ":memory:" }],
  ["postgres", pgUrl ? { databaseUrl: pgUrl } : undefined],
];

describe.each(BACKENDS)("store on %s", (_name, storeOpts) => {
  if (!storeOpts) {
    it("is skipped: no PostgreSQL server here", () => expect(pgUrl).toBeUndefined());
    return;
  }
  let openai: FakeServer;
  let tavily: TavilyFake;
  let runtime: Runtime;
  let client: Client;

  // Tenant names are unique per run, so a shared PostgreSQL test database stays clean between runs.
  const RUN = randomUUID().slice(0, 8);
  const T = { tight: `tight-${RUN}`, near: `near-${RUN}`, roomy: `roomy-${RUN}` };
  const OVERLAY = `
  tenants:
    ${T.tight}: { budget: { dailyUsd: 0.000001 } }
    ${T.near}: { budget: { dailyUsd: 1 } }
    ${T.roomy}: { budget: { dailyUsd: 100 } }
  experiments:
    realtime-haiku: { mode: realtime_assist, model: openai:gpt-4.1-nano, share: 0.5, enabled: true, tenants: [${T.roomy}] }
  `;

  async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  }
  const errorOf = (r: CallToolResult) => (JSON.parse((r.content[0] as { text: string }).text) as { error: Record<string, unknown> }).error;

  beforeAll(async () => {
    [openai, tavily] = await Promise.all([startOpenAIFake(), startTavilyFake()]);
    const dir = mkdtempSync(join(tmpdir(), "sb-store-"));
    writeFileSync(join(dir, "overlay.yaml"), OVERLAY);
    runtime = new Runtime({ overlayFile: join(dir, "overlay.yaml"), env: { OPENAI_API_KEY: "sk-store-test", OPENAI_BASE_URL: openai.url, TAVILY_API_KEY: "tvly-store-test", TAVILY_BASE_URL: tavily.url }, store: storeOpts! });
    await runtime.store!.db();
    const { server } = createServer({ runtime });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    client = new Client({ name: "store-test", version: "1" });
    await client.connect(b);
  }, 60000);
  afterAll(async () => {
    await client.close();
    runtime.close();
    await Promise.all([openai.close(), tavily.close()]);
  });

  describe("telemetry", () => {
    it("records one row per tool call with model, cost and outcome, and no prompt text by default", async () => {
      const r = await call("run_llm", { prompt: "What is the capital of Peru?", tenant: T.roomy, requestId: `req-telemetry-1-${RUN}` });
      expect(r.isError).toBeFalsy();
      await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: T.roomy, requestId: `req-telemetry-2-${RUN}` });
      await runtime.store!.telemetry.flush();
      const db = await runtime.store!.db();
      const rows = await db.query<Record<string, unknown>>("SELECT * FROM sb_calls WHERE request_id IN ($1, $2) ORDER BY tool", [`req-telemetry-1-${RUN}`, `req-telemetry-2-${RUN}`]);
      expect(rows.map((x) => x.tool)).toEqual(["route_task", "run_llm"]);
      const llm = rows.find((x) => x.tool === "run_llm")!;
      expect(llm).toMatchObject({ tenant: T.roomy, outcome: "ok", provider: "openai", mode: "realtime_assist" });
      expect(Number(llm.cost_usd)).toBeGreaterThan(0);
      expect(Number(llm.output_tokens)).toBeGreaterThan(0);
      expect(llm.prompt).toBeNull();
    });
  });

  describe("budgets through run_llm", () => {
    it("refuses a call whose worst case does not fit, before any provider request", async () => {
      const before = openai.requests.length;
      const r = await call("run_llm", { prompt: "What is the capital of Peru?", tenant: T.tight });
      expect(r.isError).toBe(true);
      const e = errorOf(r);
      expect(e.code).toBe("budget_exceeded");
      expect(e.ceiling).toMatchObject({ name: `tenant ${T.tight} daily`, limitUsd: 0.000001 });
      expect(openai.requests.length).toBe(before);
    });

    it("downgrades near a ceiling and says so in the reason", async () => {
      const budgets = await runtime.budgets().then((b) => b!);
      await budgets.settle(await budgets.reserve(T.near, 0.85), 0.85);
      const r = await call("run_llm", { prompt: "Write a detailed architecture review of a distributed payment system with trade-offs.", tenant: T.near });
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { decision: { reason: string; costTier: string } };
      expect(out.decision.reason).toMatch(new RegExp(`degraded: tenant ${T.near} daily budget 8\\d% used`));
      expect(out.decision.costTier).toBe("economy");
    });

    it("settles the real cost: spend grows by what the provider reported, not the reservation", async () => {
      const budgets = await runtime.budgets().then((b) => b!);
      // The tenant's own daily ceiling: the global one is shared with every other test on this database.
      const c = budgets.ceilings(T.roomy).find((x) => x.scope === `tenant:${T.roomy}` && x.period.startsWith("day:"))!;
      const before = await budgets.spent(c.scope, c.period);
      const r = await call("run_llm", { prompt: "What is 2+2?", tenant: T.roomy });
      const cost = (r.structuredContent as { costUsd: number }).costUsd;
      const after = await budgets.spent(c.scope, c.period);
      expect(after.reservedUsd).toBeCloseTo(0, 8);
      expect(after.settledUsd - before.settledUsd).toBeCloseTo(cost, 8);
    });
  });

  describe("budgets through research (its synthesis goes through the one LLM pipeline)", () => {
    it("refuses the synthesis when its worst case does not fit, with no LLM request", async () => {
      const before = openai.requests.length;
      const r = await call("research", { question: "What changed in the EU AI Act this year?", kind: "deep", tenant: T.tight });
      expect(r.isError).toBe(true);
      expect(errorOf(r)).toMatchObject({ code: "budget_exceeded", ceiling: { name: `tenant ${T.tight} daily` } });
      expect(openai.requests.length).toBe(before);
    });

    it("settles the synthesis's real cost and records the call with the model that wrote the answer", async () => {
      const budgets = await runtime.budgets().then((b) => b!);
      // The tenant's own daily ceiling: the global one is shared with every other test on this database.
      const c = budgets.ceilings(T.roomy).find((x) => x.scope === `tenant:${T.roomy}` && x.period.startsWith("day:"))!;
      const before = await budgets.spent(c.scope, c.period);
      const requestId = `research-${RUN}`;
      const r = await call("research", { question: "What changed in the EU AI Act this year?", kind: "deep", tenant: T.roomy, requestId });
      expect(r.isError).toBeFalsy();
      const out = r.structuredContent as { model: string; provider: string; costUsd: number; providers: { synthesis?: string } };
      expect(out.providers.synthesis).toBe(out.model);
      const after = await budgets.spent(c.scope, c.period);
      expect(after.reservedUsd).toBeCloseTo(0, 8);
      // The ledger holds the LLM's cost; the tool's total also counts the search request.
      const settled = after.settledUsd - before.settledUsd;
      expect(settled).toBeGreaterThan(0);
      expect(settled).toBeLessThanOrEqual(out.costUsd + 1e-9);
      await runtime.store!.telemetry.flush();
      const db = await runtime.store!.db();
      const rows = await db.query<Record<string, unknown>>("SELECT * FROM sb_calls WHERE request_id = $1", [requestId]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ tool: "research", mode: "research_analyst", model: out.model, provider: out.provider, outcome: "ok" });
      expect(Number(rows[0]!.output_tokens)).toBeGreaterThan(0);
    });
  });

  describe("feedback and reports", () => {
    it("records feedback and validates it", async () => {
      const ok = await call("record_feedback", { requestId: `req-telemetry-1-${RUN}`, rating: "up", tenant: T.roomy, note: "good" });
      expect(ok.structuredContent).toEqual({ recorded: true, requestId: `req-telemetry-1-${RUN}` });
      const bad = await call("record_feedback", { requestId: "x", preferredModel: "openai:gpt-9" });
      expect(errorOf(bad)).toMatchObject({ code: "invalid_request", field: "preferredModel" });
      const empty = await call("record_feedback", { requestId: "x" });
      expect(errorOf(empty).code).toBe("invalid_request");
    });

    it("reports a tenant's own usage, with experiment arms compared", async () => {
      for (let i = 0; i < 16; i++) await call("run_llm", { prompt: `What is ${i} + ${i}?`, tenant: T.roomy, requestId: `exp-${RUN}-${i}` });
      const r = await call("usage_report", { tenant: T.roomy, days: 1 });
      expect(r.isError).toBeFalsy();
      const rep = (r.structuredContent as { report: Record<string, unknown> }).report as {
        tenant: string; calls: number; spendUsd: number; successRate: number; byModel: unknown[]; byDay: unknown[];
        experiments: Array<{ arm: string; calls: number }>; feedback: { ratings: number; meanRating: number };
      };
      expect(rep.tenant).toBe(T.roomy);
      expect(rep.calls).toBeGreaterThanOrEqual(18);
      expect(rep.spendUsd).toBeGreaterThan(0);
      expect(rep.successRate).toBeGreaterThan(0.9);
      expect(rep.byModel.length).toBeGreaterThan(0);
      expect(rep.byDay).toHaveLength(1);
      const arms = new Set(rep.experiments.map((e) => e.arm));
      expect(arms).toEqual(new Set(["control", "treatment"]));
      expect(rep.feedback).toMatchObject({ ratings: 1, meanRating: 5 });
      const other = await call("usage_report", { tenant: T.near, days: 1 });
      expect(((other.structuredContent as { report: { calls: number } }).report.calls)).toBeLessThan(rep.calls);
    });
  });

  describe("a failing store", () => {
    it("never fails a tool call: telemetry to an unreachable database is dropped and logged", async () => {
      const rt = new Runtime({ env: { OPENAI_API_KEY: "k", OPENAI_BASE_URL: openai.url }, store: { databaseUrl: "postgres://nobody@127.0.0.1:1/none" } });
      const { server } = createServer({ runtime: rt });
      const [a, b] = InMemoryTransport.createLinkedPair();
      await server.connect(a);
      const c = new Client({ name: "t", version: "1" });
      await c.connect(b);
      const res = (await c.callTool({ name: "route_task", arguments: { prompt: "hello there" } })) as CallToolResult;
      expect(res.isError).toBeFalsy();
      await rt.store!.telemetry.flush();
      expect(rt.store!.telemetry.dropped).toBe(1);
      await c.close();
    });
  });

  describe("learning (the router's tier 4)", () => {
    it("prefers the model a user keeps choosing, says why, and a tenant can turn it off", async () => {
      for (let i = 0; i < 4; i++) await call("run_llm", { prompt: `Name a fruit, number ${i}`, tenant: T.roomy, user: "ann", model: "openai:gpt-4.1-nano" });
      await runtime.store!.telemetry.flush();
      await runtime.learning!.refresh();
      const d = (await call("route_task", { prompt: "Name a vegetable.", tenant: T.roomy, user: "ann" })).structuredContent as { model: string; reason: string; adjustments: Array<{ model: string; reason: string }> };
      expect(d.adjustments).toContainEqual(expect.objectContaining({ model: "openai:gpt-4.1-nano", reason: expect.stringMatching(/you chose openai:gpt-4.1-nano 4 times/) }));
      expect(d.model).toBe("openai:gpt-4.1-nano");
      expect(d.reason).toMatch(/learned: you chose/);

      const off = runtime.router.decide(
        { prompt: "Name a vegetable.", tenant: T.roomy, user: "ann" },
        { configuredProviders: runtime.configuredProviders(), adjuster: runtime.learning! },
      );
      expect(off.adjustments.length).toBeGreaterThan(0);
      const cfg = runtime.config;
      cfg.tenants[T.roomy]!.learning = false;
      try {
        const d2 = runtime.route({ prompt: "Name a vegetable.", tenant: T.roomy, user: "ann" });
        expect(d2.adjustments).toEqual([]);
      } finally {
        delete cfg.tenants[T.roomy]!.learning;
      }
    });

    it("demotes and flags a model whose success rate falls under the floor", async () => {
      const db = await runtime.store!.db();
      for (let i = 0; i < 12; i++) {
        await db.query(
          "INSERT INTO sb_calls (request_id, at, tenant, tool, task_type, model, provider, latency_ms, outcome) VALUES ($1, now(), $3, 'run_llm', 'translation', 'openai:gpt-4.1-mini', 'openai', 100, $2)",
          [`demote-${RUN}-${i}`, i < 4 ? "ok" : "provider_unavailable", T.roomy],
        );
      }
      await runtime.learning!.refresh();
      // Model success is pooled over tenants, and a shared database keeps earlier runs' rows: at least ours.
      const demoted = runtime.learning!.demoted().find((d) => d.model === "openai:gpt-4.1-mini" && d.taskType === "translation");
      expect(demoted?.calls).toBeGreaterThanOrEqual(12);
      const d = runtime.route({ prompt: "Translate 'good morning' into French.", tenant: T.roomy });
      expect(d.adjustments).toContainEqual(expect.objectContaining({ model: "openai:gpt-4.1-mini", reason: expect.stringMatching(/demoted, \d+% success on translation/) }));
      expect(d.model).not.toBe("openai:gpt-4.1-mini");
      const rep = (await call("usage_report", { tenant: T.roomy })).structuredContent as { report: { demotedModels: unknown[] } };
      expect(rep.report.demotedModels).toContainEqual(expect.objectContaining({ model: "openai:gpt-4.1-mini" }));
    });
  });

  describe("usage resource", () => {
    it("lists one usage resource per tenant and reads a tenant's report", async () => {
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toContain(`switchboard://usage/${T.roomy}`);
      const res = await client.readResource({ uri: `switchboard://usage/${T.roomy}` });
      const body = JSON.parse((res.contents[0] as { text: string }).text) as { tenant: string; calls: number };
      expect(body.tenant).toBe(T.roomy);
      expect(body.calls).toBeGreaterThan(0);
    });
  });
});
