import { randomUUID } from "node:crypto";
import type { SwitchboardConfig } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
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

const num = (v: unknown) => Number(v ?? 0);
const usd = (n: number) => Math.round(n * 1e8) / 1e8;

/**
 * Spending ceilings per tenant (daily, monthly) and global. A call first reserves its worst-case
 * cost; the reservation only succeeds if settled + reserved + amount fits every ceiling, checked
 * and written in one transaction with the ceiling rows locked (in a fixed order, so concurrent
 * callers queue instead of deadlocking). Settling replaces the reservation with the real cost.
 * Settled spend therefore never passes a ceiling, however many calls race, in one process or many.
 */
export class Budgets {
  constructor(
    private readonly db: Db,
    private readonly config: () => SwitchboardConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  ceilings(tenant: string): Ceiling[] {
    const cfg = this.config();
    const t = cfg.tenants[tenant]?.budget;
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
    return out.sort((a, b) => (a.scope + a.period).localeCompare(b.scope + b.period));
  }

  /** Reserves `amountUsd` against every ceiling of the tenant, or throws budget_exceeded naming the first that would break. */
  async reserve(tenant: string, amountUsd: number): Promise<Reservation> {
    const ceilings = this.ceilings(tenant);
    const amount = usd(Math.max(0, amountUsd));
    const id = randomUUID();
    const scopes = ceilings.map((c) => c.scope);
    const periods = ceilings.map((c) => c.period);
    await this.db.transaction(async (q) => {
      // Four statements whatever the number of ceilings; rows are locked in one fixed order.
      await q("INSERT INTO sb_spend (scope, period) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING", [scopes, periods]);
      const rows = await q<{ scope: string; period: string; settled_usd: unknown; reserved_usd: unknown }>(
        "SELECT scope, period, settled_usd, reserved_usd FROM sb_spend WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY scope, period FOR UPDATE",
        [scopes, periods],
      );
      for (const c of ceilings) {
        const row = rows.find((r) => r.scope === c.scope && r.period === c.period);
        const settled = num(row?.settled_usd);
        const reserved = num(row?.reserved_usd);
        if (settled + reserved + amount > c.limitUsd + 1e-9) {
          throw new SwitchboardError({
            code: "budget_exceeded",
            message: `the ${c.label} ceiling of $${c.limitUsd} would be passed: $${usd(settled)} spent, $${usd(reserved)} reserved by calls in flight, this call needs up to $${amount}`,
            hint: `retry after ${c.resetsAt}, lower maxOutputTokens or pick a cheaper model, or raise the ceiling in the config.`,
            retryable: true,
            ceiling: { name: c.label, spentUsd: usd(settled), reservedUsd: usd(reserved), limitUsd: c.limitUsd, requestedUsd: amount, resetsAt: c.resetsAt },
          });
        }
      }
      await q("UPDATE sb_spend SET reserved_usd = reserved_usd + $3 WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))", [scopes, periods, amount]);
      await q("INSERT INTO sb_reservations (id, tenant, amount_usd, periods) VALUES ($1, $2, $3, $4)", [id, tenant, amount, ceilings.map((c) => `${c.scope}|${c.period}`)]);
    });
    return { id, tenant, amountUsd: amount };
  }

  /**
   * Replaces a reservation with the real cost. The real cost is capped at the reservation, which
   * was the worst case: a provider reporting more than the worst case would otherwise let spend
   * pass a ceiling. Settling twice is a no-op.
   */
  async settle(r: Reservation, actualUsd: number): Promise<number> {
    const actual = usd(Math.min(Math.max(0, actualUsd), r.amountUsd));
    await this.db.transaction(async (q) => {
      const [row] = await q<{ periods: string[] | string; amount_usd: unknown; settled_at: unknown }>(
        "SELECT periods, amount_usd, settled_at FROM sb_reservations WHERE id = $1 FOR UPDATE",
        [r.id],
      );
      if (!row || row.settled_at) return;
      const pairs = (Array.isArray(row.periods) ? row.periods : String(row.periods).replace(/^{|}$/g, "").split(",")).map((p) => p.split("|"));
      await q(
        "UPDATE sb_spend SET reserved_usd = reserved_usd - $3, settled_usd = settled_usd + $4 WHERE (scope, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [pairs.map((p) => p[0]), pairs.map((p) => p[1]), num(row.amount_usd), actual],
      );
      await q("UPDATE sb_reservations SET settled_at = now() WHERE id = $1", [r.id]);
    });
    return actual;
  }

  /** Gives a reservation back unused (the call never reached a provider). */
  release(r: Reservation): Promise<number> {
    return this.settle(r, 0);
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
