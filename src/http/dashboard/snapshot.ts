import type { BreakerStatus } from "../../resilience/breakers.js";
import type { CallRecord } from "../../store/telemetry.js";

/** Windows the page offers; the API accepts any whole number of minutes up to a day. */
export const WINDOW_CHOICES = [15, 60, 360, 1440] as const;
export const MAX_WINDOW_MINUTES = 1440;
export const RECENT_LIMIT = 50;
/** Categories drawn per chart; the rest fold into "other" so a chart stays readable. */
export const TOP_N = 10;

/** Bucket widths (seconds) that read well on a time axis; the smallest giving at most MAX_BUCKETS wins. */
const BUCKET_STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const MAX_BUCKETS = 90;

export interface SnapshotOptions {
  now: Date | number;
  windowMinutes: number;
  /** Only this tenant's calls; undefined = all tenants. */
  tenant?: string | undefined;
  breakers: BreakerStatus[];
  /**
   * List the tenants seen in the window (for an admin's tenant filter). Off by default: a
   * tenant-scoped viewer must not learn other tenants' names.
   */
  tenantChoices?: boolean;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface GroupCount {
  key: string;
  calls: number;
  errors: number;
  spendUsd: number;
}

export interface SpendBucket {
  /** Bucket start, ISO 8601. */
  t: string;
  calls: number;
  errors: number;
  spendUsd: number;
}

export interface RecentDecision {
  requestId: string;
  at: string;
  tenant: string;
  tool: string;
  mode: string | null;
  taskType: string | null;
  tier: string | null;
  model: string | null;
  provider: string | null;
  attempts: number;
  fallbacks: number;
  latencyMs: number;
  costUsd: number;
  outcome: string;
  reason: string | null;
}

export interface DashboardSnapshot {
  generatedAt: string;
  window: { minutes: number; from: string; to: string; bucketSeconds: number };
  /** The tenant filter in force, or null for all tenants. */
  tenant: string | null;
  /** Tenants with calls in the window (only when tenantChoices was asked for), busiest first. */
  tenants: Array<{ tenant: string; calls: number }>;
  totals: {
    calls: number;
    errors: number;
    errorRate: number;
    spendUsd: number;
    inputTokens: number;
    outputTokens: number;
    fallbacks: number;
    callsWithFallback: number;
    openBreakers: number;
    latency: Percentiles;
  };
  series: SpendBucket[];
  byMode: GroupCount[];
  byModel: GroupCount[];
  byProvider: GroupCount[];
  byTool: GroupCount[];
  latency: { overall: Percentiles; byTool: Array<Percentiles & { tool: string }> };
  errors: Array<{ code: string; count: number }>;
  fallbacks: { total: number; calls: number; rate: number; byModel: Array<{ model: string; calls: number; fallbacks: number }> };
  /** Open, isolated and half-open breakers first. */
  breakers: Array<BreakerStatus & { alert: boolean }>;
  /** Newest first. */
  recent: RecentDecision[];
}

const NONE = "(none)";
const OTHER = "(other)";

/** Nearest-rank percentile of an ascending array; 0 for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
  };
}

/** The bucket width for a window: about a minute per bucket for an hour, half an hour for a day. */
export function bucketSecondsFor(windowMinutes: number): number {
  const span = windowMinutes * 60;
  return BUCKET_STEPS.find((s) => span / s <= MAX_BUCKETS) ?? BUCKET_STEPS[BUCKET_STEPS.length - 1]!;
}

const isError = (r: CallRecord) => r.outcome !== "ok";
const money = (v: number) => Math.round(v * 1e8) / 1e8;
const finite = (v: number) => (Number.isFinite(v) ? v : 0);

function groupBy(records: readonly CallRecord[], key: (r: CallRecord) => string | undefined): GroupCount[] {
  const groups = new Map<string, GroupCount>();
  for (const r of records) {
    const k = key(r) || NONE;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key: k, calls: 0, errors: 0, spendUsd: 0 }));
    g.calls++;
    if (isError(r)) g.errors++;
    g.spendUsd += finite(r.costUsd);
  }
  const sorted = [...groups.values()].sort((a, b) => b.calls - a.calls || b.spendUsd - a.spendUsd || a.key.localeCompare(b.key));
  const top = sorted.slice(0, TOP_N);
  const rest = sorted.slice(TOP_N);
  if (rest.length) {
    top.push(rest.reduce((o, g) => ({ ...o, calls: o.calls + g.calls, errors: o.errors + g.errors, spendUsd: o.spendUsd + g.spendUsd }), { key: OTHER, calls: 0, errors: 0, spendUsd: 0 }));
  }
  return top.map((g) => ({ ...g, spendUsd: money(g.spendUsd) }));
}

/**
 * What the dashboard draws, from the call records in memory: pure, so the maths is testable
 * without a server. Records may come in any order; those outside the window (or of another
 * tenant, when filtered) are ignored.
 */
