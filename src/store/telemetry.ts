import type { Logger } from "../logger.js";
import type { Db } from "./db.js";
import type { TelemetryJournal } from "./telemetry-journal.js";

/** One tool call, as recorded. Prompt text only when the config opts in. */
export interface CallRecord {
  requestId: string;
  at: Date;
  tenant: string;
  user?: string;
  tool: string;
  mode?: string;
  taskType?: string;
  tier?: string;
  confidence?: number;
  model?: string;
  provider?: string;
  attempts: number;
  fallbacks: number;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  tools: string[];
  mcpTools: string[];
  /** "ok" or an error code. */
  outcome: string;
  experiment?: string;
  arm?: string;
  overridden: boolean;
  prompt?: string;
  /** The routing decision's one-line reason. */
  reason?: string;
}

const COLUMNS = [
  "request_id", "at", "tenant", "user_id", "tool", "mode", "task_type", "tier", "confidence", "model", "provider", "attempts", "fallbacks",
  "latency_ms", "input_tokens", "output_tokens", "cost_usd", "tools", "mcp_tools", "outcome", "experiment", "arm", "overridden", "prompt", "reason",
];

/** Each column's type, for reading the batch back out of its JSON. */
const TYPES: Record<string, string> = {
  confidence: "real", attempts: "integer", fallbacks: "integer", latency_ms: "integer", input_tokens: "integer", output_tokens: "integer",
  cost_usd: "numeric", tools: "text[]", mcp_tools: "text[]", at: "timestamptz", overridden: "boolean",
};
const INSERT_SQL = `INSERT INTO sb_calls (${COLUMNS.join(", ")}) SELECT ${COLUMNS.join(", ")} FROM jsonb_to_recordset($1::jsonb) AS x(${COLUMNS.map((c) => `${c} ${TYPES[c] ?? "text"}`).join(", ")})`;

/** Text PostgreSQL can store: NUL and unpaired surrogates become U+FFFD (the tool boundary rejects them; this is the last guard). */
export function storableText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

const clean = (v: unknown): unknown => (typeof v === "string" ? storableText(v) : Array.isArray(v) ? v.map(clean) : v);

function row(r: CallRecord): unknown[] {
  return raw(r).map(clean);
}

function raw(r: CallRecord): unknown[] {
  return [
    r.requestId, r.at.toISOString(), r.tenant, r.user ?? null, r.tool, r.mode ?? null, r.taskType ?? null, r.tier ?? null, r.confidence ?? null,
    r.model ?? null, r.provider ?? null, r.attempts, r.fallbacks, Math.round(r.latencyMs), r.inputTokens, r.outputTokens, r.costUsd, r.tools,
    r.mcpTools, r.outcome, r.experiment ?? null, r.arm ?? null, r.overridden, r.prompt ?? null, r.reason ?? null,
  ];
}

/** A record as the INSERT reads it: column name to storable value. */
function rowObject(r: CallRecord): Record<string, unknown> {
  return Object.fromEntries(row(r).map((v, i) => [COLUMNS[i]!, v]));
}

/** With a journal: the store takes its records once calls have stopped for this long... */
export const TELEMETRY_QUIET_MS = 2000;
/** ...or once this many wait, or the oldest has waited this long, whichever comes first. */
const MAX_WAITING = 100_000;
const MAX_WAIT_MS = 5 * 60_000;

export interface TelemetryOptions {
  batchSize: number;
  flushMs: number;
  maxBuffer: number;
}

/**
 * Writes call records off the hot path. `record` only appends: to a bounded buffer that a timer
 * (or a full batch) flushes in one multi-row INSERT, or, for the embedded store, to a journal on
 * disk that is imported when the calls stop (or a reader asks), so bursts of calls never wake the
 * store. Text is made storable first; if a batch still fails, its records are written one by one,
 * so one bad record never costs the others. A failing store is logged and the records dropped,
 * so telemetry can never fail or slow a tool call; when the buffer is full the oldest records go
 * first, and the count of dropped records is kept.
 */
export class TelemetryWriter {
  private buffer: CallRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  dropped = 0;
  written = 0;
  /**
   * Told after an import from the journal stored records: readers of the calls (learning) refresh
   * then, while the store is awake, rather than waking it again later.
   */
  afterImport: (() => void) | undefined;
  /** Journaled records not yet imported, and when the first of them came and the last. */
  private waiting = 0;
  private firstAt = 0;
  private lastAt = 0;

