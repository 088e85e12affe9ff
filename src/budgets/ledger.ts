import { randomUUID } from "node:crypto";
import type { SwitchboardConfig } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
import { logger } from "../logger.js";
import type { Db } from "../store/db.js";
import { LocalSpend } from "./local-spend.js";
import { SETTLED_SQL, SettleJournal, type JournalEntry } from "./settle-journal.js";

export interface Ceiling {
  scope: string;
  period: string;
  label: string;
  limitUsd: number;
  resetsAt: string;
}

export interface Reservation {
  id: string;
  tenant: string;
  amountUsd: number;
}

export interface ReserveOptions {
  /** How long the reservation may stay open before the reaper releases it: the call's deadline plus a margin. */
  leaseMs?: number;
  /** How long to wait for calls in flight to settle when the reservation would fit without them (default `budgets.waitMs`, else 0). */
  waitMs?: number;
  /** Told once when the call starts waiting for calls in flight to settle. */
  onWait?: () => void;
}

export interface Reserved extends Reservation {
  /** How long the call waited for calls in flight to settle before it fitted (0: it fitted at once). */
  waitedMs: number;
  /** The highest share of any ceiling spent or reserved before this reservation: the trigger for degraded routing. */
  pressure: Pressure;
}

export interface Pressure {
  ratio: number;
  ceiling?: Ceiling;
}

const num = (v: unknown) => Number(v ?? 0);
/** A numeric[] as pg (text like "{1.5,2}") or PGlite (an array) returns it. */
const numbersOf = (v: unknown): number[] => (Array.isArray(v) ? v.map(num) : String(v ?? "").replace(/^{|}$/g, "").split(",").filter(Boolean).map(num));
/** The id of a reservation for a tenant with no ceilings: nothing was written, nothing to settle. */
const NO_CEILINGS = "no-ceilings";
/** One statement each (migrations.ts): one round trip per phase of a call. */
const RESERVE_SQL = "SELECT * FROM sb_reserve($1, $2, $3::text[], $4::text[], $5::numeric[], $6, $7)";
const SETTLE_SQL = "SELECT sb_settle($1, $2)";
/** How long the embedded store's settles gather before they are written together (the journal holds them meanwhile). */
const WRITE_BEHIND_MS = 250;
const usd = (n: number) => Math.round(n * 1e8) / 1e8;
const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** A reservation whose call never settles (the process died) is released after this by default. */
const DEFAULT_LEASE_MS = 10 * 60_000;
/** Across processes a waiting call looks again this often; in one process a settle wakes it at once. */
const POLL_MS = 100;
/** The reaper runs when the ledger opens and then at most this often, on the back of reservations. */
const REAP_EVERY_MS = 30_000;
/** serialization_failure and deadlock_detected: the transaction is retried, a bounded number of times. */
const TRANSIENT = new Set(["40001", "40P01"]);
const MAX_TRIES = 6;

export function isTransient(err: unknown): boolean {
  return TRANSIENT.has(String((err as { code?: unknown } | null)?.code ?? ""));
}

async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= MAX_TRIES || !isTransient(err)) throw err;
      await sleep(Math.random() * 4 * 2 ** i);
    }
  }
}

const pairsOf = (periods: string[] | string) => (Array.isArray(periods) ? periods : String(periods).replace(/^{|}$/g, "").split(",")).filter(Boolean).map((p) => p.split("|") as [string, string]);
const byKey = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** Locks ceiling rows in the one order every writer uses (byte order, as `byKey` and sb_reserve/sb_settle), so concurrent writers queue and never deadlock. */
const LOCK_SPEND = `SELECT scope, period, settled_usd, reserved_usd FROM sb_spend WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY scope COLLATE "C", period COLLATE "C" FOR UPDATE`;

