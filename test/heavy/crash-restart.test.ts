// kill -9 under load, then restart on the same store (PGlite in a temp folder, and PostgreSQL):
// what the killed server settled is still there, the reservations of calls in flight at the crash
// are reclaimed by the lease reaper of the restarted server, and new calls are admitted up to the
// ceiling.
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startOpenAIFake, type FakeServer } from "../fakes/openai-fake.js";
import { postgresUrl } from "../store/pg-available.js";
import { budgetState, callTool, capped, cleanEnv, connectHttp, openDb, prng, SEED, startServer, tempDir, writeOverlay, type CallOutcome, type ServerProc } from "./helpers.js";
import { chaosOverlay, COST, OPENAI_KEY, pool, RESERVE_MAX, runArgs, scriptFake, tally } from "./budget-load.js";

/** The settles a killed embedded-store server journaled for this tenant (some may also be stored already). */
function journaled(journalDir: string, tenant: string): { usd: number; n: number } {
  const out = { usd: 0, n: 0 };
  if (!existsSync(journalDir)) return out;
  // The budget's settles only: call records are journaled beside them.
  for (const f of readdirSync(journalDir).filter((n) => n.startsWith("budget-settles"))) {
    for (const line of readFileSync(join(journalDir, f), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { tenant: string; actualUsd: number };
      if (e.tenant === tenant) {
        out.usd += e.actualUsd;
        out.n++;
      }
    }
  }
  return out;
}

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[heavy] PostgreSQL not reachable: the PostgreSQL half of kill -9 is skipped");

const CEILING = 0.02; // about 71 answers
const HANGING = 6;
const ANSWERED_BEFORE_KILL = 20;
const LEASE = { deadlineMs: 6000, marginMs: 1000 };

describe.each([
  ["pglite", true],
  ["postgres", !!pgUrl],
] as const)("kill -9 under load, then restart, on %s", (backend, available) => {
  let fake: FakeServer | undefined;
  const procs: ServerProc[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill9()));
    await fake?.close();
  });

  it.runIf(available)("settled spend intact, open reservations reaped, new calls admitted up to the ceiling", async () => {
    const t0 = Date.now();
    const rand = prng(SEED + (backend === "pglite" ? 1 : 2));
    const dir = tempDir(`sb-heavy-crash-${backend}-`);
    const tenant = `crash-${backend}-${SEED}-${randomBytes(4).toString("hex")}`;
    const token = `tok-${randomBytes(12).toString("hex")}`;
    const store: Record<string, string> = backend === "pglite" ? { SWITCHBOARD_DATA_DIR: join(dir, "data") } : { DATABASE_URL: pgUrl! };
    const openStore = () => openDb(backend === "pglite" ? { dataDir: join(dir, "data") } : { databaseUrl: pgUrl! });

    // Events the load waits on: every hanging call has reached the provider; enough calls were answered.
    let hangs = 0;
    let allHanging!: () => void;
    const hanging = new Promise<void>((res) => (allHanging = res));
    fake = await startOpenAIFake();
    scriptFake(fake, rand, (_req, hang) => {
      if (hang && ++hangs === HANGING) allHanging();
    });
    const overlayFile = writeOverlay(dir, chaosOverlay(tenant, CEILING, LEASE));
    const env = { ...cleanEnv(), ...store, OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_TOKENS: `${tenant}=${token}` };

    // 1. Load: a stream of quick calls; once some are answered, calls that hang at the provider join.
    const first = await startServer({ env, overlayFile });
    procs.push(first);
    const clients: Client[] = [];
    for (let i = 0; i < 4; i++) clients.push(await connectHttp(first.url, token, `crash-${i}`));
    let answered = 0;
    let enoughAnswered!: () => void;
    const enough = new Promise<void>((res) => (enoughAnswered = res));
    let killed = false;
    const quick = pool(clients, 10_000, 6, (i) => runArgs(i), (o) => {
      if (o.ok && ++answered === ANSWERED_BEFORE_KILL) enoughAnswered();
    }, () => killed);
    await capped(enough, 120_000, `${ANSWERED_BEFORE_KILL} answered calls`);
    const hung: Array<Promise<CallOutcome>> = Array.from({ length: HANGING }, (_, i) => callTool(clients[i % clients.length]!, "run_llm", runArgs(i, " HANG")));
    await capped(hanging, 120_000, "every hanging call to reach the provider");

    // 2. kill -9 mid-load.
    killed = true;
    await first.kill9();
    // Closing the sessions ends the calls the dead server will never answer (no waiting for timeouts).
    for (const c of clients) await c.close().catch(() => undefined);
    const before = tally([...(await quick), ...(await Promise.all(hung))]);
    expect(before.codes.internal ?? 0).toBe(0);

    // 3. What the crash left: every answered call's cost settled, the calls in flight still reserved.
    let db = await openStore();
    const crashed = await budgetState(db, tenant);
    const [lease] = await db.query<{ ms: unknown }>("SELECT coalesce(max(extract(epoch FROM expires_at - now()) * 1000), 0) AS ms FROM sb_reservations WHERE tenant = $1 AND settled_at IS NULL", [tenant]);
    await db.close();
    // The embedded store writes settles a few ms behind the answer, journaling each one first; what
    // the kill caught in between is in the journal and is applied when the next server opens the store.
    const journal = backend === "pglite" ? journaled(`${join(dir, "data")}.journal`, tenant) : { usd: 0, n: 0 };
    expect(crashed.settledUsd + journal.usd).toBeGreaterThanOrEqual(before.answeredUsd - 1e-9);
    expect(crashed.settledUsd).toBeLessThanOrEqual(CEILING + 1e-9);
    // PostgreSQL holds every call in flight as an open reservation. The embedded store holds its
    // reservations in memory only: the calls in flight died with the process, and so did their holds.
    if (backend === "postgres") {
      expect(crashed.open).toBeGreaterThanOrEqual(HANGING);
      expect(crashed.reservedUsd).toBeGreaterThan(0);
    }

    // 4. Restart on the same store once the leases have run out (the one wait on the clock: a lease is
    //    time); the reaper runs as the store opens, and says so.
    const leaseLeft = Math.max(0, Number(lease?.ms ?? 0)) + 250;
    await new Promise((res) => setTimeout(res, leaseLeft));
    const second = await startServer({ env, overlayFile });
    procs.push(second);
    const c2 = await connectHttp(second.url, token, "after-restart");
    // What the crash left open is reaped, or settled from the journal first (then nothing may be left to reap).
    const expected = crashed.open > journal.n ? /"released":\d+[^\n]*lease ran out/ : journal.n ? /"settles":\d+[^\n]*journaled before a crash/ : undefined;
    const reapedLine = expected ? second.waitForLog(expected, 120_000) : Promise.resolve();
    // One call also opens the store if the server opens it lazily.
    const firstAfter = await callTool(c2, "run_llm", runArgs(0, " after restart"));
    await reapedLine;

    // 5. New calls admitted until the ceiling refuses them.
    const after = await pool([c2], 120, 4, (i) => runArgs(i, " after restart"), undefined, () => false);
    const afterTally = tally([firstAfter, ...after]);
    await c2.close();
    expect(await second.stop()).toBe(0);

    db = await openStore();
    const final = await budgetState(db, tenant);
    await db.close();
    console.log(
      `crash-restart(${backend}): ${JSON.stringify(before.codes)} before kill -9, settled $${crashed.settledUsd.toFixed(6)} (answered $${before.answeredUsd.toFixed(6)}), ${crashed.open} open → ${final.reaped} reaped; after restart ${JSON.stringify(afterTally.codes)}, settled $${final.settledUsd.toFixed(6)} of $${CEILING}, seed ${SEED}, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    // Open at the crash: reaped, or settled from the journal (an answered call whose settle was not stored yet).
    expect(final.reaped + journal.n).toBeGreaterThanOrEqual(crashed.open);
    expect(final.open).toBe(0);
    expect(final.reservedUsd).toBeCloseTo(0, 8);
    // Settled spend intact: every answer of the first server (stored or journaled) plus what the second one answered.
    expect(final.settledUsd).toBeGreaterThanOrEqual(before.answeredUsd + afterTally.answeredUsd - 1e-9);
    if (!journal.n) expect(final.settledUsd).toBeCloseTo(crashed.settledUsd + afterTally.answeredUsd, 6);
    expect(afterTally.codes.ok ?? 0).toBeGreaterThan(0);
    expect(Object.keys(afterTally.codes).filter((k) => k !== "ok" && k !== "budget_exceeded")).toEqual([]);
    expect(afterTally.codes.budget_exceeded ?? 0).toBeGreaterThan(0);
    // Admitted up to the ceiling: the last refusals came when less than one call's worst case was left.
    expect(final.settledUsd).toBeLessThanOrEqual(CEILING + 1e-9);
    expect(CEILING - final.settledUsd).toBeLessThan(RESERVE_MAX + COST);
    expect(first.stderr() + second.stderr()).not.toContain(OPENAI_KEY);
  }, 600_000);
});
