import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { openDb, type Db } from "../../src/store/db.js";
import { Budgets } from "../../src/budgets/ledger.js";
import { SwitchboardError } from "../../src/errors.js";
import { postgresUrl, storeBackends } from "../store/pg-available.js";
import { ledgerConfig } from "../helpers/budget-config.js";

const pgUrl = await postgresUrl();

/** A tenant with daily and monthly ceilings, under huge global ones: every call locks four rows. */
const configFor = (tenant: string, dailyUsd: number, waitMs = 3000) => ledgerConfig(tenant, { dailyUsd, monthlyUsd: dailyUsd * 10, global: { dailyUsd: 1e9, monthlyUsd: 1e10 }, waitMs });

/** A seeded generator: the same shares of cost every run. */
function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

async function openReservations(db: Db, tenant: string): Promise<number> {
  const [row] = await db.query<{ n: unknown }>("SELECT count(*) AS n FROM sb_reservations WHERE tenant = $1 AND settled_at IS NULL", [tenant]);
  return Number(row?.n ?? 0);
}

const backends = storeBackends(pgUrl);

describe.each(backends)("budget concurrency on %s", (_name, open, available) => {
  let db: Db;
  beforeAll(async () => {
    if (available) db = await open();
  }, 60000);
  afterAll(async () => {
    await db?.close();
  });

  it.runIf(available)("200 concurrent calls: only budget_exceeded, settled within the ceiling, nothing left open", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 0.5));
    const rand = seeded(42);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, async () => {
        const share = rand() < 0.1 ? 0 : 0.2 + 0.8 * rand();
        const r = await b.reserve(tenant, 0.01, { leaseMs: 60000 });
        await new Promise((res) => setImmediate(res));
        return b.settle(r, 0.01 * share);
      }),
    );
    const errors = results.filter((r) => r.status === "rejected").map((r) => (r.reason as SwitchboardError).body?.code ?? String(r.reason));
    expect(errors.filter((c) => c !== "budget_exceeded")).toEqual([]);
    const settled = results.reduce((s, r) => s + (r.status === "fulfilled" ? r.value : 0), 0);
    const [day] = b.ceilings(tenant).filter((c) => c.scope === `tenant:${tenant}` && c.period.startsWith("day:"));
    const spent = await b.spent(day!.scope, day!.period);
    expect(spent.settledUsd).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(spent.settledUsd).toBeCloseTo(settled, 6);
    expect(spent.reservedUsd).toBeCloseTo(0, 8);
    expect(await openReservations(db, tenant)).toBe(0);
  }, 60000);

  it.runIf(available)("a call that would fit once calls in flight settle waits, and is admitted by the settle", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    const first = await b.reserve(tenant, 0.6);
    let startedWaiting!: () => void;
    const waiting = new Promise<void>((res) => (startedWaiting = res));
    const second = b.reserve(tenant, 0.6, { waitMs: 30000, onWait: startedWaiting });
    await waiting;
    await b.settle(first, 0.3);
    const r = await second;
    expect(r.waitedMs).toBeGreaterThan(0);
    const c = b.ceilings(tenant).find((x) => x.scope === `tenant:${tenant}` && x.period.startsWith("day:"))!;
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.3, reservedUsd: 0.6 });
    await b.release(r);
  });

  it.runIf(available)("a call that cannot fit even when everything settles is refused at once; a wait that runs out says so", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    await b.settle(await b.reserve(tenant, 0.5), 0.5);
    let waited = false;
    const err = await b.reserve(tenant, 0.6, { waitMs: 30000, onWait: () => (waited = true) }).catch((e: unknown) => e);
    expect((err as SwitchboardError).body.code).toBe("budget_exceeded");
    expect(waited).toBe(false);
    const open = await b.reserve(tenant, 0.4);
    try {
      // Long enough that the first round trip, on a loaded machine, ends inside it: the wait itself must run out.
      const timedOut = await b.reserve(tenant, 0.4, { waitMs: 500 }).catch((e: unknown) => e);
      expect((timedOut as SwitchboardError).body.code).toBe("budget_exceeded");
      expect((timedOut as SwitchboardError).message).toMatch(/after waiting/);
    } finally {
      // A failure here must not leave the reservation to hold the shared global ceiling until its lease runs out.
      await b.release(open);
    }
  });

  it.runIf(available)("the reaper releases a reservation whose lease ran out; settled spend stays; a late settle still counts", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    await b.settle(await b.reserve(tenant, 0.2), 0.15);
    const lost = await b.reserve(tenant, 0.3, { leaseMs: 0 });
    const live = await b.reserve(tenant, 0.1, { leaseMs: 600000 });
    const c = b.ceilings(tenant).find((x) => x.scope === `tenant:${tenant}` && x.period.startsWith("day:"))!;
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.15, reservedUsd: 0.4 });
    // Another ledger on the same store may reap it first: run ours until it is gone.
    for (let i = 0; i < 1000 && (await b.spent(c.scope, c.period)).reservedUsd > 0.1 + 1e-9; i++) await b.reap();
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.15, reservedUsd: 0.1 });
    // The embedded store holds reservations in memory only (a crash ends their calls too).
    expect(await openReservations(db, tenant)).toBe(db.kind === "pglite" ? 0 : 1);
    // The call was only slow: its real cost is still recorded, once.
    await b.settle(lost, 0.25);
    await b.settle(lost, 0.25);
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.4, reservedUsd: 0.1 });
    await b.settle(live, 0.05);
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.45, reservedUsd: 0 });
    expect(await openReservations(db, tenant)).toBe(0);
  });
});