/**
 * Spending ceilings per tenant (daily, monthly) and global. A call first reserves its worst-case
 * cost; the reservation only succeeds if settled + reserved + amount fits every ceiling, checked
 * and written in one statement (one round trip; a tenant with no ceilings costs none). Lock order is the same everywhere (a reservation row, then the
 * ceiling rows sorted by scope and period), and a transaction that PostgreSQL still aborts as a
 * serialization failure or deadlock is retried, so no budget call fails on concurrency.
 * Settling replaces the reservation with the real cost. Every reservation has a lease: the reaper
 * releases those whose call died with its process, and a settle that comes after the lease still
 * records the real spend. Settled spend therefore never passes a ceiling, in one process or many.
 * A settle is one statement too, sent without making the call wait for it: readers of spend in
 * this process (`spent`, `pressure`, `settledAll`) wait for the settles already sent.
 */
export class Budgets {
  /** Settles sent and not yet written. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * With the embedded store (one writer: this process), spend is checked and reserved in memory
   * and only settled calls are written, behind the answer. A reservation never needs the disk:
   * if the process dies, its calls in flight die with it, and so should their holds.
   */
  private readonly local: LocalSpend | undefined;
  private readonly settled: JournalEntry[] = [];
  /** With the embedded store on disk: settles are journaled before the answer, stored a moment later. */
  private readonly journal: SettleJournal | undefined;
  private readonly ready: Promise<void>;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();
  private lastReap = 0;
  /** Settle batches the embedded store failed to write (the journal keeps them): a metric. */
  writeFailures = 0;

  constructor(
    private readonly db: Db,
    private readonly config: () => SwitchboardConfig,
    private readonly now: () => Date = () => new Date(),
    opts: { journalDir?: string } = {},
  ) {
    this.local = db.kind === "pglite" ? new LocalSpend(db) : undefined;
    this.journal = this.local && opts.journalDir ? new SettleJournal(opts.journalDir) : undefined;
    // Settles a crashed process journaled but had not stored are applied before anything is read.
    this.ready = this.journal
      ? this.journal.replay(db).then(
          (n) => void (n && logger.warn({ settles: n }, "budget settles journaled before a crash were applied")),
          (err: unknown) => logger.error({ err: String((err as Error)?.message ?? err) }, "budget settle journal could not be replayed; it is kept for the next start"),
        )
      : Promise.resolve();
    // Reservations left by a crash are released as soon as the store opens.
    void this.ready.then(() => this.reapSoon());
  }

  ceilings(tenant: string): Ceiling[] {
    const cfg = this.config();
    const t = Object.hasOwn(cfg.tenants, tenant) ? cfg.tenants[tenant]?.budget : undefined;
    const g = cfg.budgets.global;
    const d = this.now();
    const day = `day:${d.toISOString().slice(0, 10)}`;
    const month = `month:${d.toISOString().slice(0, 7)}`;
    const nextDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
    const nextMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
    const out: Ceiling[] = [];
    if (t?.dailyUsd !== undefined) out.push({ scope: `tenant:${tenant}`, period: day, label: `tenant ${tenant} daily`, limitUsd: t.dailyUsd, resetsAt: nextDay });
    if (t?.monthlyUsd !== undefined) out.push({ scope: `tenant:${tenant}`, period: month, label: `tenant ${tenant} monthly`, limitUsd: t.monthlyUsd, resetsAt: nextMonth });
    if (g.dailyUsd !== undefined) out.push({ scope: "global", period: day, label: "global daily", limitUsd: g.dailyUsd, resetsAt: nextDay });
    if (g.monthlyUsd !== undefined) out.push({ scope: "global", period: month, label: "global monthly", limitUsd: g.monthlyUsd, resetsAt: nextMonth });
    return out.sort((a, b) => byKey([a.scope, a.period], [b.scope, b.period]));
  }

