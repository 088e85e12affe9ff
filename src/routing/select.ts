import { type Complexity, type CostTier, type LatencyClass, type ModelEntry, type ModeEntry, type SwitchboardConfig, type TaskType, type TenantEntry } from "../config/schema.js";
import { callCost, providerOf, taskCapability, tenantAllows, tierRank } from "../config/catalog.js";
import type { ScoreAdjustment } from "./types.js";

export interface Weights {
  intelligence: number;
  cost: number;
  speed: number;
}

export interface SelectionInput {
  cfg: SwitchboardConfig;
  taskType: TaskType;
  complexity: Complexity;
  targetTier: CostTier;
  mode: ModeEntry;
  modeExplicit: boolean;
  /** The mode's cost ceiling in force (a quality-first caller may lift an inferred mode's). */
  maxCostTier: CostTier;
  /** The caller asked for the strongest model: inferred mode and task preferences stop counting. */
  capabilityFirst: boolean;
  /** Whether the caller named the mode / the task type (their preferences then still count). */
  callerMode: boolean;
  callerTask: boolean;
  tenantName: string;
  tenant: TenantEntry;
  inputTokens: number;
  outputTokens: number;
  needsTools: boolean;
  needsVision: boolean;
  needsJson?: boolean;
  /** PDFs go with the prompt (the compatible APIs' document blocks and file parts): only models that read them. */
  needsDocuments?: boolean;
  /** The request sends its provider's server tools (web search): models that run them first. */
  needsServerTools?: boolean;
  latency: LatencyClass;
  weights: Weights;
  /** MCP hint names, in the caller's order. */
  hints: string[];
  /** The latency class's cap on typical latency for the first two slots (interactive calls). */
  latencyCapMs: number | undefined;
  configured: Set<string>;
  adjustments: ScoreAdjustment[];
}

export interface Candidate {
  id: string;
  provider: string;
  model: ModelEntry;
  score: number;
  capability: number;
  costUsd: number;
  notes: string[];
}

export interface Dropped {
  id: string;
  provider: string;
  why: string;
  /** Dropped by a preference (latency, the mode's cost ceiling, server tools), which a model the caller names may pass. */
  preference?: true;
}

/** How the caller's hints fared: the first usable one wins the primary; the others before it say why not. */
export interface HintOutcome {
  winner?: { name: string; model: string };
  notUsed: string[];
}

/** Ranked candidates, best first, with how the hints fared. */
export type Ranked = Candidate[] & { hints?: HintOutcome };

export interface Selection {
  ranked: Ranked;
  dropped: Dropped[];
  /** Soft constraints that had to be relaxed for anything to remain. */
  relaxed: string[];
}

const TENANT_BLOCKS = "tenant policy does not allow this model";

/** A catalog entry with what every selection reads of it: its id split once. */
interface Entry {
  id: string;
  model: ModelEntry;
  provider: string;
}

/** `preference`: a filter of what suits the call best, not of what can serve it (see Dropped). */
type Filter = { name: string; hard: boolean; preference?: true; test: (e: Entry) => string | null };

/**
 * The catalog as selectModels reads it, worked out once per catalog object (a config reload makes a
 * new one) rather than on every decision: its entries with their providers, and each model's
 * capability for a task's weights, computed by taskCapability on first use.
 */
interface Catalog {
  entries: Entry[];
  capability: WeakMap<object, Map<string, number>>;
}

const catalogs = new WeakMap<Record<string, ModelEntry>, Catalog>();

function catalogOf(models: Record<string, ModelEntry>): Catalog {
  let c = catalogs.get(models);
  if (!c) {
    c = { entries: Object.entries(models).map(([id, model]) => ({ id, model, provider: providerOf(id) })), capability: new WeakMap() };
    catalogs.set(models, c);
  }
  return c;
}

/** taskCapability(model, weights), cached per catalog and weights object. */
function capabilityOf(catalog: Catalog, e: Entry, weights: Parameters<typeof taskCapability>[1]): number {
  let byModel = catalog.capability.get(weights);
  if (!byModel) catalog.capability.set(weights, (byModel = new Map()));
  let c = byModel.get(e.id);
  if (c === undefined) byModel.set(e.id, (c = taskCapability(e.model, weights)));
  return c;
}

