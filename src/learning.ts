import type { SwitchboardConfig } from "./config/schema.js";
import type { Logger } from "./logger.js";
import type { PreferenceAdjuster, ScoreAdjustment } from "./routing/types.js";
import type { Db } from "./store/db.js";

interface Aggregates {
  /** tenant -> user ("" for all) -> model -> times chosen by override or named as preferred in feedback */
  chosen: Map<string, Map<string, Map<string, number>>>;
  /** tenant -> user -> calls made */
  calls: Map<string, Map<string, number>>;
  /** tenant -> model -> { sum, n } of ratings */
  ratings: Map<string, Map<string, { sum: number; n: number }>>;
  /** model|task -> { calls, ok } */
  outcomes: Map<string, { calls: number; ok: number }>;
}

const deep = <V>(m: Map<string, V>, k: string, make: () => V): V => {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
};

/**
 * Tier 4: what the store has seen steers later decisions. A user (or tenant) who keeps choosing a
 * model gets it preferred; well or badly rated models move up or down; a model whose success rate
 * on a task falls under the floor is demoted and flagged. Every adjustment carries a reason that
 * the decision shows. Routing stays synchronous: aggregates are cached and refreshed in the background.
 */
export class LearnedPreferences implements PreferenceAdjuster {
  private agg: Aggregates = { chosen: new Map(), calls: new Map(), ratings: new Map(), outcomes: new Map() };
  private timer: NodeJS.Timeout | undefined;
  lastRefresh = 0;
  private stopped = false;
  /** What `changes` said at the last refresh. */
  private seen: number | undefined;

  /**
   * `changes` counts what this process has written to the store; when only this process writes
   * (the embedded store), an unchanged count means the figures are still right, and the store is
   * left asleep. Undefined (PostgreSQL: other processes write) means always refresh.
   */
  constructor(
    private readonly db: () => Promise<Db>,
    private readonly config: () => SwitchboardConfig,
    private readonly log: Logger,
    private readonly changes: () => number | undefined = () => undefined,
  ) {}

  start(everyMs = 30000): void {
    // Stopped is final: the store's warm-up can finish after the runtime began to close.
    if (this.stopped) return;
    void this.refresh();
    this.timer = setInterval(() => {
      const now = this.changes();
      if (now === undefined || now !== this.seen) void this.refresh();
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    // Stopped while the runtime closes: the store's last journal import would wake a refresh on a
    // store about to close, and report its failure as a warning on every shutdown.
    if (this.stopped) return;
    try {
      const seen = this.changes();
      const db = await this.db();
      const since = new Date(Date.now() - this.config().learning.windowDays * 86400_000).toISOString();
      const agg: Aggregates = { chosen: new Map(), calls: new Map(), ratings: new Map(), outcomes: new Map() };
      const add = (tenant: string, user: string, model: string, n: number) => {
        for (const u of new Set([user, ""])) {
          const m = deep(deep(agg.chosen, tenant, () => new Map()), u, () => new Map<string, number>());
          m.set(model, (m.get(model) ?? 0) + n);
        }
      };
      for (const r of await db.query<Record<string, unknown>>("SELECT tenant, coalesce(user_id, '') AS u, model, count(*) AS n FROM sb_calls WHERE at >= $1 AND overridden AND model IS NOT NULL GROUP BY tenant, u, model", [since])) {
        add(String(r.tenant), String(r.u), String(r.model), Number(r.n));
      }
      for (const r of await db.query<Record<string, unknown>>("SELECT tenant, coalesce(user_id, '') AS u, preferred_model AS model, count(*) AS n FROM sb_feedback WHERE at >= $1 AND preferred_model IS NOT NULL GROUP BY tenant, u, model", [since])) {
        add(String(r.tenant), String(r.u), String(r.model), Number(r.n));
      }
      for (const r of await db.query<Record<string, unknown>>("SELECT tenant, coalesce(user_id, '') AS u, count(*) AS n FROM sb_calls WHERE at >= $1 AND tool = 'run_llm' GROUP BY tenant, u", [since])) {
        const t = deep(agg.calls, String(r.tenant), () => new Map<string, number>());
        t.set(String(r.u), Number(r.n));
        t.set("", (t.get("") ?? 0) + Number(r.n));
      }
      for (const r of await db.query<Record<string, unknown>>(
        "SELECT f.tenant, c.model, sum(f.rating) AS s, count(*) AS n FROM sb_feedback f JOIN sb_calls c ON c.request_id = f.request_id AND c.tenant = f.tenant WHERE f.at >= $1 AND f.rating IS NOT NULL AND c.model IS NOT NULL GROUP BY f.tenant, c.model",
        [since],
      )) {
        deep(agg.ratings, String(r.tenant), () => new Map()).set(String(r.model), { sum: Number(r.s), n: Number(r.n) });
      }
      for (const r of await db.query<Record<string, unknown>>(
        "SELECT model, task_type, count(*) AS n, sum(CASE WHEN outcome = 'ok' THEN 1 ELSE 0 END) AS ok FROM sb_calls WHERE at >= $1 AND tool = 'run_llm' AND model IS NOT NULL AND task_type IS NOT NULL GROUP BY model, task_type",
        [since],
      )) {
        agg.outcomes.set(`${r.model}|${r.task_type}`, { calls: Number(r.n), ok: Number(r.ok) });
      }
      this.agg = agg;
      this.lastRefresh = Date.now();
      this.seen = seen;
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ err: (err as Error).message }, "learning refresh failed; keeping the last figures");
    }
  }