  /**
   * Reserves `amountUsd` against every ceiling of the tenant. When it does not fit but would once
   * the calls in flight settle, it waits for them (up to `waitMs`); otherwise, or when the wait
   * runs out, it throws budget_exceeded naming the first ceiling that would break. A store that
   * cannot be reached is a structured, retryable error, never `internal`.
   */
  async reserve(tenant: string, amountUsd: number, opts: ReserveOptions = {}): Promise<Reserved> {
    const ceilings = this.ceilings(tenant);
    const amount = usd(Math.max(0, amountUsd));
    // Nothing to hold a call to: no row, no round trip.
    if (!ceilings.length) return { id: NO_CEILINGS, tenant, amountUsd: amount, waitedMs: 0, pressure: { ratio: 0 } };
    const leaseMs = Math.max(0, Math.round(opts.leaseMs ?? DEFAULT_LEASE_MS));
    const waitMs = Math.max(0, opts.waitMs ?? this.config().budgets.waitMs ?? 0);
    const t0 = Date.now();
    let waited = false;
    await this.ready;
    this.reapSoon();
    for (;;) {
      const got = await this.storeCall(() => withRetries(() => this.tryReserve(tenant, ceilings, amount, leaseMs)));
      const elapsed = Date.now() - t0;
      if (got.ok) return { id: got.id, tenant, amountUsd: amount, waitedMs: waited ? Math.max(1, elapsed) : 0, pressure: got.pressure };
      if (!got.couldFit || elapsed >= waitMs) throw exceeded(got, amount, waited ? elapsed : 0);
      if (!waited) opts.onWait?.();
      waited = true;
      await this.nextSettle(Math.min(POLL_MS, waitMs - elapsed));
    }
  }

  /** Checks every ceiling and reserves in one statement (sb_reserve, in migrations.ts): one round trip. */
  private async tryReserve(tenant: string, ceilings: Ceiling[], amount: number, leaseMs: number) {
    const id = randomUUID();
    const args = [id, tenant, ceilings.map((c) => c.scope), ceilings.map((c) => c.period), ceilings.map((c) => c.limitUsd), amount, leaseMs];
    if (this.local) {
      await this.local.load(ceilings);
      const got = this.local.check(ceilings, amount);
      if (got.ok) this.local.reserve(id, ceilings, amount, Date.now() + leaseMs);
      return this.answer(id, ceilings, got);
    }
    const [row] = await this.db.query<{ ok: boolean; could_fit: boolean; refused_at: number | null; settled: unknown; reserved: unknown }>(
      RESERVE_SQL,
      args,
    );
    if (!row) throw new Error("sb_reserve returned nothing");
    return this.answer(id, ceilings, { ok: !!row.ok, couldFit: !!row.could_fit, refusedAt: Number(row.refused_at) - 1, settled: numbersOf(row.settled), reserved: numbersOf(row.reserved) });
  }

  private answer(id: string, ceilings: Ceiling[], got: { ok: boolean; couldFit: boolean; refusedAt: number; settled: number[]; reserved: number[] }) {
    const { settled, reserved } = got;
    if (got.ok) return { ok: true as const, id, pressure: pressureOf(ceilings, settled, reserved) };
    const k = got.refusedAt;
    return { ok: false as const, couldFit: got.couldFit, ceiling: ceilings[k]!, settled: settled[k] ?? 0, reserved: reserved[k] ?? 0 };
  }

  /**
   * Writes the settled calls gathered so far in one statement, behind the answers. A write that
   * fails leaves the disk short of what memory holds; the journal keeps the settles for the next start.
   */
  private flushWrites(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.settled.splice(0);
    if (!batch.length) return;
    const segment = this.journal?.seal();
    const failed = (err: unknown) => {
      this.writeFailures++;
      logger.error({ settles: batch.length, err: String((err as Error)?.message ?? err) }, "budget settles could not be written to the embedded store; this process still enforces the ceiling, and the journal keeps them for the next start");
    };
    void this.track(this.db.query(SETTLED_SQL, [JSON.stringify(batch)])).then(() => this.journal?.done(segment), failed);
  }

  /** Readers of spend wait for writes already sent (a pool may run a read on another connection first). */
  private track<T>(p: Promise<T>): Promise<T> {
    const tracked = p.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return p;
  }

