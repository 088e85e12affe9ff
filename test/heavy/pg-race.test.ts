// Two `serve --http` processes on one PostgreSQL database, 500 run_llm calls in all against a
// small daily ceiling (demand about 2.5 times it), end to end over HTTP: settled spend stays
// within the ceiling, nothing fails `internal`, no reservation stays open, and the ceiling is used.
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { postgresUrl } from "../store/pg-available.js";
import { budgetState, cleanEnv, connectHttp, openDb, prng, SEED, startServer, tempDir, writeOverlay, type ServerProc } from "./helpers.js";
import { chaosOverlay, COST, OPENAI_KEY, pool, runArgs, scriptFake, tally } from "./budget-load.js";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[heavy] PostgreSQL not reachable: the two-process race is skipped");

const CALLS = 500;
const CEILING = Math.round((CALLS * COST) / 2.5 * 1e6) / 1e6; // $0.056

describe.runIf(!!pgUrl)("two processes, one PostgreSQL, 500 run_llm calls at 2.5x the ceiling", () => {
  let fake: FakeServer;
  const servers: ServerProc[] = [];
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => s.kill9()));
    await fake?.close();
  });

  it("settled ≤ ceiling, zero internal, nothing left open, at least half the ceiling used", async () => {
    const t0 = Date.now();
    const rand = prng(SEED);
    const tenant = `race-${SEED}-${randomBytes(4).toString("hex")}`;
    const token = `tok-${randomBytes(12).toString("hex")}`;
    fake = await startOpenAIFake();
    scriptFake(fake, rand);
    const overlayFile = writeOverlay(tempDir("sb-heavy-race-"), chaosOverlay(tenant, CEILING, { deadlineMs: 30_000, marginMs: 30_000 }));
    const env = { ...cleanEnv(), DATABASE_URL: pgUrl!, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_TOKENS: `${tenant}=${token}` };
    servers.push(...(await Promise.all([startServer({ env, overlayFile }), startServer({ env, overlayFile })])));
    // Four sessions per process; calls alternate between the processes.
    for (let i = 0; i < 8; i++) clients.push(await connectHttp(servers[i % 2]!.url, token, `race-${i}`));

    const outcomes = await pool(clients, CALLS, 48, (i) => runArgs(i));
    const { codes, answeredUsd } = tally(outcomes);

    const db = await openDb({ databaseUrl: pgUrl! });
    try {
      const st = await budgetState(db, tenant);
      console.log(
        `pg-race: ${outcomes.length} calls over 2 processes, ${JSON.stringify(codes)}, settled $${st.settledUsd.toFixed(6)} of $${CEILING} (${Math.round((st.settledUsd / CEILING) * 100)}%), ${st.open} open, seed ${SEED}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(outcomes).toHaveLength(CALLS);
      expect(Object.keys(codes).filter((k) => k !== "ok" && k !== "budget_exceeded"), JSON.stringify(codes)).toEqual([]);
      expect(st.settledUsd).toBeLessThanOrEqual(CEILING + 1e-9);
      expect(st.settledUsd).toBeGreaterThanOrEqual(CEILING / 2);
      // What the clients were told they spent is exactly what the ledger holds.
      expect(st.settledUsd).toBeCloseTo(answeredUsd, 6);
      expect(st.open).toBe(0);
      expect(st.reservedUsd).toBeCloseTo(0, 8);
    } finally {
      await db.close();
    }
    for (const s of servers) expect(s.stderr()).not.toContain(OPENAI_KEY);
  }, 600_000);
});
