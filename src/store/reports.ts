import type { Db } from "./db.js";

export interface UsageReport {
  tenant: string | null;
  since: string;
  calls: number;
  spendUsd: number;
  successRate: number;
  fallbackRate: number;
  overrideRate: number;
  latencyMs: { p50: number; p95: number };
  byModel: Array<{ model: string; calls: number; spendUsd: number; successRate: number; p50Ms: number }>;
  byMode: Array<{ mode: string; calls: number; spendUsd: number }>;
  byDay: Array<{ day: string; calls: number; spendUsd: number }>;
  byTool: Array<{ tool: string; calls: number; errors: number }>;
  errors: Array<{ code: string; calls: number }>;
  confidence: Array<{ band: string; calls: number }>;
  experiments: Array<{ experiment: string; arm: string; calls: number; spendUsd: number; p50Ms: number; successRate: number; rating: number | null }>;
  feedback: { ratings: number; meanRating: number | null };
}

const n = (v: unknown) => Number(v ?? 0);
const r = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

/** Usage figures from telemetry; `tenant` null means every tenant (operators only). */
export async function usageReport(db: Db, opts: { tenant: string | null; days: number }): Promise<UsageReport> {
  const since = new Date(Date.now() - opts.days * 86400_000).toISOString();
  const whereOf = (t = "") => `${t}at >= $1 ${opts.tenant ? `AND ${t}tenant = $2` : ""}`;
  const where = whereOf();
  const p = opts.tenant ? [since, opts.tenant] : [since];
  const one = async <T>(sql: string) => (await db.query<T>(sql, p))[0]!;
  const all = async <T>(sql: string) => db.query<T>(sql, p);

  const tot = await one<Record<string, unknown>>(`SELECT count(*) AS calls, coalesce(sum(cost_usd), 0) AS spend,
      avg(CASE WHEN outcome = 'ok' THEN 1.0 ELSE 0 END) AS ok, avg(CASE WHEN fallbacks > 0 THEN 1.0 ELSE 0 END) AS fb,
      avg(CASE WHEN overridden THEN 1.0 ELSE 0 END) AS ovr,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
    FROM sb_calls WHERE ${where}`);
  const byModel = await all<Record<string, unknown>>(`SELECT model, count(*) AS calls, coalesce(sum(cost_usd), 0) AS spend,
      avg(CASE WHEN outcome = 'ok' THEN 1.0 ELSE 0 END) AS ok, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50
    FROM sb_calls WHERE ${where} AND model IS NOT NULL GROUP BY model ORDER BY spend DESC, calls DESC`);
  const byMode = await all<Record<string, unknown>>(`SELECT mode, count(*) AS calls, coalesce(sum(cost_usd), 0) AS spend FROM sb_calls WHERE ${where} AND mode IS NOT NULL GROUP BY mode ORDER BY calls DESC`);
  const byDay = await all<Record<string, unknown>>(`SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS calls, coalesce(sum(cost_usd), 0) AS spend FROM sb_calls WHERE ${where} GROUP BY day ORDER BY day`);
  const byTool = await all<Record<string, unknown>>(`SELECT tool, count(*) AS calls, sum(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS errors FROM sb_calls WHERE ${where} GROUP BY tool ORDER BY calls DESC`);
  const errors = await all<Record<string, unknown>>(`SELECT outcome AS code, count(*) AS calls FROM sb_calls WHERE ${where} AND outcome <> 'ok' GROUP BY outcome ORDER BY calls DESC`);
  const conf = await all<Record<string, unknown>>(`SELECT CASE WHEN confidence < 0.4 THEN '<0.4' WHEN confidence < 0.6 THEN '0.4-0.6' WHEN confidence < 0.8 THEN '0.6-0.8' ELSE '>=0.8' END AS band, count(*) AS calls
    FROM sb_calls WHERE ${where} AND confidence IS NOT NULL GROUP BY band ORDER BY band`);
  const exps = await all<Record<string, unknown>>(`SELECT c.experiment, c.arm, count(*) AS calls, coalesce(sum(c.cost_usd), 0) AS spend,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY c.latency_ms) AS p50, avg(CASE WHEN c.outcome = 'ok' THEN 1.0 ELSE 0 END) AS ok, avg(f.rating) AS rating
    FROM sb_calls c LEFT JOIN sb_feedback f ON f.request_id = c.request_id AND f.tenant = c.tenant
    WHERE ${whereOf("c.")} AND c.experiment IS NOT NULL GROUP BY c.experiment, c.arm ORDER BY c.experiment, c.arm`);
  const fb = await one<Record<string, unknown>>(`SELECT count(rating) AS n, avg(rating) AS mean FROM sb_feedback WHERE ${where}`);

  return {
    tenant: opts.tenant,
    since,
    calls: n(tot.calls),
    spendUsd: r(n(tot.spend), 6),
    successRate: r(n(tot.ok)),
    fallbackRate: r(n(tot.fb)),
    overrideRate: r(n(tot.ovr)),
    latencyMs: { p50: Math.round(n(tot.p50)), p95: Math.round(n(tot.p95)) },
    byModel: byModel.map((x) => ({ model: String(x.model), calls: n(x.calls), spendUsd: r(n(x.spend), 6), successRate: r(n(x.ok)), p50Ms: Math.round(n(x.p50)) })),
    byMode: byMode.map((x) => ({ mode: String(x.mode), calls: n(x.calls), spendUsd: r(n(x.spend), 6) })),
    byDay: byDay.map((x) => ({ day: String(x.day), calls: n(x.calls), spendUsd: r(n(x.spend), 6) })),
    byTool: byTool.map((x) => ({ tool: String(x.tool), calls: n(x.calls), errors: n(x.errors) })),
    errors: errors.map((x) => ({ code: String(x.code), calls: n(x.calls) })),
    confidence: conf.map((x) => ({ band: String(x.band), calls: n(x.calls) })),
    experiments: exps.map((x) => ({ experiment: String(x.experiment), arm: String(x.arm), calls: n(x.calls), spendUsd: r(n(x.spend), 6), p50Ms: Math.round(n(x.p50)), successRate: r(n(x.ok)), rating: x.rating == null ? null : r(n(x.rating), 2) })),
    feedback: { ratings: n(fb.n), meanRating: fb.mean == null ? null : r(n(fb.mean), 2) },
  };
}