  /**
   * Replaces a reservation with the real cost. The real cost is capped at the reservation, which
   * was the worst case: a provider reporting more than the worst case would otherwise let spend
   * pass a ceiling. Settling twice is a no-op. A reservation the reaper already released (its
   * lease ran out) still gets its real spend recorded. Transient store conflicts are retried here;
   * anything else is thrown for the caller to retry later.
   */
  settle(r: Reservation, actualUsd: number): Promise<number> {
    const actual = usd(Math.min(Math.max(0, actualUsd), r.amountUsd));
    if (r.id === NO_CEILINGS) return Promise.resolve(actual);
    if (this.local) {
      const open = this.local.openReservation(r.id);
      if (open) {
        const entry = { id: r.id, tenant: r.tenant, keys: open.keys, amountUsd: open.amount, actualUsd: actual };
        this.journal?.append(entry);
        this.settled.push(entry);
        // Gathered for a moment, then written in one statement: every hand-off to the store's worker
        // thread costs a context switch, and each statement PostgreSQL's WebAssembly runs costs CPU
        // that a busy 2-core host takes from the calls themselves.
        this.flushTimer ??= setTimeout(() => this.flushWrites(), WRITE_BEHIND_MS);
      }
      this.local.settle(r.id, actual);
      this.wake();
      return Promise.resolve(actual);
    }
    return this.track(withRetries(() => this.db.query(SETTLE_SQL, [r.id, actual]))).then(() => {
      this.wake();
      return actual;
    });
  }

  /** Resolves once every settle sent so far has been written (or failed). */
  async settledAll(): Promise<void> {
    await this.ready;
    this.flushWrites();
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** Gives a reservation back unused (the call never reached a provider). */
  release(r: Reservation): Promise<number> {
    return this.settle(r, 0);
  }

  /**
   * Releases reservations whose lease ran out (their call died with its process). Cheap: an
   * index on open reservations by expiry; SKIP LOCKED lets several processes reap side by side.
   * Returns how many it released.
   */
  async reap(limit = 500): Promise<number> {
    // Settles still gathering go first, so the reaper never releases a reservation already settled here.
    this.flushWrites();
    const reaped = await withRetries(() =>
      this.db.transaction(async (q) => {
        const rows = await q<{ id: string; periods: string[] | string; amount_usd: unknown }>(
          "SELECT id, periods, amount_usd FROM sb_reservations WHERE settled_at IS NULL AND expires_at <= now() ORDER BY expires_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
          [limit],
        );
        if (!rows.length) return undefined;
        const by = new Map<string, number>();
        for (const r of rows) for (const [s, p] of pairsOf(r.periods)) by.set(`${s}|${p}`, (by.get(`${s}|${p}`) ?? 0) + num(r.amount_usd));
        const keys = [...by.keys()].map((k) => k.split("|") as [string, string]).sort(byKey);
        if (keys.length) {
          const args = [keys.map((k) => k[0]), keys.map((k) => k[1])];
          await q(LOCK_SPEND, args);
          await q(
            "UPDATE sb_spend s SET reserved_usd = GREATEST(0, s.reserved_usd - d.amount) FROM unnest($1::text[], $2::text[], $3::numeric[]) AS d(scope, period, amount) WHERE s.scope = d.scope AND s.period = d.period",
            [...args, keys.map((k) => usd(by.get(`${k[0]}|${k[1]}`)!))],
          );
        }
        await q("UPDATE sb_reservations SET settled_at = now(), reaped_at = now() WHERE id = ANY($1::text[])", [rows.map((r) => r.id)]);
        return { ids: rows.map((r) => r.id), by };
      }),
    );
    // The embedded store's own reservations are held in memory, and reaped there.
    const n = (reaped ? reaped.ids.length : 0) + (this.local?.reapExpired(Date.now()) ?? 0);
    if (reaped) this.local?.reaped(reaped.ids, reaped.by);
    if (n) {
      logger.warn({ released: n }, "budget reservations whose lease ran out were released (their calls did not settle: a crash or a lost store)");
      this.wake();
    }
    return n;
  }

  /** Runs the reaper in the background when it has not run for a while. */
  private reapSoon(): void {
    const t = Date.now();
    if (t - this.lastReap < REAP_EVERY_MS) return;
    this.lastReap = t;
    this.reap().catch((err: unknown) => logger.warn({ err: String((err as Error)?.message ?? err) }, "budget reaper failed; it will run again"));
  }

  /** Resolves on the next settle in this process, or after `ms` (another process may have settled). */
  private nextSettle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SwitchboardError) throw err;
      logger.warn({ err: String((err as Error)?.message ?? err), code: (err as { code?: unknown })?.code }, "budget store failed");
      throw new SwitchboardError({
        code: "provider_unavailable",
        message: "the budget store could not be reached, so the call was not run (nothing was spent)",
        hint: "retry in a moment; if it persists, check the database (DATABASE_URL) or the data folder.",
        retryable: true,
      });
    }
  }

  /** The highest share of any ceiling already spent or reserved: the trigger for degraded routing. */
  async pressure(tenant: string): Promise<Pressure> {
    const ceilings = this.ceilings(tenant);
    if (!ceilings.length) return { ratio: 0 };
    if (this.local) {
      await this.ready;
      await this.local.load(ceilings);
      const got = this.local.check(ceilings, 0);
      return pressureOf(ceilings, got.settled, got.reserved);
    }
    await this.settledAll();
    const rows = await this.db.query<{ scope: string; period: string; settled_usd: unknown; reserved_usd: unknown }>(
      "SELECT scope, period, settled_usd, reserved_usd FROM sb_spend WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
      [ceilings.map((c) => c.scope), ceilings.map((c) => c.period)],
    );
    const rowOf = (c: Ceiling) => rows.find((r) => r.scope === c.scope && r.period === c.period);
    return pressureOf(ceilings, ceilings.map((c) => num(rowOf(c)?.settled_usd)), ceilings.map((c) => num(rowOf(c)?.reserved_usd)));
  }

  async spent(scope: string, period: string): Promise<{ settledUsd: number; reservedUsd: number }> {
    if (this.local) {
      // Memory is the truth for the one writer; the disk is a moment behind it.
      await this.ready;
      const c = { scope, period, limitUsd: Infinity };
      await this.local.load([c]);
      const got = this.local.check([c], 0);
      return { settledUsd: usd(got.settled[0]!), reservedUsd: usd(got.reserved[0]!) };
    }
    await this.settledAll();
    const [row] = await this.db.query<{ settled_usd: unknown; reserved_usd: unknown }>("SELECT settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 AND period = $2", [scope, period]);
    return { settledUsd: num(row?.settled_usd), reservedUsd: num(row?.reserved_usd) };
  }
}

