import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ERROR_CODES } from "../errors.js";
import type { BreakerStatus } from "../resilience/breakers.js";
import type { Runtime } from "../runtime.js";
import type { CallRecord } from "../store/telemetry.js";
import { DECISION_TIERS } from "../routing/decision-schema.js";

export interface MetricsOptions {
  /** Live session counts from the HTTP server, read at scrape time. */
  sessions?: () => { streamable: number; sse: number };
}

export interface Metrics {
  registry: Registry;
  /** Prometheus text exposition (registry.metrics()). */
  render(): Promise<string>;
  contentType: string;
  /** Stops listening to runtime calls and clears collectors. */
  close(): void;
}

const PREFIX = "switchboard_";

/** From a route_task (~1 ms) to a long LLM or media call (minutes). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

const BREAKER_STATE: Record<BreakerStatus["state"], number> = { closed: 0, half_open: 1, open: 2, isolated: 3 };

const KNOWN_CODES = new Set<string>(ERROR_CODES);
const TIERS = new Set<string>(DECISION_TIERS);

/**
 * Prometheus metrics for one runtime, on a registry of their own (never the global default), so
 * several servers in one process do not clash over metric names.
 */
export function createMetrics(runtime: Runtime, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // Which process of a fleet each series comes from (host:pid:id), beside Prometheus's own target labels.
  registry.setDefaultLabels({ switchboard_instance: runtime.instance });
  const registers = [registry];

  // Every label value below is bounded by the config, not by what callers send: tenant, mode and
  // model come from tool arguments, and a label per junk value would grow the series without
  // limit (each series is kept in memory here and in Prometheus forever). Anything outside the
  // config collapses to "unknown"; a missing value is "none". Read at record time, so a config
  // reload that adds a tenant or model shows up at once.
  const cfg = () => runtime.config;
  const bounded = (value: string | undefined, known: (v: string) => boolean) =>
    value === undefined || value === "" ? "none" : known(value) ? value : "unknown";
  const has = (rec: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(rec, key);
  const tenantLabel = (t: string) => (has(cfg().tenants, t) ? t : "unknown");
  const modeLabel = (m: string | undefined) => bounded(m, (v) => has(cfg().modes, v));
  const modelLabel = (m: string | undefined) => bounded(m, (v) => has(cfg().models, v) || has(cfg().services, v));
  const providerLabel = (p: string | undefined) => bounded(p, (v) => has(cfg().providers, v));
  // Outcomes are "ok" or a code from the shared error taxonomy; anything else is a bug, counted as "other".
  const outcomeLabel = (o: string) => (o === "ok" || KNOWN_CODES.has(o) ? o : "other");

  const calls = new Counter({
    name: `${PREFIX}tool_calls_total`,
    help: "Finished MCP tool calls by tool, resolved mode and outcome (ok or an error code).",
    labelNames: ["tool", "mode", "outcome"] as const,
    registers,
  });
  const errors = new Counter({
    name: `${PREFIX}tool_errors_total`,
    help: "MCP tool calls that ended in an error, by error code.",
    labelNames: ["tool", "code"] as const,
    registers,
  });
  const latency = new Histogram({
    name: `${PREFIX}tool_latency_seconds`,
    help: "Wall time of MCP tool calls, from validated arguments to result.",
    labelNames: ["tool", "mode"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const spend = new Counter({
    name: `${PREFIX}spend_usd_total`,
    help: "Provider spend in US dollars, by tenant, provider and model.",
    labelNames: ["tenant", "provider", "model"] as const,
    registers,
  });
  const tokens = new Counter({
    name: `${PREFIX}tokens_total`,
    help: "Tokens sent to and received from providers, by direction, provider and model.",
    labelNames: ["direction", "provider", "model"] as const,
    registers,
  });
  const decisions = new Counter({
    name: `${PREFIX}decisions_total`,
    help: "Routing decisions by tool and the tier that decided; tier default means the classifier was unsure (its share drifting up is the drift signal).",
    labelNames: ["tool", "tier"] as const,
    registers,
  });
  const overrides = new Counter({
    name: `${PREFIX}overrides_total`,
    help: "Calls whose caller named the model instead of taking the router's choice.",
    labelNames: ["tool"] as const,
    registers,
  });
  // Brought up to date at each scrape from the runtime's own counts.
  const seenFailures = { telemetry: 0, budget: 0 };
  const writeFailures: Counter<"kind"> = new Counter({
    name: `${PREFIX}store_write_failures_total`,
    help: "Records the store failed to write: telemetry rows dropped, budget settles left to the journal.",
    labelNames: ["kind"] as const,
    registers,
    collect() {
      const now = runtime.storeWriteFailures();
      for (const kind of ["telemetry", "budget"] as const) {
        if (now[kind] > seenFailures[kind]) writeFailures.inc({ kind }, now[kind] - seenFailures[kind]);
        seenFailures[kind] = Math.max(seenFailures[kind], now[kind]);
      }
    },
  });
  // Zero from the start, so an alert on its increase has a series to read before the first failure.
  for (const kind of ["telemetry", "budget"] as const) writeFailures.inc({ kind }, 0);
  new Gauge({
    name: `${PREFIX}budget_limit_usd`,
    help: "Spending ceilings in force, by scope (tenant:<name> or global) and period (daily, monthly): the denominator of the burn-rate alert.",
    labelNames: ["scope", "period"] as const,
    registers,
    collect() {
      this.reset();
      const c = cfg();
      for (const [name, t] of Object.entries(c.tenants)) {
        if (t.budget?.dailyUsd !== undefined) this.set({ scope: `tenant:${name}`, period: "daily" }, t.budget.dailyUsd);
        if (t.budget?.monthlyUsd !== undefined) this.set({ scope: `tenant:${name}`, period: "monthly" }, t.budget.monthlyUsd);
      }
      if (c.budgets.global.dailyUsd !== undefined) this.set({ scope: "global", period: "daily" }, c.budgets.global.dailyUsd);
      if (c.budgets.global.monthlyUsd !== undefined) this.set({ scope: "global", period: "monthly" }, c.budgets.global.monthlyUsd);
    },
  });
  const fallbacks = new Counter({
    name: `${PREFIX}fallbacks_total`,
    help: "Fallbacks to another model within a tool call.",
    labelNames: ["tool", "mode"] as const,
    registers,
  });

  new Gauge({
    name: `${PREFIX}breaker_state`,
    help: "Circuit breaker state per provider:model: 0 closed, 1 half_open, 2 open, 3 isolated.",
    labelNames: ["breaker"] as const,
    registers,
    collect() {
      this.reset();
      for (const b of runtime.breakers.status()) this.set({ breaker: b.id }, BREAKER_STATE[b.state]);
    },
  });
  new Gauge({
    name: `${PREFIX}breaker_openings`,
    help: "Times each circuit breaker has opened since the server started.",
    labelNames: ["breaker"] as const,
    registers,
    collect() {
      this.reset();
      for (const b of runtime.breakers.status()) this.set({ breaker: b.id }, b.openings);
    },
  });
  const sessions = opts.sessions;
  if (sessions) {
    new Gauge({
      name: `${PREFIX}http_sessions`,
      help: "Open MCP sessions on the HTTP server, by transport.",
      labelNames: ["transport"] as const,
      registers,
      collect() {
        const s = sessions();
        this.set({ transport: "streamable" }, s.streamable);
        this.set({ transport: "sse" }, s.sse);
      },
    });
  }
  new Gauge({
    name: `${PREFIX}config_info`,
    help: "The configuration version in force (always 1; the version is the label).",
    labelNames: ["version"] as const,
    registers,
    collect() {
      this.reset();
      this.set({ version: runtime.configVersion }, 1);
    },
  });
  collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const onCall = (r: CallRecord) => {
    const tool = r.tool;
    const mode = modeLabel(r.mode);
    calls.inc({ tool, mode, outcome: outcomeLabel(r.outcome) });
    if (r.outcome !== "ok") errors.inc({ tool, code: outcomeLabel(r.outcome) });
    if (Number.isFinite(r.latencyMs) && r.latencyMs >= 0) latency.observe({ tool, mode }, r.latencyMs / 1000);
    if (r.fallbacks > 0) fallbacks.inc({ tool, mode }, r.fallbacks);
    if (r.tier) decisions.inc({ tool, tier: TIERS.has(r.tier) ? r.tier : "other" });
    if (r.overridden) overrides.inc({ tool });
    const provider = providerLabel(r.provider);
    const model = modelLabel(r.model);
    if (r.costUsd > 0 && Number.isFinite(r.costUsd)) spend.inc({ tenant: tenantLabel(r.tenant), provider, model }, r.costUsd);
    // Only calls that reached a provider: route_task records the decision's token *estimate*
    // (with no attempts), which was never sent anywhere.
    if (r.attempts > 0) {
      if (r.inputTokens > 0) tokens.inc({ direction: "input", provider, model }, r.inputTokens);
      if (r.outputTokens > 0) tokens.inc({ direction: "output", provider, model }, r.outputTokens);
    }
  };
  let unsubscribe: (() => void) | undefined = runtime.onCall(onCall);

  return {
    registry,
    render: () => registry.metrics(),
    contentType: registry.contentType,
    close() {
      unsubscribe?.();
      unsubscribe = undefined;
      registry.clear();
    },
  };
}