/** Lower case, with runs of spaces, dots, dashes and slashes as one dash: "Claude Sonnet 4.5" ≈ "claude-sonnet-4-5". */
const norm = (s: string) => s.toLowerCase().replace(/[\s._\-/]+/g, "-");

/** Whether a model answers to an MCP hint: the hint is a substring of its id or display name. */
export function matchesHint(hint: string, id: string, m: ModelEntry): boolean {
  const h = norm(hint);
  return h.length > 0 && (norm(id).includes(h) || norm(m.displayName ?? "").includes(h));
}

function filters(s: SelectionInput, hinted: Set<string>, overCeiling: Set<string>): Filter[] {
  const t = s.tenant;
  const need = s.inputTokens + s.outputTokens;
  const anyConfigured = s.configured.size > 0;
  return [
    {
      name: "tenant policy",
      hard: true,
      test: ({ id }) => (tenantAllows(t, id) ? null : TENANT_BLOCKS),
    },
    {
      name: "context window",
      hard: true,
      test: ({ model: m }) =>
        m.contextWindow < need
          ? `context window ${m.contextWindow.toLocaleString("en")} < ${need.toLocaleString("en")} tokens needed`
          : m.maxOutput < s.outputTokens
            ? `max output ${m.maxOutput} < ${s.outputTokens} tokens needed`
            : null,
    },
    {
      // A keyless local server that isn't enabled is probably not running: never route to it.
      name: "local provider enabled",
      hard: true,
      test: ({ provider }) => {
        const p = s.cfg.providers[provider];
        return p && p.apiKeyEnv === null && !s.configured.has(provider) ? `local provider ${provider} is not enabled (set ${provider.toUpperCase()}_BASE_URL)` : null;
      },
    },
    { name: "tool support", hard: true, test: ({ model: m }) => (s.needsTools && !m.supports.tools ? "does not support tool calls" : null) },
    { name: "vision support", hard: true, test: ({ model: m }) => (s.needsVision && !m.supports.vision ? "does not accept images" : null) },
    { name: "JSON output", hard: true, test: ({ model: m }) => (s.needsJson && !m.supports.json ? "has no JSON output mode" : null) },
    { name: "document support", hard: true, test: ({ model: m }) => (s.needsDocuments && !m.supports.documents ? "does not read PDF documents" : null) },
    {
      name: "configured providers",
      hard: false,
      test: ({ provider }) => (anyConfigured && !s.configured.has(provider) ? `provider ${provider} has no credentials here` : null),
    },
    {
      // Soft: with no model here that runs them, another serves without them (and the caller is told).
      name: "server tools",
      hard: false,
      preference: true,
      test: ({ model: m }) => (s.needsServerTools && !m.supports.serverTools ? "does not run server tools (web search)" : null),
    },
    {
      name: "interactive latency",
      hard: false,
      preference: true,
      test: ({ model: m }) =>
        s.latency === "interactive" && t.maxInteractiveLatencyMs && m.latencyMs > t.maxInteractiveLatencyMs
          ? `typical latency ${m.latencyMs} ms > tenant's ${t.maxInteractiveLatencyMs} ms for interactive calls`
          : null,
    },
    {
      // A hinted model may pass the mode's ceiling: hints outrank the mode (see resolveHints).
      name: "mode cost ceiling",
      hard: false,
      preference: true,
      test: ({ id, model: m }) => {
        if (tierRank(m.tier) <= tierRank(s.maxCostTier)) return null;
        if (hinted.has(id)) {
          overCeiling.add(id);
          return null;
        }
        return `${m.tier} model; this mode allows up to ${s.maxCostTier}`;
      },
    },
  ];
}

/**
 * Drops what cannot serve, then scores what can: task capability against the level the
 * complexity needs, price and speed weighted by the caller's priorities, plus preferences
 * (mode chain, task, tenant, hints, learned adjustments).
 */
