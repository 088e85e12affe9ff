import { randomUUID } from "node:crypto";
import type { SwitchboardConfig } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
import { logger } from "../logger.js";
import type { Db } from "../store/db.js";

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
}

const num = (v: unknown) => Number(v ?? 0);
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

/** Locks ceiling rows in the one order every writer uses, so concurrent writers queue and never deadlock. */
const LOCK_SPEND = "SELECT scope, period, settled_usd, reserved_usd FROM sb_spend WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY scope, period FOR UPDATE";

/**
 * Spending ceilings per tenant (daily, monthly) and global. A call first reserves its worst-case
 * cost; the reservation only succeeds if settled + reserved + amount fits every ceiling, checked
 * and written in one transaction. Lock order is the same everywhere (a reservation row, then the
 * ceiling rows sorted by scope and period), and a transaction that PostgreSQL still aborts as a
 * serialization failure or deadlock is retried, so no budget call fails on concurrency.
 * Settling replaces the reservation with the real cost. Every reservation has a lease: the reaper
 * releases those whose call died with its process, and a settle that comes after the lease still
 * records the real spend. Settled spend therefore never passes a ceiling, in one process or many.
 */
export class Budgets {
  /** Ceiling rows known to exist: their INSERT is skipped. */
  private readonly known = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private lastReap = 0;

  constructor(
    private readonly db: Db,
    private readonly config: () => SwitchboardConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    // Reservations left by a crash are released as soon as the store opens.
    this.reapSoon();
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
    const leaseMs = Math.max(0, Math.round(opts.leaseMs ?? DEFAULT_LEASE_MS));
    const waitMs = Math.max(0, opts.waitMs ?? this.config().budgets.waitMs ?? 0);
    const t0 = Date.now();
    let waited = false;
    this.reapSoon();
    for (;;) {
      const got = await this.storeCall(() =>
        withRetries(async () => {
          await this.ensureRows(ceilings);
          return this.db.transaction((q) => this.tryReserve(q, tenant, ceilings, amount, leaseMs));
        }),
      );
      const elapsed = Date.now() - t0;
      if (got.ok) return { id: got.id, tenant, amountUsd: amount, waitedMs: waited ? Math.max(1, elapsed) : 0 };
      if (!got.couldFit || elapsed >= waitMs) throw exceeded(got, amount, waited ? elapsed : 0);
      if (!waited) opts.onWait?.();
      waited = true;
      await this.nextSettle(Math.min(POLL_MS, waitMs - elapsed));
    }
  }

  private async tryReserve(q: Db["query"], tenant: string, ceilings: Ceiling[], amount: number, leaseMs: number) {
    const scopes = ceilings.map((c) => c.scope);
    const periods = ceilings.map((c) => c.period);
    const rows = await q<{ scope: string; period: string; settled_usd: unknown; reserved_usd: unknown }>(LOCK_SPEND, [scopes, periods]);
    let refused: { ceiling: Ceiling; settled: number; reserved: number } | undefined;
    let couldFit = true;
    for (const c of ceilings) {
      const row = rows.find((r) => r.scope === c.scope && r.period === c.period);
      if (!row) {
        // The row vanished since it was made (a manual clean-up): make it again on the next try.
        this.known.delete(`${c.scope}|${c.period}`);
        throw Object.assign(new Error("ceiling row missing"), { code: "40001" });
      }
      const settled = num(row.settled_usd);
      const reserved = num(row.reserved_usd);
      if (settled + amount > c.limitUsd + 1e-9) couldFit = false;
      if (!refused && settled + reserved + amount > c.limitUsd + 1e-9) refused = { ceiling: c, settled, reserved };
    }
    if (refused) return { ok: false as const, couldFit, ...refused };
    const id = randomUUID();
    if (ceilings.length) await q("UPDATE sb_spend SET reserved_usd = reserved_usd + $3 WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))", [scopes, periods, amount]);
    await q("INSERT INTO sb_reservations (id, tenant, amount_usd, periods, expires_at) VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')", [
      id,
      tenant,
      amount,
      ceilings.map((c) => `${c.scope}|${c.period}`),
      leaseMs,
    ]);
    return { ok: true as const, id };
  }

