import { randomUUID } from "node:crypto";
import type { SwitchboardConfig } from "../config/schema.js";
import type { Served } from "../jobs/served.js";
import type { CallRecord } from "../store/telemetry.js";
import type { Runtime } from "../runtime.js";

/** What a tool call has said about how it was served so far (nothing, a decision, or all of it). */
export type ServedSoFar = Partial<Served>;

interface CallArgs {
  tenant?: unknown;
  user?: unknown;
  requestId?: unknown;
  model?: unknown;
  prompt?: unknown;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * The string itself, stored flat. V8 keeps a string built by concatenation as a tree of its pieces
 * (a decision's reason; a randomUUID(), some twenty pieces), several times the size of its
 * characters: as built, a record took ~1.4 KB, flat ~0.6 KB. Records live long (the dashboard keeps
 * 20,000, the PostgreSQL writer buffers a batch), so theirs are flattened in place; converting a
 * string to a number is what makes V8 do that.
 */
function flat<T extends string | undefined>(s: T): T {
  if (s !== undefined) Number(s);
  return s;
}

/** A caller's id or name as the tools' schemas take them (at most 200 characters), else undefined. */
const short = (s: string | undefined): string | undefined => (s !== undefined && s.length <= 200 ? s : undefined);

/**
 * The telemetry record of one tool call: its arguments, the served block the tool handed over,
 * the outcome ("ok" or an error code) and the latency.
 */
export function callRecord(tool: string, args: CallArgs, served: ServedSoFar, outcome: string, latencyMs: number, cfg: SwitchboardConfig): CallRecord {
  const d = served.decision;
  const attempts = served.attempts ?? [];
  const models = new Set(attempts.filter((a) => a.outcome !== "skipped").map((a) => a.model));
  // A refused call's arguments are as the caller sent them: an id or a user past the schema's 200
  // characters, or a tenant the config does not name, is not kept (an indexed column refuses a long
  // value, and its whole row would be lost; an unknown tenant is nobody's).
  const user = short(str(args.user));
  const prompt = cfg.store.recordPrompts ? str(args.prompt) : undefined;
  const tenant = str(args.tenant);
  return {
    requestId: flat(d?.requestId ?? short(str(args.requestId)) ?? randomUUID()),
    at: new Date(),
    tenant: (tenant !== undefined && Object.hasOwn(cfg.tenants, tenant) ? tenant : undefined) ?? d?.tenant ?? cfg.router.defaultTenant,
    ...(user ? { user } : {}),
    tool,
    ...(d ? { mode: d.mode, taskType: d.taskType, tier: d.tier, confidence: d.confidence } : {}),
    ...(served.model ? { model: served.model } : {}),
    ...(served.provider ? { provider: served.provider } : {}),
    attempts: attempts.length,
    fallbacks: Math.max(0, models.size - 1),
    latencyMs,
    // A failed call's input is estimated from its decision; a decision alone (route_task) sent no tokens anywhere.
    inputTokens: served.usage?.inputTokens || (outcome !== "ok" && attempts.length && d ? d.estimate.inputTokens : 0),
    outputTokens: served.usage?.outputTokens ?? 0,
    costUsd: served.costUsd ?? 0,
    tools: d?.tools ?? [],
    mcpTools: served.mcpToolsUsed ?? d?.mcpTools ?? [],
    outcome,
    ...(d?.experiment ? { experiment: d.experiment.name, arm: d.experiment.arm } : {}),
    overridden: typeof args.model === "string",
    ...(d ? { reason: flat(d.reason) } : {}),
    ...(prompt ? { prompt } : {}),
  };
}

/**
 * Records a finished call (an MCP tool, a /v1 request, a gateway call) for telemetry, metrics and
 * the dashboard, when anything listens; `t0` is when it started (performance.now()).
 */
export function recordCall(runtime: Pick<Runtime, "observed" | "recordCall" | "config">, tool: string, args: CallArgs, served: ServedSoFar, outcome: string, t0: number): void {
  if (runtime.observed) runtime.recordCall(callRecord(tool, args, served, outcome, performance.now() - t0, runtime.config));
}