/** The highest share of any ceiling spent or reserved (settled[i] + reserved[i] against ceilings[i]). */
function pressureOf(ceilings: Ceiling[], settled: number[], reserved: number[]): Pressure {
  let best: Pressure = { ratio: 0 };
  ceilings.forEach((c, i) => {
    const ratio = c.limitUsd > 0 ? ((settled[i] ?? 0) + (reserved[i] ?? 0)) / c.limitUsd : 1;
    if (ratio > best.ratio) best = { ratio, ceiling: c };
  });
  return best;
}

function exceeded(got: { ceiling: Ceiling; settled: number; reserved: number }, amount: number, waitedMs: number): SwitchboardError {
  const c = got.ceiling;
  const waited = waitedMs ? ` (after waiting ${(waitedMs / 1000).toFixed(1)} s for calls in flight to settle)` : "";
  return new SwitchboardError({
    code: "budget_exceeded",
    message: `the ${c.label} ceiling of $${c.limitUsd} would be passed: $${usd(got.settled)} spent, $${usd(got.reserved)} reserved by calls in flight, this call needs up to $${amount}${waited}`,
    hint: `retry after ${c.resetsAt}, lower maxOutputTokens or pick a cheaper model, or raise the ceiling in the config.`,
    retryable: true,
    ceiling: { name: c.label, spentUsd: usd(got.settled), reservedUsd: usd(got.reserved), limitUsd: c.limitUsd, requestedUsd: amount, resetsAt: c.resetsAt },
  });
}