  /** Models whose success rate on a task is under the floor. */
  demoted(): Array<{ model: string; taskType: string; successRate: number; calls: number }> {
    const l = this.config().learning;
    return [...this.agg.outcomes.entries()]
      .filter(([, o]) => o.calls >= l.minCalls && o.ok / o.calls < l.successFloor)
      .map(([k, o]) => {
        const [model, taskType] = k.split("|") as [string, string];
        return { model, taskType, successRate: Math.round((o.ok / o.calls) * 1000) / 1000, calls: o.calls };
      });
  }

  adjust(q: { tenant: string; user?: string; taskType: string; candidates: string[] }): ScoreAdjustment[] {
    const l = this.config().learning;
    const out: ScoreAdjustment[] = [];
    const candidates = new Set(q.candidates);
    const chosenBy = (user: string) => this.agg.chosen.get(q.tenant)?.get(user);
    const callsBy = (user: string) => this.agg.calls.get(q.tenant)?.get(user) ?? 0;
    for (const [who, user] of q.user ? ([["you", q.user], ["your team", ""]] as const) : ([["your team", ""]] as const)) {
      for (const [model, n] of chosenBy(user) ?? []) {
        if (!candidates.has(model) || n < l.minChoices) continue;
        if (n / Math.max(1, callsBy(user) + n) < l.choiceShare) continue;
        out.push({ model, delta: who === "you" ? l.userBoost : l.tenantBoost, reason: `learned: ${who} chose ${model} ${n} times` });
      }
      if (who === "you" && out.length) break;
    }
    for (const [model, r] of this.agg.ratings.get(q.tenant) ?? []) {
      if (!candidates.has(model) || r.n < l.minRatings) continue;
      const mean = r.sum / r.n;
      if (mean >= 4) out.push({ model, delta: l.ratingBoost, reason: `learned: ${model} is rated ${mean.toFixed(1)}/5` });
      else if (mean <= 2) out.push({ model, delta: -l.ratingBoost * 2, reason: `learned: ${model} is rated ${mean.toFixed(1)}/5` });
    }
    for (const d of this.demoted()) {
      if (d.taskType === q.taskType && candidates.has(d.model)) {
        out.push({ model: d.model, delta: -l.demotion, reason: `learned: ${d.model} demoted, ${Math.round(d.successRate * 100)}% success on ${d.taskType} over ${d.calls} calls` });
      }
    }
    return out;
  }
}