  constructor(
    private readonly db: () => Promise<Db>,
    private readonly log: Logger,
    private readonly opts: TelemetryOptions = { batchSize: 200, flushMs: 500, maxBuffer: 20000 },
    private readonly journal?: TelemetryJournal,
  ) {
    // What a crashed process journaled goes in as soon as the store is up.
    if (journal?.segments().length) void this.flush();
  }

  record(r: CallRecord): void {
    if (this.journal) return this.journalRecord(r);
    if (this.buffer.length >= this.opts.maxBuffer) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(r);
    if (this.buffer.length >= this.opts.batchSize) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
  }

  private journalRecord(r: CallRecord): void {
    try {
      this.journal!.append(rowObject(r));
    } catch (err) {
      this.dropped++;
      this.log.error({ err: (err as Error).message }, "telemetry journal write failed; record dropped");
      return;
    }
    const now = Date.now();
    if (this.waiting++ === 0) this.firstAt = now;
    this.lastAt = now;
    if (this.waiting >= MAX_WAITING) void this.flush();
    else if (!this.timer) this.armImport(TELEMETRY_QUIET_MS);
  }

  /** Imports once the calls have been quiet for TELEMETRY_QUIET_MS (or the wait has grown too long). */
  private armImport(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.waiting) return;
      const now = Date.now();
      const quietFor = now - this.lastAt;
      if (quietFor >= TELEMETRY_QUIET_MS || now - this.firstAt >= MAX_WAIT_MS) void this.flush();
      else this.armImport(TELEMETRY_QUIET_MS - quietFor);
    }, ms);
    this.timer.unref();
  }

  /**
   * One statement whatever the batch size: the rows go as one JSON parameter. A VALUES list with
   * 25 parameters per row gave PostgreSQL a new, large statement to plan for every batch size, and
   * the embedded store's heap grew by hundreds of MB under load (it never shrinks).
   */
  private async insert(db: Db, rows: Record<string, unknown>[]): Promise<void> {
    await db.query(INSERT_SQL, [JSON.stringify(rows)]);
  }

  /** Writes everything recorded so far; resolves when it is stored (or dropped after an error). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => (this.journal ? this.importJournal(this.journal) : this.writeBuffer()));
    return this.flushing;
  }

  private async writeBuffer(): Promise<void> {
    while (this.buffer.length) await this.store(this.buffer.splice(0, this.opts.batchSize).map(rowObject));
  }

  /** Every sealed segment, batch by batch; a segment is deleted once all of it was stored or dropped. */
  private async importJournal(journal: TelemetryJournal): Promise<void> {
    this.waiting = 0;
    const before = this.written;
    journal.seal();
    for (const segment of journal.segments()) {
      for await (const batch of journal.batches(segment, this.opts.batchSize)) await this.store(batch);
      journal.remove(segment);
    }
    if (this.written > before) this.afterImport?.();
  }

  /** One batch into the store; on failure one by one, so one bad record never costs the others. */
  private async store(batch: Record<string, unknown>[]): Promise<void> {
    let db: Db;
    try {
      db = await this.db();
    } catch (err) {
      this.dropped += batch.length;
      this.log.error({ err: (err as Error).message, records: batch.length }, "telemetry write failed; records dropped");
      return;
    }
    try {
      await this.insert(db, batch);
      this.written += batch.length;
      return;
    } catch (err) {
      if (batch.length === 1) {
        this.dropped++;
        this.log.error({ err: (err as Error).message, records: 1 }, "telemetry write failed; record dropped");
        return;
      }
    }
    let bad = 0;
    let last = "";
    for (const [i, r] of batch.entries()) {
      // The first records all failing means the store is down, not one record bad: the rest go too.
      if (bad >= 5 && bad === i) {
        bad = batch.length;
        break;
      }
      try {
        await this.insert(db, [r]);
        this.written++;
      } catch (e) {
        bad++;
        last = (e as Error).message;
      }
    }
    this.dropped += bad;
    if (bad) this.log.error({ err: last, records: bad, of: batch.length }, "telemetry records dropped; the rest of their batch was written");
  }

  /** Stops timers and closes the journal file (after a flush, when closing the store). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.journal?.close();
  }
}
