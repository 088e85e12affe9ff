import type { Db } from "../store/db.js";

/** What a check needs of a ceiling (ledger.ts's Ceiling has more). */
interface Ceiling {
  scope: string;
  period: string;
  limitUsd: number;
}

const num = (v: unknown) => Number(v ?? 0);
const keyOf = (c: { scope: string; period: string }) => `${c.scope}|${c.period}`;

export interface LocalCheck {
  ok: boolean;
  /** It would fit once the calls in flight settle. */
  couldFit: boolean;
  /** Index of the first ceiling it would break, when not ok. */
  refusedAt: number;
  settled: number[];
  reserved: number[];
}

/**
 * The embedded store has one writer, this process, so its spend rows can be held in memory and
 * checked there: a reservation is decided without waiting for the database, and only settled
 * spend is written, behind the answer (settle-journal.ts's SETTLED_SQL). Each method here mirrors what
 * sb_reserve and sb_settle do to the rows, so memory holds what PostgreSQL would.
 */
export class LocalSpend {
  private readonly rows = new Map<string, { settled: number; reserved: number }>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Open reservations: what a settle releases, and when its lease runs out. */
  private readonly open = new Map<string, { keys: string[]; amount: number; expiresAt: number }>();

  constructor(private readonly db: Db) {}

  /** Reads (creating if needed) the rows of ceilings not yet in memory: once per period. */
  async load(ceilings: Ceiling[]): Promise<void> {
    const missing = ceilings.filter((c) => !this.rows.has(keyOf(c)));
    if (!missing.length) return;
    await Promise.all(missing.map((c) => this.loadOne(c)));
  }

  private loadOne(c: Ceiling): Promise<void> {
    const key = keyOf(c);
    let p = this.loading.get(key);
    if (!p) {
      p = (async () => {
        await this.db.query("INSERT INTO sb_spend (scope, period) VALUES ($1, $2) ON CONFLICT DO NOTHING", [c.scope, c.period]);
        const [row] = await this.db.query<{ settled_usd: unknown; reserved_usd: unknown }>("SELECT settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 AND period = $2", [c.scope, c.period]);
        this.rows.set(key, { settled: num(row?.settled_usd), reserved: num(row?.reserved_usd) });
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /** What sb_reserve would answer for these (loaded) ceilings. */
  check(ceilings: Ceiling[], amount: number): LocalCheck {
    const settled = ceilings.map((c) => this.rows.get(keyOf(c))?.settled ?? 0);
    const reserved = ceilings.map((c) => this.rows.get(keyOf(c))?.reserved ?? 0);
    let refusedAt = -1;
    let couldFit = true;
    ceilings.forEach((c, i) => {
      if (settled[i]! + amount > c.limitUsd + 1e-9) couldFit = false;
      if (refusedAt < 0 && settled[i]! + reserved[i]! + amount > c.limitUsd + 1e-9) refusedAt = i;
    });
    return { ok: refusedAt < 0, couldFit, refusedAt, settled, reserved };
  }

  reserve(id: string, ceilings: Ceiling[], amount: number, expiresAt: number): void {
    const keys = ceilings.map(keyOf);
    for (const k of keys) this.rows.get(k)!.reserved += amount;
    this.open.set(id, { keys, amount, expiresAt });
  }

  /** As the reaper, for reservations held here: releases those whose lease ran out (a call that hung). */
  reapExpired(now: number): number {
    let n = 0;
    for (const [id, r] of this.open) {
      if (r.expiresAt > now || this.reapedIds.has(id)) continue;
      for (const k of r.keys) {
        const row = this.rows.get(k);
        if (row) row.reserved = Math.max(0, row.reserved - r.amount);
      }
      this.reapedIds.add(id);
      n++;
    }
    return n;
  }

  /** The rows and amount of a reservation still open here. */
  openReservation(id: string): { keys: string[]; amount: number } | undefined {
    return this.open.get(id);
  }

  /** As sb_settle: releases an open reservation and adds the real cost; after a reap, adds the cost only. */
  settle(id: string, actual: number): void {
    const r = this.open.get(id);
    if (!r) return;
    this.open.delete(id);
    const reaped = this.reapedIds.delete(id);
    if (reaped && actual <= 0) return;
    for (const k of r.keys) {
      const row = this.rows.get(k);
      if (!row) continue;
      if (!reaped) row.reserved = Math.max(0, row.reserved - r.amount);
      row.settled += actual;
    }
  }

  /**
   * As the reaper: `released` (per "scope|period") is no longer reserved, whether the reservations
   * were this process's or a crashed one's; a later settle of one of `ids` still counts its cost.
   */
  reaped(ids: string[], released: Map<string, number>): void {
    for (const [k, amount] of released) {
      const row = this.rows.get(k);
      if (row) row.reserved = Math.max(0, row.reserved - amount);
    }
    for (const id of ids) if (this.open.has(id)) this.reapedIds.add(id);
  }

  /** Reservations released by the reaper whose settle has not come yet. */
  private readonly reapedIds = new Set<string>();
}