export function selectModels(s: SelectionInput): Selection {
  const dropped: Dropped[] = [];
  const relaxed: string[] = [];
  const catalog = catalogOf(s.cfg.models);
  let pool = catalog.entries;
  const hinted = new Set(s.hints.length ? pool.filter((e) => s.hints.some((h) => matchesHint(h, e.id, e.model))).map((e) => e.id) : []);
  const overCeiling = new Set<string>();

  for (const f of filters(s, hinted, overCeiling)) {
    const keep: Entry[] = [];
    const out: Dropped[] = [];
    for (const e of pool) {
      const why = f.test(e);
      if (why) out.push({ id: e.id, provider: e.provider, why, ...(f.preference ? { preference: true as const } : {}) });
      else keep.push(e);
    }
    if (keep.length === 0 && !f.hard && pool.length > 0) {
      relaxed.push(f.name);
      continue;
    }
    dropped.push(...out);
    pool = keep;
  }

  const task = s.cfg.tasks[s.taskType];
  const required = s.cfg.router.requiredCapability[s.complexity];
  const costs = pool.map((e) => callCost(e.model, s.inputTokens, s.outputTokens));
  const lo = Math.log(Math.min(...costs) + 1e-7);
  const hi = Math.log(Math.max(...costs) + 1e-7);
  const w = s.weights;
  const wsum = w.intelligence + w.cost + w.speed || 1;
  const target = tierRank(s.targetTier);

  const ranked: Candidate[] = pool.map((e, i) => {
    const { id, model: m } = e;
    const notes: string[] = [];
    const capability = capabilityOf(catalog, e, task.weights);
    const shortfall = Math.max(0, required - capability);
    const quality = capability / 100 - (1.5 * shortfall) / 100;
    const costUsd = costs[i]!;
    const costScore = hi > lo ? 1 - (Math.log(costUsd + 1e-7) - lo) / (hi - lo) : 1;
    const speed = m.capabilities.speed / 100;
    let score = (w.intelligence * quality + w.cost * costScore + w.speed * speed) / wsum;
    if (shortfall > 0) notes.push(`below the ${required} needed for ${s.complexity} ${s.taskType} (${Math.round(capability)})`);

    const gap = tierRank(m.tier) - target;
    if (gap > 0) score -= 0.12 * gap;
    if (gap < 0) score -= 0.2 * -gap;

    // Quality first: the strongest capable model, so only what the caller named (mode, task) still leans.
    const chainPos = s.capabilityFirst && !s.callerMode ? -1 : s.mode.chain.indexOf(id);
    if (chainPos >= 0) score += (s.modeExplicit ? 0.2 : 0.08) / (1 + chainPos * 0.5);
    const taskPos = s.capabilityFirst && !s.callerTask ? -1 : task.preferredModels.indexOf(id);
    if (taskPos >= 0) score += 0.06 / (1 + taskPos * 0.5);
    // A tenant's preferred providers are the last tie-break (pick.ts), not a score.
    if (s.tenant.preferredModels?.includes(id)) score += 0.12;
    for (const a of s.adjustments) if (a.model === id) score += a.delta;
    return { id, provider: e.provider, model: m, score, capability, costUsd, notes };
  });
  ranked.sort((a, b) => b.score - a.score || a.costUsd - b.costUsd || a.id.localeCompare(b.id));
  const hints = s.hints.length ? resolveHints(s, ranked, dropped) : undefined;
  const final: Ranked = hints ? keepHintedOverCeiling(s, ranked, dropped, relaxed, overCeiling, hints) : ranked;
  if (hints) final.hints = hints;
  return { ranked: final, dropped, relaxed };
}

/**
 * MCP hints, in order: the first that matches a ranked model fast enough for the first slot wins,
 * the best-scored of its matches. Hints before it that could not be used say why.
 */
