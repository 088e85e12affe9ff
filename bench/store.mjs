// Telemetry write throughput and budget-reservation latency, on embedded PGlite and on PostgreSQL.
import { randomUUID } from "node:crypto";
import { openDb } from "../dist/store/db.js";
import { Budgets } from "../dist/budgets/ledger.js";
import { TelemetryWriter } from "../dist/store/telemetry.js";
import { logger } from "../dist/logger.js";
import { reachablePgUrl } from "./pg.mjs";

const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function benchOne(name, db) {
  const record = (i) => ({
    requestId: `bench-${i}`, at: new Date(), tenant: "bench", tool: "run_llm", mode: "realtime_assist", taskType: "coding", tier: "classifier",
    confidence: 0.9, model: "openai:gpt-4.1-mini", provider: "openai", attempts: 1, fallbacks: 0, latencyMs: 800, inputTokens: 120,
    outputTokens: 400, costUsd: 0.0007, tools: ["inline_suggest"], mcpTools: [], outcome: "ok", overridden: false,
  });
  const writer = new TelemetryWriter(async () => db, logger, { batchSize: 500, flushMs: 1000, maxBuffer: 100000 });
  const N = 20000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) writer.record(record(i));
  const enqueueMs = performance.now() - t0;
  await writer.flush();
  const totalMs = performance.now() - t0;

  const tenant = `bench-${randomUUID()}`;
  const budgets = new Budgets(db, () => ({ tenants: { [tenant]: { budget: { dailyUsd: 1e9, monthlyUsd: 1e9 } } }, budgets: { global: { dailyUsd: 1e12 }, degradeAt: 0.8, inputMargin: 1.25 } }));
  for (let i = 0; i < 50; i++) await budgets.settle(await budgets.reserve(tenant, 0.001), 0.0005);
  const res = [];
  const set = [];
  for (let i = 0; i < 500; i++) {
    let t = performance.now();
    const r = await budgets.reserve(tenant, 0.001);
    res.push(performance.now() - t);
    t = performance.now();
    await budgets.settle(r, 0.0005);
    set.push(performance.now() - t);
  }
  console.log(
    `store ${name}: telemetry ${Math.round(N / (totalMs / 1000))} records/s written in batches of 500 (record() itself ${(enqueueMs * 1000 / N).toFixed(2)} µs each, off the hot path); ` +
      `budget reserve p50 ${q(res, 0.5).toFixed(2)} ms p99 ${q(res, 0.99).toFixed(2)} ms, settle p50 ${q(set, 0.5).toFixed(2)} ms (added per call: reserve before, settle after)`,
  );
  await db.query("DELETE FROM sb_calls WHERE tenant = 'bench'");
  // The embedded ledger writes its settles up to 250 ms behind: store them before the database closes.
  await budgets.settledAll();
  await db.close();
}

export async function benchStore() {
  await benchOne("pglite (embedded)", await openDb({ dataDir: ":memory:" }));
  const url = await reachablePgUrl();
  if (url) await benchOne("postgres", await openDb({ databaseUrl: url }));
  else console.log("store postgres: skipped (no server at SWITCHBOARD_TEST_DATABASE_URL or 127.0.0.1:5432)");
}