describe.runIf(!!pgUrl)("two OS processes on one PostgreSQL, several ceilings each", () => {
  it("500 calls with mixed costs and failures: no deadlock, no error but budget_exceeded, settled within the ceiling, nothing left open", async () => {
    const tenant = `t-${randomUUID()}`;
    const worker = join(import.meta.dirname, "race-worker.mjs");
    const procs = [0, 1].map(() => spawn(process.execPath, [worker, pgUrl!, tenant, "1", "0.01", "250", "mixed"], { stdio: ["pipe", "pipe", "inherit"] }));
    const outputs = procs.map(
      (p) =>
        new Promise<{ ok: number; refused: number; settledUsd: number; errors: Record<string, number> }>((res, rej) => {
          let out = "";
          p.stdout.on("data", (d: Buffer) => (out += d.toString()));
          p.on("exit", (code) => (code === 0 ? res(JSON.parse(out) as never) : rej(new Error(`worker exited ${code}`))));
        }),
    );
    for (const p of procs) p.stdin.end("go\n");
    const [a, b] = await Promise.all(outputs);
    for (const w of [a!, b!]) expect(Object.keys(w.errors).filter((k) => k !== "budget_exceeded")).toEqual([]);
    const db = await openDb({ databaseUrl: pgUrl! });
    try {
      const budgets = new Budgets(db, configFor(tenant, 1));
      const c = budgets.ceilings(tenant).find((x) => x.scope === `tenant:${tenant}` && x.period.startsWith("day:"))!;
      const spent = await budgets.spent(c.scope, c.period);
      expect(spent.settledUsd).toBeLessThanOrEqual(1 + 1e-9);
      expect(spent.settledUsd).toBeCloseTo(a!.settledUsd + b!.settledUsd, 6);
      // Demand is 5x the ceiling at worst case and about 3x at real cost: waiting fills at least half of it.
      expect(spent.settledUsd).toBeGreaterThan(0.5);
      expect(spent.reservedUsd).toBeCloseTo(0, 8);
      expect(await openReservations(db, tenant)).toBe(0);
    } finally {
      await db.close();
    }
  }, 120000);
});
