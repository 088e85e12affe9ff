import { logger as rootLogger, type Logger } from "../../logger.js";
import type { Runtime } from "../../runtime.js";
import type { CallRecord } from "../../store/telemetry.js";

export interface CallFeedOptions {
  /** Most records kept; the oldest go first. Default 20,000. */
  capacity?: number;
  /** Oldest record kept, in ms. Default 24 h. */
  maxAgeMs?: number;
  /** Most rows read from the store at start. Default 5,000. */
  seedLimit?: number;
  log?: Logger;
  /** Clock, for tests. */
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A row of sb_calls as the seeding query selects it (numeric columns may come back as strings). */
interface CallRow {
  request_id: string;
  at: Date | string;
  tenant: string;
  user_id: string | null;
  tool: string;
  mode: string | null;
  task_type: string | null;
  tier: string | null;
  confidence: number | string | null;
  model: string | null;
  provider: string | null;
  attempts: number | string | null;
  fallbacks: number | string | null;
  latency_ms: number | string | null;
  input_tokens: number | string | null;
  output_tokens: number | string | null;
  cost_usd: number | string | null;
  tools: string[] | null;
  mcp_tools: string[] | null;
  outcome: string;
  experiment: string | null;
  arm: string | null;
  overridden: boolean | null;
  reason: string | null;
}

// The prompt column is never read: the dashboard does not show prompts.
const SEED_SQL = `SELECT request_id, at, tenant, user_id, tool, mode, task_type, tier, confidence, model, provider, attempts, fallbacks,
  latency_ms, input_tokens, output_tokens, cost_usd, tools, mcp_tools, outcome, experiment, arm, overridden, reason
  FROM sb_calls WHERE at > $1 ORDER BY at DESC LIMIT $2`;

const num = (v: number | string | null | undefined): number => {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
};
const opt = <K extends string>(key: K, v: string | null | undefined): { [P in K]?: string } => (v ? ({ [key]: v } as { [P in K]: string }) : {});

/** A stored row back into the record the runtime emitted. */
export function recordFromRow(row: CallRow): CallRecord {
  const confidence = row.confidence === null || row.confidence === undefined ? undefined : num(row.confidence);
  return {
    requestId: row.request_id,
    at: row.at instanceof Date ? row.at : new Date(row.at),
    tenant: row.tenant,
    ...opt("user", row.user_id),
    tool: row.tool,
    ...opt("mode", row.mode),
    ...opt("taskType", row.task_type),
    ...opt("tier", row.tier),
    ...(confidence === undefined ? {} : { confidence }),
    ...opt("model", row.model),
    ...opt("provider", row.provider),
    attempts: num(row.attempts),
    fallbacks: num(row.fallbacks),
    latencyMs: num(row.latency_ms),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    costUsd: num(row.cost_usd),
    tools: row.tools ?? [],
    mcpTools: row.mcp_tools ?? [],
    outcome: row.outcome,
    ...(row.experiment ? { experiment: row.experiment, arm: row.arm ?? "" } : {}),
    overridden: row.overridden === true,
    ...opt("reason", row.reason),
  };
}

const keyOf = (r: CallRecord) => `${r.requestId}|${r.at.getTime()}|${r.tool}`;

/**
 * The dashboard's memory: the most recent call records (at most `capacity`, none older than
 * `maxAgeMs`), fed live by `runtime.onCall` and, at start, seeded from the store's last day so
 * the dashboard survives a restart. A ring buffer: pushing is O(1), and nothing here can fail
 * or slow a tool call.
 */
export class CallFeed {
  private readonly capacity: number;
  private readonly maxAgeMs: number;
  private readonly seedLimit: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private ring: Array<CallRecord | undefined>;
  /** Index of the oldest record. */
  private head = 0;
  private count = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private seeding: Promise<number> | undefined;

  constructor(
    private readonly runtime: Pick<Runtime, "onCall" | "store"> & Partial<Pick<Runtime, "onRemoteCalls">>,
    opts: CallFeedOptions = {},
  ) {
    this.capacity = Math.max(1, Math.floor(opts.capacity ?? 20_000));
    this.maxAgeMs = opts.maxAgeMs ?? DAY_MS;
    this.seedLimit = Math.max(0, Math.floor(opts.seedLimit ?? 5_000));
    this.log = opts.log ?? rootLogger;
    this.now = opts.now ?? Date.now;
    this.ring = new Array<CallRecord | undefined>(this.capacity);
  }

  /**
   * Starts listening at once (before the first await, so no call is missed) and then seeds from
   * the store. Resolves when seeding is done; never rejects. Call it without awaiting to serve
   * at once.
   */
  async start(): Promise<void> {
    if (this.unsubscribe || this.closed) return;
    const own = this.runtime.onCall((r) => this.push(r));
    // Other instances on a shared store: their calls show here too, as they finish.
    const others = this.runtime.onRemoteCalls?.((records) => records.forEach((r) => this.push(r)));
    this.unsubscribe = () => {
      own();
      others?.();
    };
    await this.seed();
  }

  /** Stops listening. The records stay readable. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Records one finished call. */
  push(r: CallRecord): void {
    const tail = (this.head + this.count) % this.capacity;
    // The dashboard never shows prompts: holding thousands of them would only cost memory.
    this.ring[tail] = r.prompt === undefined ? r : { ...r, prompt: undefined };
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** How many records are held (some may have aged out since the last read). */
  get size(): number {
    return this.count;
  }

  /** The records of the last `maxAgeMs`, oldest first. Drops the aged-out ones as it goes. */
  records(): CallRecord[] {
    this.prune();
    const out = new Array<CallRecord>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.ring[(this.head + i) % this.capacity]!;
    return out;
  }

  /**
   * Loads the last day of sb_calls (newest first, at most `seedLimit` rows) under the live
   * records, once. Without a store it does nothing; a failure is logged and leaves the feed as
   * it was. Resolves with the number of rows added.
   */
  seed(): Promise<number> {
    this.seeding ??= this.load();
    return this.seeding;
  }

  private async load(): Promise<number> {
    const store = this.runtime.store;
    if (!store || this.seedLimit === 0) return 0;
    try {
      const since = new Date(this.now() - this.maxAgeMs);
      const db = await store.db();
      const rows = await db.query<CallRow>(SEED_SQL, [since.toISOString(), Math.min(this.seedLimit, this.capacity)]);
      if (this.closed) return 0;
      const live = this.records();
      const seen = new Set(live.map(keyOf));
      // Rows come newest first; a call recorded live and flushed meanwhile is kept once.
      const stored = rows.map(recordFromRow).filter((r) => Number.isFinite(r.at.getTime()) && !seen.has(keyOf(r))).reverse();
      const merged = [...stored, ...live].slice(-this.capacity);
      this.ring = new Array<CallRecord | undefined>(this.capacity);
      merged.forEach((r, i) => (this.ring[i] = r));
      this.head = 0;
      this.count = merged.length;
      this.log.debug({ rows: stored.length }, "dashboard feed seeded from the store");
      return stored.length;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "dashboard cannot read past calls from the store; it starts empty");
      return 0;
    }
  }

  private prune(): void {
    const oldest = this.now() - this.maxAgeMs;
    while (this.count > 0) {
      const r = this.ring[this.head]!;
      if (r.at.getTime() > oldest) break;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }
}
