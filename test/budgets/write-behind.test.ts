// The embedded store's budget path: checked in memory, written behind in batches, every settle
// journaled first so a crash between the answer and the write loses no spend; and a tenant with no
// ceilings costs no database call at all.
import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../src/store/db.js";
import { Budgets } from "../../src/budgets/ledger.js";
import { SettleJournal } from "../../src/budgets/settle-journal.js";
import { ledgerConfig } from "../helpers/budget-config.js";

const configFor = (tenant: string, dailyUsd?: number) => ledgerConfig(tenant, dailyUsd === undefined ? {} : { dailyUsd });

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "sb-wb-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Counts the statements that reach the database. */
function counted(db: Db): { db: Db; calls: string[] } {
  const calls: string[] = [];
  const wrapped: Db = {
    kind: db.kind,
    query: (sql, params) => (calls.push(sql), db.query(sql, params)),
    transaction: (fn) => (calls.push("BEGIN"), db.transaction(fn)),
    close: () => db.close(),
  };
  return { db: wrapped, calls };
}

describe("budget writes on the embedded store", () => {
  it("a tenant with no ceilings reserves and settles without touching the database", async () => {
    const raw = await openDb({ dataDir: ":memory:" });
    const { db, calls } = counted(raw);
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant));
    await b.settledAll(); // the opening reaper's run
    calls.length = 0;
    const r = await b.reserve(tenant, 0.5);
    await b.settle(r, 0.2);
    await b.settledAll();
    expect(calls).toEqual([]);
    await raw.close();
  });

  it("decides in memory, and stores only the settled calls a moment later, in one statement", async () => {
    const raw = await openDb({ dataDir: ":memory:" });
    const { db, calls } = counted(raw);
    const tenant = `t-${randomUUID()}`;
    const b = new Budgets(db, configFor(tenant, 1));
    const first = await b.reserve(tenant, 0.3); // loads the ceiling row
    calls.length = 0;
    const rs = await Promise.all([b.reserve(tenant, 0.3), b.reserve(tenant, 0.3)]);
    // The fourth does not fit: refused from memory, before anything was stored.
    await expect(b.reserve(tenant, 0.3)).rejects.toMatchObject({ body: { code: "budget_exceeded" } });
    // Reservations live in memory only: a crash takes their calls with it, and so their holds.
    expect(calls).toEqual([]);
    for (const r of [first, ...rs]) await b.settle(r, 0.1);
    const c = b.ceilings(tenant)[0]!;
    expect(await b.spent(c.scope, c.period)).toEqual({ settledUsd: 0.3, reservedUsd: 0 });
    await b.settledAll();
    expect(calls).toHaveLength(1);
    const [row] = await raw.query<{ n: unknown }>("SELECT count(*) AS n FROM sb_reservations WHERE tenant = $1 AND settled_at IS NOT NULL", [tenant]);
    expect(Number(row!.n)).toBe(3);
    const [spend] = await raw.query<{ settled_usd: unknown; reserved_usd: unknown }>("SELECT settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 AND period = $2", [c.scope, c.period]);
    expect([Number(spend!.settled_usd), Number(spend!.reserved_usd)]).toEqual([0.3, 0]);
    await raw.close();
  });

  it("journals each settle before it is stored, and replays a crashed process's journal exactly once", async () => {
    const dir = tempDir();
    const dataDir = join(dir, "db");
    const journalDir = join(dir, "db.journal");
    const tenant = `t-${randomUUID()}`;
    let db = await openDb({ dataDir });
    const b = new Budgets(db, configFor(tenant, 1), undefined, { journalDir });
    const stored = await b.reserve(tenant, 0.2);
    const lost = await b.reserve(tenant, 0.2);
    await b.settledAll(); // both reservations are on disk
    // A settle whose write never happened (the process died first): only the journal has it.
    new SettleJournal(journalDir).append({ id: lost.id, tenant, keys: [`tenant:${tenant}|${b.ceilings(tenant)[0]!.period}`], amountUsd: 0.2, actualUsd: 0.07 });
    // One that was stored and journaled both: the replay must not count it twice.
    await b.settle(stored, 0.05);
    expect(readdirSync(journalDir).some((f) => readFileSync(join(journalDir, f), "utf8").includes(stored.id))).toBe(true);
    await b.settledAll();
    // And a reservation the dead process never stored at all.
    const ghost = randomUUID();
    new SettleJournal(journalDir).append({ id: ghost, tenant, keys: [`tenant:${tenant}|${b.ceilings(tenant)[0]!.period}`], amountUsd: 0.2, actualUsd: 0.01 });
    await db.close();

    db = await openDb({ dataDir });
    const again = new Budgets(db, configFor(tenant, 1), undefined, { journalDir });
    const c = again.ceilings(tenant)[0]!;
    expect(await again.spent(c.scope, c.period)).toEqual({ settledUsd: 0.13, reservedUsd: 0 });
    const [g] = await db.query<{ actual_usd: unknown }>("SELECT actual_usd FROM sb_reservations WHERE id = $1", [ghost]);
    expect(Number(g!.actual_usd)).toBe(0.01);
    await db.close();

    // A second start replays nothing: the journal is gone.
    db = await openDb({ dataDir });
    const third = new Budgets(db, configFor(tenant, 1), undefined, { journalDir });
    expect(await third.spent(c.scope, c.period)).toEqual({ settledUsd: 0.13, reservedUsd: 0 });
    await db.close();
  }, 60_000);
});
