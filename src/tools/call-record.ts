import { randomUUID } from "node:crypto";
import type { Runtime } from "../runtime.js";
import type { CallRecord } from "../store/telemetry.js";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/**
 * The telemetry record of one tool call, read from its arguments and its result (every tool's
 * result carries the same decision/attempts/usage/cost fields, route_task's at the top level).
 */
export function callRecord(tool: string, args: Obj, out: unknown, outcome: string, latencyMs: number, runtime: Runtime): CallRecord {
  const o = obj(out);
  const d = Object.keys(obj(o.decision)).length ? obj(o.decision) : o;
  const attempts = Array.isArray(o.attempts) ? (o.attempts as Obj[]) : [];
  const usage = obj(o.usage);
  const experiment = obj(d.experiment);
  const models = new Set(attempts.filter((a) => a.outcome !== "skipped").map((a) => a.model));
  return {
    requestId: str(d.requestId) ?? str(args.requestId) ?? randomUUID(),
    at: new Date(),
    tenant: str(args.tenant) ?? str(d.tenant) ?? runtime.config.router.defaultTenant,
    ...(str(args.user) ? { user: str(args.user)! } : {}),
    tool,
    ...(str(d.mode) ? { mode: str(d.mode)! } : {}),
    ...(str(d.taskType) ? { taskType: str(d.taskType)! } : {}),
    ...(str(d.tier) ? { tier: str(d.tier)! } : {}),
    ...(typeof d.confidence === "number" ? { confidence: d.confidence } : {}),
    ...(str(o.model) ? { model: str(o.model)! } : {}),
    ...(str(o.provider) ? { provider: str(o.provider)! } : {}),
    attempts: attempts.length,
    fallbacks: Math.max(0, models.size - 1),
    latencyMs,
    // A failed call's input is estimated; a decision alone (route_task) sent no tokens anywhere.
    inputTokens: num(usage.inputTokens) || (attempts.length ? num(obj(d.estimate).inputTokens) : 0),
    outputTokens: num(usage.outputTokens),
    costUsd: num(o.costUsd),
    tools: Array.isArray(d.tools) ? (d.tools as string[]) : [],
    mcpTools: Array.isArray(d.mcpTools) ? (d.mcpTools as string[]) : [],
    outcome,
    ...(str(experiment.name) ? { experiment: str(experiment.name)!, arm: str(experiment.arm)! } : {}),
    overridden: typeof args.model === "string",
    ...(str(d.reason) ? { reason: str(d.reason)! } : {}),
    ...(runtime.config.store.recordPrompts && str(args.prompt) ? { prompt: str(args.prompt)! } : {}),
  };
}
