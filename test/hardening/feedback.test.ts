// Shared state no tenant can poison (issue 13, items 6 and 9): one bad telemetry record never
// costs the others of its batch, and feedback lands only on the caller's own calls. On PGlite and
// on PostgreSQL (skipped, with a message, when no server answers; see test/store/pg-available.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import type { StoreOptions } from "../../src/store/store.js";
import { TelemetryWriter, type CallRecord } from "../../src/store/telemetry.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { postgresUrl } from "../store/pg-available.js";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[hardening/feedback] PostgreSQL not reachable: the postgres half is skipped");
const BACKENDS: Array<[string, StoreOptions | undefined]> = [
  ["pglite", { dataDir: ":memory:" }],
  ["postgres", pgUrl ? { databaseUrl: pgUrl } : undefined],
];

describe.each(BACKENDS)("on %s", (_name, storeOpts) => {
  if (!storeOpts) {
    it("is skipped: no PostgreSQL server here", () => expect(pgUrl).toBeUndefined());
    return;
  }
  // Unique per run, so a shared PostgreSQL test database stays clean between runs.
  const RUN = randomUUID().slice(0, 8);
  const A = `tenant-a-${RUN}`;
  const B = `tenant-b-${RUN}`;
  let runtime: Runtime;
  let client: Client;

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  const errorOf = (r: CallToolResult) => (JSON.parse((r.content[0] as { text: string }).text) as { error: Record<string, unknown> }).error;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-hardening-fb-"));
    writeFileSync(join(dir, "overlay.yaml"), `tenants:\n  ${A}: { budget: { dailyUsd: 10 } }\n  ${B}: { budget: { dailyUsd: 10 } }\n`);
    runtime = new Runtime({ overlayFile: join(dir, "overlay.yaml"), env: {}, store: storeOpts });
    await runtime.store!.db();
    const { server } = createServer({ runtime });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    client = new Client({ name: "hardening-feedback", version: "1" });
    await client.connect(b);
  }, 60000);
  afterAll(async () => {
    await client?.close();
    await runtime?.close();
  });

  describe("telemetry", () => {
    const record = (over: Partial<CallRecord>): CallRecord => ({
      requestId: randomUUID(),
      at: new Date(),
      tenant: B,
      tool: "route_task",
      attempts: 0,
      fallbacks: 0,
      latencyMs: 3,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      tools: [],
      mcpTools: [],
      outcome: "ok",
      overridden: false,
      ...over,
    });
    const count = async (tenant: string, ids: string[]) => {
      const db = await runtime.store!.db();
      const rows = await db.query<{ n: unknown }>("SELECT count(*) AS n FROM sb_calls WHERE tenant = $1 AND request_id = ANY($2)", [tenant, ids]);
      return Number(rows[0]!.n);
    };

    it("keeps tenant B's records when tenant A's record in the same batch holds a NUL (stored, made storable)", async () => {
      const { log } = captureLogger();
      const writer = new TelemetryWriter(() => runtime.store!.db(), log, { batchSize: 50, flushMs: 10_000, maxBuffer: 1000 });
      const good = Array.from({ length: 20 }, () => record({}));
      const evil = record({ tenant: `evil\u0000${A}`, user: "evil\u0000", prompt: "p\u0000\uD800", tools: ["t\u0000"] });
      for (const [i, r] of good.entries()) {
        writer.record(r);
        if (i === 7) writer.record(evil);
      }
      await writer.flush();
      expect(await count(B, good.map((r) => r.requestId))).toBe(20);
      const db = await runtime.store!.db();
      const [row] = await db.query<{ user_id: string; tenant: string }>("SELECT user_id, tenant FROM sb_calls WHERE request_id = $1", [evil.requestId]);
      expect(row!.user_id).toBe("evil\uFFFD");
      expect(row!.tenant).toBe(`evil\uFFFD${A}`);
      expect(writer.dropped).toBe(0);
      expect(writer.written).toBe(21);
    });

    it("writes the good records of a batch one by one when a record fails, and counts the dropped one", async () => {
      const { log, lines } = captureLogger();
      const writer = new TelemetryWriter(() => runtime.store!.db(), log, { batchSize: 50, flushMs: 10_000, maxBuffer: 1000 });
      const good = Array.from({ length: 30 }, () => record({}));
      // Out of range for an integer column: no cleaning makes it storable.
      const bad = record({ tenant: A, inputTokens: 1e15 });
      good.slice(0, 10).forEach((r) => writer.record(r));
      writer.record(bad);
      good.slice(10).forEach((r) => writer.record(r));
      await writer.flush();
      expect(await count(B, good.map((r) => r.requestId))).toBe(30);
      expect(await count(A, [bad.requestId])).toBe(0);
      expect(writer.dropped).toBe(1);
      expect(writer.written).toBe(30);
      expect(lines.some((l) => l.records === 1 && l.of === 31)).toBe(true);
    });

    it("stores tenant B's calls over MCP while tenant A sends NULs", async () => {
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          if (i % 3 === 0) {
            const r = await call("route_task", { prompt: "hello", tenant: A, user: "evil\u0000", requestId: `evil-${RUN}-${i}` });
            expect(errorOf(r)).toMatchObject({ code: "invalid_request", field: "user" });
          } else {
            const id = `clean-${RUN}-${i}`;
            ids.push(id);
            const r = await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: B, requestId: id });
            expect(r.isError).toBeFalsy();
          }
        }),
      );
      await runtime.store!.telemetry.flush();
      expect(await count(B, ids)).toBe(20);
      expect(runtime.store!.telemetry.dropped).toBe(0);
    });
  });

  describe("record_feedback", () => {
    it("accepts feedback on the tenant's own call, even one answered a moment ago (telemetry still buffered)", async () => {
      const id = `own-${RUN}`;
      expect((await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: B, requestId: id })).isError).toBeFalsy();
      const r = await call("record_feedback", { requestId: id, tenant: B, rating: 5, note: "great" });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ recorded: true, requestId: id });
    });

    it("refuses feedback on another tenant's call with not_found, and stores nothing", async () => {
      const id = `b-only-${RUN}`;
      expect((await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: B, requestId: id })).isError).toBeFalsy();
      const r = await call("record_feedback", { requestId: id, tenant: A, rating: 1, note: "sabotage" });
      expect(r.isError).toBe(true);
      expect(errorOf(r)).toMatchObject({ code: "not_found", field: "requestId", retryable: false });
      // A second try finds no foothold in the first (refused) feedback call's own telemetry row.
      expect(errorOf(await call("record_feedback", { requestId: id, tenant: A, rating: 1 }))).toMatchObject({ code: "not_found" });
      const db = await runtime.store!.db();
      expect(await db.query("SELECT 1 FROM sb_feedback WHERE request_id = $1", [id])).toHaveLength(0);
      // The owner still can.
      expect((await call("record_feedback", { requestId: id, tenant: B, rating: 4 })).isError).toBeFalsy();
    });

    it("refuses feedback on an unknown request id with not_found", async () => {
      const r = await call("record_feedback", { requestId: `never-${RUN}`, tenant: A, rating: 3 });
      expect(errorOf(r)).toMatchObject({ code: "not_found", field: "requestId" });
    });

    it("does not let a tenant claim another's request id by reusing it", async () => {
      const id = `claimed-${RUN}`;
      expect((await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: B, requestId: id })).isError).toBeFalsy();
      await runtime.store!.telemetry.flush();
      await new Promise((r) => setTimeout(r, 5));
      expect((await call("route_task", { prompt: "Plan a trip to Lisbon", tenant: A, requestId: id })).isError).toBeFalsy();
      expect(errorOf(await call("record_feedback", { requestId: id, tenant: A, rating: 1 }))).toMatchObject({ code: "not_found" });
      expect((await call("record_feedback", { requestId: id, tenant: B, rating: 5 })).isError).toBeFalsy();
    });

    it.each(["__proto__", "constructor", "toString"])("refuses preferredModel %s with the valid models", async (name) => {
      const r = await call("record_feedback", { requestId: `own-${RUN}`, tenant: B, preferredModel: name });
      const e = errorOf(r);
      expect(e).toMatchObject({ code: "invalid_request", field: "preferredModel" });
      expect((e.validValues as string[]).length).toBeGreaterThan(0);
    });

    it("refuses a NUL in note or requestId with invalid_request, never internal", async () => {
      expect(errorOf(await call("record_feedback", { requestId: `own-${RUN}`, tenant: B, rating: 5, note: "x\u0000" }))).toMatchObject({ code: "invalid_request", field: "note" });
      expect(errorOf(await call("record_feedback", { requestId: `own\u0000-${RUN}`, tenant: B, rating: 5 }))).toMatchObject({ code: "invalid_request", field: "requestId" });
    });
  });
});