function resolveHints(s: SelectionInput, ranked: Candidate[], dropped: Dropped[]): HintOutcome {
  const notUsed: string[] = [];
  for (const name of s.hints) {
    const matches = ranked.filter((c) => matchesHint(name, c.id, c.model));
    const fast = matches.find((c) => s.latencyCapMs === undefined || c.model.latencyMs <= s.latencyCapMs);
    if (fast) return { winner: { name, model: fast.id }, notUsed };
    if (matches.length) {
      const c = matches[0]!;
      notUsed.push(`hint "${name}" not used: ${c.id} typically takes ${c.model.latencyMs} ms, over the ${s.latencyCapMs} ms ${s.latency === "interactive" ? "an interactive" : "a background"} call allows (name it as model${s.latency === "interactive" ? ", or ask for latency background" : ""})`);
      continue;
    }
    const out = dropped.filter((d) => matchesHint(name, d.id, s.cfg.models[d.id]!));
    if (out.length === 0) {
      notUsed.push(`hint "${name}" not used: it matches no model in the catalog`);
      continue;
    }
    const why = out.slice(0, 2).map((d) => (d.why === TENANT_BLOCKS ? `${d.id} is not allowed for tenant ${s.tenantName}` : `${d.id}: ${d.why}`));
    notUsed.push(`hint "${name}" not used: ${why.join("; ")}${out.length > 2 ? ` (and ${out.length - 2} more)` : ""}`);
  }
  return { notUsed };
}

/** Models let past the mode's ceiling for a hint stay only when that hint won (or nothing else can serve). */
function keepHintedOverCeiling(s: SelectionInput, ranked: Candidate[], dropped: Dropped[], relaxed: string[], overCeiling: Set<string>, hints: HintOutcome): Ranked {
  if (overCeiling.size === 0) return ranked;
  const won = hints.winner?.name;
  const keep = ranked.filter((c) => !overCeiling.has(c.id) || (won !== undefined && matchesHint(won, c.id, c.model)));
  if (keep.length === 0) {
    if (!relaxed.includes("mode cost ceiling")) relaxed.push("mode cost ceiling");
    return ranked;
  }
  for (const c of ranked) if (!keep.includes(c)) dropped.push({ id: c.id, provider: c.provider, why: `${c.model.tier} model; this mode allows up to ${s.maxCostTier}` });
  return keep;
}

/** Next models after the primary, preferring other providers first so one outage can't take out the chain. */
export function pickFallbacks(ranked: Candidate[], primary: string, max: number): Candidate[] {
  const rest = ranked.filter((c) => c.id !== primary);
  const primaryProvider = ranked.find((c) => c.id === primary)?.provider;
  const out: Candidate[] = [];
  const seen = new Set<string>([primaryProvider ?? ""]);
  for (const c of rest) {
    if (out.length >= max) break;
    if (!seen.has(c.provider)) {
      out.push(c);
      seen.add(c.provider);
    }
  }
  for (const c of rest) {
    if (out.length >= max) break;
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

// Number.prototype.toFixed is slow in V8; decisions format a handful of numbers each.
const one = (n: number) => String(Math.round(n * 10) / 10);
const two = (n: number) => String(Math.round(n * 100) / 100);

/** Why a runner-up lost to the winner, in a few words. */
export function whyNot(c: Candidate, winner: Candidate, taskType: TaskType, targetTier: CostTier, latencyCapMs?: number): string {
  if (latencyCapMs !== undefined && c.model.latencyMs > latencyCapMs && c.score >= winner.score) {
    return `typically ${c.model.latencyMs} ms, over the ${latencyCapMs} ms an interactive call allows for its first two models`;
  }
  const below = c.notes.find((n) => n.startsWith("below"));
  if (below) return below;
  const ratio = c.costUsd / Math.max(winner.costUsd, 1e-9);
  if (tierRank(c.model.tier) > tierRank(targetTier) && ratio > 1.3) {
    return `${c.model.tier} tier costs ${one(ratio)}x more; ${targetTier} is enough here`;
  }
  if (c.capability < winner.capability - 2) return `weaker at ${taskType} (${Math.round(c.capability)} vs ${Math.round(winner.capability)})`;
  if (ratio > 1.3) return `costs ${one(ratio)}x more for similar fit`;
  if (c.model.latencyMs > winner.model.latencyMs * 1.3) return `slower (typically ${c.model.latencyMs} ms vs ${winner.model.latencyMs} ms)`;
  return `scored lower overall (${two(c.score)} vs ${two(winner.score)})`;
}