  /** Creates missing ceiling rows, each in its own statement outside any transaction: nothing is held while it waits. */
  private async ensureRows(ceilings: Ceiling[]): Promise<void> {
    const missing = ceilings.filter((c) => !this.known.has(`${c.scope}|${c.period}`));
    if (!missing.length) return;
    await this.db.query("INSERT INTO sb_spend (scope, period) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING", [missing.map((c) => c.scope), missing.map((c) => c.period)]);
    for (const c of missing) this.known.add(`${c.scope}|${c.period}`);
  }

  /**
   * Replaces a reservation with the real cost. The real cost is capped at the reservation, which
   * was the worst case: a provider reporting more than the worst case would otherwise let spend
   * pass a ceiling. Settling twice is a no-op. A reservation the reaper already released (its
   * lease ran out) still gets its real spend recorded. Transient store conflicts are retried here;
   * anything else is thrown for the caller to retry later.
   */
  async settle(r: Reservation, actualUsd: number): Promise<number> {
    const actual = usd(Math.min(Math.max(0, actualUsd), r.amountUsd));
    await withRetries(() =>
      this.db.transaction(async (q) => {
        const [row] = await q<{ periods: string[] | string; amount_usd: unknown }>(
          "UPDATE sb_reservations SET settled_at = now(), actual_usd = $2 WHERE id = $1 AND settled_at IS NULL RETURNING periods, amount_usd",
          [r.id, actual],
        );
        if (row) return this.applyToSpend(q, pairsOf(row.periods), num(row.amount_usd), actual);
        // Reaped after its lease: nothing is reserved any more, but the real spend still counts.
        const [late] = await q<{ periods: string[] | string }>(
          "UPDATE sb_reservations SET actual_usd = $2 WHERE id = $1 AND reaped_at IS NOT NULL AND actual_usd IS NULL RETURNING periods",
          [r.id, actual],
        );
        if (late && actual > 0) await this.applyToSpend(q, pairsOf(late.periods), 0, actual);
      }),
    );
    this.wake();
    return actual;
  }

  private async applyToSpend(q: Db["query"], pairs: Array<[string, string]>, releaseUsd: number, settleUsd: number): Promise<void> {
    if (!pairs.length) return;
    pairs.sort(byKey);
    const args = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    await q(LOCK_SPEND, args);
    await q(
      "UPDATE sb_spend SET reserved_usd = GREATEST(0, reserved_usd - $3), settled_usd = settled_usd + $4 WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
      [...args, releaseUsd, settleUsd],
    );
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
    const n = await withRetries(() =>
      this.db.transaction(async (q) => {
        const rows = await q<{ id: string; periods: string[] | string; amount_usd: unknown }>(
          "SELECT id, periods, amount_usd FROM sb_reservations WHERE settled_at IS NULL AND expires_at <= now() ORDER BY expires_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
          [limit],
        );
        if (!rows.length) return 0;
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
        return rows.length;
      }),
    );
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
  async pressure(tenant: string): Promise<{ ratio: number; ceiling?: Ceiling }> {
    let best: { ratio: number; ceiling?: Ceiling } = { ratio: 0 };
    for (const c of this.ceilings(tenant)) {
      const [row] = await this.db.query<{ settled_usd: unknown; reserved_usd: unknown }>("SELECT settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 AND period = $2", [c.scope, c.period]);
      const ratio = c.limitUsd > 0 ? (num(row?.settled_usd) + num(row?.reserved_usd)) / c.limitUsd : 1;
      if (ratio > best.ratio) best = { ratio, ceiling: c };
    }
    return best;
  }

  async spent(scope: string, period: string): Promise<{ settledUsd: number; reservedUsd: number }> {
    const [row] = await this.db.query<{ settled_usd: unknown; reserved_usd: unknown }>("SELECT settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 AND period = $2", [scope, period]);
    return { settledUsd: num(row?.settled_usd), reservedUsd: num(row?.reserved_usd) };
  }
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
