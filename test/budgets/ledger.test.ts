import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { openDb, type Db } from "../../src/store/db.js";
import { Budgets } from "../../src/budgets/ledger.js";
import type { SwitchboardConfig } from "../../src/config/schema.js";
import { SwitchboardError } from "../../src/errors.js";
import { postgresUrl, storeBackends } from "../store/pg-available.js";
import { ledgerConfig } from "../helpers/budget-config.js";
import { spawn } from "node:child_process";
import { join } from "node:path";

const pgUrl = await postgresUrl();
if (!pgUrl) console.warn("[budgets] PostgreSQL not reachable at SWITCHBOARD_TEST_DATABASE_URL or 127.0.0.1:5432: the postgres half is skipped");

/** A config with one tenant and a $1 daily ceiling; tenants are unique per test so a shared database stays clean. */
const configFor = (tenant: string, dailyUsd = 1, global: { dailyUsd?: number } = {}) => ledgerConfig(tenant, { dailyUsd, global });

const backends = storeBackends(pgUrl);

describe.each(backends)("budgets on %s", (_name, open, available) => {
  let db: Db;
  beforeAll(async () => {
    if (available) db = await open();
  }, 60000);
  afterAll(async () => {
    await db?.close();
  });

  it.runIf(available)("reserves, settles to the real cost and releases the rest", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant));
    const r = await b.reserve(tenant, 0.4);
    const c = b.ceilings(tenant)[0]!;
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0, reservedUsd: 0.4 });
    expect(await b.settle(r, 0.1)).toBe(0.1);
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.1, reservedUsd: 0 });
    // Settling twice changes nothing.
    await b.settle(r, 0.3);
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.1, reservedUsd: 0 });
  });

  it.runIf(available)("refuses a reservation that would pass a ceiling, naming it", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    await b.settle(await b.reserve(tenant, 0.9), 0.9);
    const err = await b.reserve(tenant, 0.2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    const body = (err as SwitchboardError).body;
    expect(body.code).toBe("budget_exceeded");
    expect(body.ceiling).toMatchObject({ name: `tenant ${tenant} daily`, spentUsd: 0.9, reservedUsd: 0, limitUsd: 1, requestedUsd: 0.2 });
    expect(Date.parse(body.ceiling!.resetsAt)).toBeGreaterThan(Date.now());
    expect(body.hint).toContain("retry after");
  });

  it.runIf(available)("never lets settled spend pass the ceiling when hundreds of calls race for the last dollar", async () => {
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, async () => {
        const r = await b.reserve(tenant, 0.03);
        return b.settle(r, 0.03);
      }),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const c = b.ceilings(tenant)[0]!;
    const spent = await b.spent(c.scope, c.period);
    expect(spent.reservedUsd).toBeCloseTo(0, 8);
    expect(spent.settledUsd).toBeLessThanOrEqual(1);
    expect(spent.settledUsd).toBeCloseTo(ok * 0.03, 8);
    expect(ok).toBe(33);
    for (const r of results) if (r.status === "rejected") expect((r.reason as SwitchboardError).body.code).toBe("budget_exceeded");
  }, 60000);

  it.runIf(available)("holds the global ceiling across tenants", async () => {
    const a = `t-${randomUUID()}`;
    const bT = `t-${randomUUID()}`;
    const cfg = () => ({ tenants: { [a]: {}, [bT]: {} }, budgets: { global: { dailyUsd: 0.5 }, degradeAt: 0.8, inputMargin: 1.25 } }) as unknown as SwitchboardConfig;
    // The global scope is shared by every test on this database: measure relative to what is there.
    const budgets = new Budgets(db, cfg);
    const g = budgets.ceilings(a).find((c) => c.scope === "global")!;
    const before = await budgets.spent(g.scope, g.period);
    const room = 0.5 - before.settledUsd - before.reservedUsd;
    const tries = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => budgets.reserve(i % 2 ? a : bT, 0.05)));
    const granted = tries.filter((t) => t.status === "fulfilled").length;
    expect(granted).toBe(Math.max(0, Math.floor(room / 0.05 + 1e-9)));
    for (const t of tries) if (t.status === "fulfilled") await budgets.release(t.value);
  });
});

describe.runIf(!!pgUrl)("budgets shared by two processes on one PostgreSQL", () => {
  it("two independent connection pools racing never pass the ceiling together", async () => {
    const tenant = `t-${randomUUID()}`;
    const [db1, db2] = [await openDb({ databaseUrl: pgUrl! }), await openDb({ databaseUrl: pgUrl! })];
    try {
      const b1 = new Budgets(db1, configFor(tenant, 2));
      const b2 = new Budgets(db2, configFor(tenant, 2));
      const run = (b: Budgets) => Array.from({ length: 150 }, async () => b.settle(await b.reserve(tenant, 0.05), 0.05));
      const results = await Promise.allSettled([...run(b1), ...run(b2)]);
      const ok = results.filter((r) => r.status === "fulfilled").length;
      const c = b1.ceilings(tenant)[0]!;
      const spent = await b1.spent(c.scope, c.period);
      expect(ok).toBe(40);
      expect(spent.settledUsd).toBeCloseTo(2, 8);
      expect(spent.reservedUsd).toBeCloseTo(0, 8);
    } finally {
      await db1.close();
      await db2.close();
    }
  }, 60000);
});

describe.runIf(!!pgUrl)("budgets shared by two OS processes on one PostgreSQL", () => {
  it("two Switchboard processes racing for one tenant's ceiling never pass it together", async () => {
    const tenant = `t-${randomUUID()}`;
    const worker = join(import.meta.dirname, "race-worker.mjs");
    const procs = [0, 1].map(() => spawn(process.execPath, [worker, pgUrl!, tenant, "3", "0.05", "120"], { stdio: ["pipe", "pipe", "inherit"] }));
    // Both open their pools first, then start at the same moment.
    const outputs = procs.map(
      (p) =>
        new Promise<{ ok: number; refused: number }>((res, rej) => {
          let out = "";
          p.stdout.on("data", (d: Buffer) => (out += d.toString()));
          p.on("exit", (code) => (code === 0 ? res(JSON.parse(out) as { ok: number; refused: number }) : rej(new Error(`worker exited ${code}`))));
        }),
    );
    for (const p of procs) p.stdin.end("go\n");
    const [a, b] = await Promise.all(outputs);
    expect(a!.ok + b!.ok).toBe(60);
    expect(a!.ok + a!.refused + b!.ok + b!.refused).toBe(240);
    const db = await openDb({ databaseUrl: pgUrl! });
    try {
      const budgets = new Budgets(db, configFor(tenant, 3));
      const c = budgets.ceilings(tenant)[0]!;
      const spent = await budgets.spent(c.scope, c.period);
      expect(spent.settledUsd).toBeCloseTo(3, 8);
      expect(spent.reservedUsd).toBeCloseTo(0, 8);
    } finally {
      await db.close();
    }
  }, 60000);
});
