import type { Logger } from "../logger.js";
import { defaultDataDir, openDb, type Db } from "./db.js";
import { TelemetryJournal } from "./telemetry-journal.js";
import { TelemetryWriter, type CallRecord } from "./telemetry.js";

export interface StoreOptions {
  /** PostgreSQL URL (shared store); default: env DATABASE_URL. */
  databaseUrl?: string;
  /** PGlite folder, or ":memory:"; default: the user's data folder. */
  dataDir?: string;
  /** The embedded store closes after this long without queries (default PGLITE_IDLE_CLOSE_MS). */
  idleCloseMs?: number;
}

/**
 * The database and what is written straight to it: telemetry and feedback. Budgets (budgets/)
 * and learned preferences (learning.ts) are built over it by the runtime. The database opens in the background on
 * first use (PGlite takes seconds to start), so serving starts at once.
 */
export class Store {
  private dbPromise: Promise<Db> | undefined;
  readonly telemetry: TelemetryWriter;
  private feedbackWrites = 0;

  constructor(
    private readonly opts: StoreOptions,
    private readonly log: Logger,
  ) {
    // The embedded store on disk takes its records from a journal, so bursts of calls never wake it.
    const dir = this.embeddedDir;
    this.telemetry = new TelemetryWriter(() => this.db(), log, undefined, dir ? new TelemetryJournal(`${dir}.journal`) : undefined);
  }

  /** Whether the store is PostgreSQL, shared with other Switchboard processes. */
  get shared(): boolean {
    return !!this.opts.databaseUrl;
  }

  /** The embedded database's folder on disk; undefined for PostgreSQL or an in-memory store. */
  get embeddedDir(): string | undefined {
    if (this.opts.databaseUrl || this.opts.dataDir === ":memory:") return undefined;
    return this.opts.dataDir ?? defaultDataDir();
  }

  db(): Promise<Db> {
    this.dbPromise ??= openDb(this.opts).catch((err: unknown) => {
      this.log.error({ err: (err as Error).message }, "cannot open the store");
      this.dbPromise = undefined;
      throw err;
    });
    return this.dbPromise;
  }

  /** Starts opening the database without waiting for it; resolves once open (never rejects). */
  warm(): Promise<boolean> {
    return this.db().then(
      () => true,
      () => false,
    );
  }

  record(r: CallRecord): void {
    this.telemetry.record(r);
  }

  /**
   * Stores feedback on one of the tenant's own calls: the first call telemetry holds under that
   * request id (feedback calls aside) must be the tenant's. Callers can choose request ids, so a
   * later call of another tenant under the same id neither claims it nor takes it away.
   * Telemetry is flushed first, so a call answered a moment ago is found. False when the request
   * is unknown or another tenant's: nothing is stored then.
   */
  async recordFeedback(f: { requestId: string; tenant: string; user?: string; rating?: number; preferredModel?: string; note?: string }): Promise<boolean> {
    await this.telemetry.flush();
    const db = await this.db();
    const rows = await db.query(
      `INSERT INTO sb_feedback (request_id, tenant, user_id, rating, preferred_model, note)
       SELECT $1::text, $2::text, $3::text, $4::real, $5::text, $6::text
       WHERE (SELECT tenant FROM sb_calls WHERE request_id = $1 AND tool <> 'record_feedback' ORDER BY at, tenant LIMIT 1) = $2
       RETURNING request_id`,
      [f.requestId, f.tenant, f.user ?? null, f.rating ?? null, f.preferredModel ?? null, f.note ?? null],
    );
    if (rows.length) this.feedbackWrites++;
    return rows.length > 0;
  }

  /**
   * How many rows this process has written: with the embedded store it is the only writer, so an
   * unchanged count means nothing new to read. Undefined for PostgreSQL, where others write too.
   */
  writes(): number | undefined {
    return this.opts.databaseUrl ? undefined : this.telemetry.written + this.feedbackWrites;
  }

  async close(): Promise<void> {
    await this.telemetry.flush();
    this.telemetry.close();
    if (this.dbPromise) await (await this.dbPromise).close();
  }
}