export function dashboardSnapshot(records: readonly CallRecord[], opts: SnapshotOptions): DashboardSnapshot {
  const now = typeof opts.now === "number" ? opts.now : opts.now.getTime();
  const minutes = Math.min(MAX_WINDOW_MINUTES, Math.max(1, Math.round(finite(opts.windowMinutes) || 60)));
  const from = now - minutes * 60_000;
  const bucketSeconds = bucketSecondsFor(minutes);
  const bucketMs = bucketSeconds * 1000;

  const inWindow: Array<{ r: CallRecord; t: number; i: number }> = [];
  records.forEach((r, i) => {
    const t = r.at instanceof Date ? r.at.getTime() : new Date(r.at as unknown as string).getTime();
    if (Number.isFinite(t) && t > from && t <= now) inWindow.push({ r, t, i });
  });

  const tenantCounts = new Map<string, number>();
  if (opts.tenantChoices) for (const { r } of inWindow) tenantCounts.set(r.tenant, (tenantCounts.get(r.tenant) ?? 0) + 1);
  const tenants = opts.tenantChoices
    ? [...tenantCounts.entries()].map(([tenant, calls]) => ({ tenant, calls })).sort((a, b) => b.calls - a.calls || a.tenant.localeCompare(b.tenant))
    : opts.tenant !== undefined
      ? [{ tenant: opts.tenant, calls: 0 }]
      : [];

  const picked = opts.tenant === undefined ? inWindow : inWindow.filter(({ r }) => r.tenant === opts.tenant);
  if (!opts.tenantChoices && opts.tenant !== undefined) tenants[0]!.calls = picked.length;
  const calls = picked.map((p) => p.r);

  // Spend and calls over time, in aligned buckets; the last one holds `now`.
  const firstBucket = Math.floor(from / bucketMs) * bucketMs;
  const lastBucket = Math.floor(now / bucketMs) * bucketMs;
  const series: SpendBucket[] = [];
  for (let t = firstBucket; t <= lastBucket; t += bucketMs) series.push({ t: new Date(t).toISOString(), calls: 0, errors: 0, spendUsd: 0 });
  for (const { r, t } of picked) {
    const b = series[Math.floor((t - firstBucket) / bucketMs)];
    if (!b) continue;
    b.calls++;
    if (isError(r)) b.errors++;
    b.spendUsd += finite(r.costUsd);
  }
  for (const b of series) b.spendUsd = money(b.spendUsd);

  // Latency, overall and per tool.
  const overall = percentiles(calls.map((r) => finite(r.latencyMs)));
  const perTool = new Map<string, number[]>();
  for (const r of calls) {
    let l = perTool.get(r.tool);
    if (!l) perTool.set(r.tool, (l = []));
    l.push(finite(r.latencyMs));
  }
  const latencyByTool = [...perTool.entries()].map(([tool, v]) => ({ tool, ...percentiles(v) })).sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));

  // Errors by code.
  const codes = new Map<string, number>();
  for (const r of calls) if (isError(r)) codes.set(r.outcome, (codes.get(r.outcome) ?? 0) + 1);
  const errors = [...codes.entries()].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));

  // Fallbacks: how often the first choice did not answer, and which models ended up answering.
  const fbModels = new Map<string, { model: string; calls: number; fallbacks: number }>();
  let fallbackTotal = 0;
  let fallbackCalls = 0;
  for (const r of calls) {
    if (r.fallbacks <= 0) continue;
    fallbackTotal += r.fallbacks;
    fallbackCalls++;
    const m = r.model || NONE;
    const e = fbModels.get(m) ?? { model: m, calls: 0, fallbacks: 0 };
    e.calls++;
    e.fallbacks += r.fallbacks;
    fbModels.set(m, e);
  }

  const alertStates = new Set(["open", "isolated", "half_open"]);
  const order = { open: 0, isolated: 1, half_open: 2, closed: 3 } as const;
  const breakers = opts.breakers
    .map((b) => ({ id: b.id, state: b.state, openings: b.openings, alert: alertStates.has(b.state) }))
    .sort((a, b) => order[a.state] - order[b.state] || b.openings - a.openings || a.id.localeCompare(b.id));
  const openBreakers = breakers.filter((b) => b.state === "open" || b.state === "isolated").length;

  const recent = [...picked]
    .sort((a, b) => b.t - a.t || b.i - a.i)
    .slice(0, RECENT_LIMIT)
    .map(({ r, t }): RecentDecision => ({
      requestId: r.requestId,
      at: new Date(t).toISOString(),
      tenant: r.tenant,
      tool: r.tool,
      mode: r.mode ?? null,
      taskType: r.taskType ?? null,
      tier: r.tier ?? null,
      model: r.model ?? null,
      provider: r.provider ?? null,
      attempts: r.attempts,
      fallbacks: r.fallbacks,
      latencyMs: Math.round(finite(r.latencyMs) * 10) / 10,
      costUsd: money(finite(r.costUsd)),
      outcome: r.outcome,
      reason: r.reason ?? null,
    }));

  const errorCount = calls.filter(isError).length;
  return {
    generatedAt: new Date(now).toISOString(),
    window: { minutes, from: new Date(from).toISOString(), to: new Date(now).toISOString(), bucketSeconds },
    tenant: opts.tenant ?? null,
    tenants,
    totals: {
      calls: calls.length,
      errors: errorCount,
      errorRate: calls.length ? errorCount / calls.length : 0,
      spendUsd: money(calls.reduce((s, r) => s + finite(r.costUsd), 0)),
      inputTokens: calls.reduce((s, r) => s + finite(r.inputTokens), 0),
      outputTokens: calls.reduce((s, r) => s + finite(r.outputTokens), 0),
      fallbacks: fallbackTotal,
      callsWithFallback: fallbackCalls,
      openBreakers,
      latency: overall,
    },
    series,
    byMode: groupBy(calls, (r) => r.mode),
    byModel: groupBy(calls, (r) => r.model),
    byProvider: groupBy(calls, (r) => r.provider),
    byTool: groupBy(calls, (r) => r.tool),
    latency: { overall, byTool: latencyByTool },
    errors,
    fallbacks: {
      total: fallbackTotal,
      calls: fallbackCalls,
      rate: calls.length ? fallbackCalls / calls.length : 0,
      byModel: [...fbModels.values()].sort((a, b) => b.calls - a.calls || a.model.localeCompare(b.model)).slice(0, TOP_N),
    },
    breakers,
    recent,
  };
}
