import type { SwitchboardConfig } from "../config/schema.js";
import type { Logger } from "../logger.js";
import { Budgets } from "../budgets/ledger.js";
import { openDb, type Db } from "./db.js";
import { LearnedPreferences } from "../learning.js";
import { TelemetryWriter, type CallRecord } from "./telemetry.js";

export interface StoreOptions {
  /** PostgreSQL URL (shared store); default: env DATABASE_URL. */
  databaseUrl?: string;
  /** PGlite folder, or ":memory:"; default: the user's data folder. */
  dataDir?: string;
}

/**
 * Telemetry, budgets and feedback over one database. The database opens in the background on
 * first use (PGlite takes seconds to start), so serving starts at once.
 */
export class Store {
  private dbPromise: Promise<Db> | undefined;
  readonly telemetry: TelemetryWriter;
  /** Tier 4 of the router: preferences learned from overrides, ratings and outcomes. */
  readonly learning: LearnedPreferences;
  private budgetsRef: Budgets | undefined;

  constructor(
    private readonly opts: StoreOptions,
    private readonly config: () => SwitchboardConfig,
    private readonly log: Logger,
  ) {
    this.telemetry = new TelemetryWriter(() => this.db(), log);
    this.learning = new LearnedPreferences(() => this.db(), config, log);
  }

  db(): Promise<Db> {
    this.dbPromise ??= openDb(this.opts).catch((err: unknown) => {
      this.log.error({ err: (err as Error).message }, "cannot open the store");
      this.dbPromise = undefined;
      throw err;
    });
    return this.dbPromise;
  }

  /** Starts opening the database and the learning refresh without waiting for either. */
  warm(): void {
    void this.db().then(() => this.learning.start(), () => undefined);
  }

  async budgets(): Promise<Budgets> {
    this.budgetsRef ??= new Budgets(await this.db(), this.config);
    return this.budgetsRef;
  }

  record(r: CallRecord): void {
    this.telemetry.record(r);
  }

  async recordFeedback(f: { requestId: string; tenant: string; user?: string; rating?: number; preferredModel?: string; note?: string }): Promise<void> {
    const db = await this.db();
    await db.query("INSERT INTO sb_feedback (request_id, tenant, user_id, rating, preferred_model, note) VALUES ($1, $2, $3, $4, $5, $6)", [
      f.requestId,
      f.tenant,
      f.user ?? null,
      f.rating ?? null,
      f.preferredModel ?? null,
      f.note ?? null,
    ]);
  }

  async close(): Promise<void> {
    this.learning.stop();
    await this.telemetry.flush();
    if (this.dbPromise) await (await this.dbPromise).close();
  }
}
