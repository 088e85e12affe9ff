import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../src/store/db.js";

/** What the embedded store's class shows beyond the Db interface. */
type Sleepy = Db & { sleeps: number; awakeNow: boolean; nextSleep(): Promise<void> };

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(idleCloseMs: number): Promise<Sleepy> {
  const dir = mkdtempSync(join(tmpdir(), "sb-db-sleep-"));
  dirs.push(dir);
  const db = (await openDb({ dataDir: join(dir, "db"), idleCloseMs })) as Sleepy;
  dbs.push(db);
  return db;
}

describe("the embedded store closes its worker when idle and reopens it on the next query", () => {
  it("sleeps after the idle time and keeps every row across the sleep", async () => {
    const db = await open(50);
    await db.query("CREATE TABLE t (n integer)");
    await db.query("INSERT INTO t VALUES (1), (2)");
    await db.nextSleep();
    expect(db.sleeps).toBe(1);
    expect(db.awakeNow).toBe(false);
    const rows = await db.query<{ s: number }>("SELECT sum(n)::int AS s FROM t");
    expect(rows[0]!.s).toBe(3);
    expect(db.awakeNow).toBe(true);
  }, 60_000);

  it("never sleeps in the middle of a transaction or with queries queued", async () => {
    const db = await open(20);
    await db.query("CREATE TABLE t (n integer)");
    // The transaction outlasts the idle time many times over: it must still commit as one.
    await db.transaction(async (q) => {
      for (let i = 0; i < 30; i++) await q("INSERT INTO t VALUES ($1)", [i]);
    });
    const queued = Array.from({ length: 50 }, (_, i) => db.query("INSERT INTO t VALUES ($1)", [i]));
    await Promise.all(queued);
    const [row] = await db.query<{ c: number }>("SELECT count(*)::int AS c FROM t");
    expect(row!.c).toBe(80);
    await db.nextSleep();
    const [again] = await db.query<{ c: number }>("SELECT count(*)::int AS c FROM t");
    expect(again!.c).toBe(80);
  }, 60_000);

  it("closes cleanly while asleep, and refuses queries after close", async () => {
    const db = await open(20);
    await db.query("SELECT 1");
    await db.nextSleep();
    dbs.pop();
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toThrow(/closed/);
  }, 60_000);

  it("an in-memory store never sleeps (its data lives in the worker)", async () => {
    const db = (await openDb({ dataDir: ":memory:", idleCloseMs: 1 })) as Sleepy;
    dbs.push(db);
    await db.query("CREATE TABLE t (n integer)");
    await db.query("INSERT INTO t VALUES (7)");
    // An on-disk store with the same idle time going to sleep shows the idle time has passed.
    const disk = await open(1);
    await disk.query("SELECT 1");
    await disk.nextSleep();
    const [row] = await db.query<{ n: number }>("SELECT n FROM t");
    expect(row!.n).toBe(7);
    expect(db.sleeps).toBe(0);
  }, 60_000);
});
