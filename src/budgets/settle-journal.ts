import type { Db } from "../store/db.js";
import { SegmentedJournal } from "../store/segmented-journal.js";

/** One settled reservation, as the ledger knew it when the answer went back. */
export interface JournalEntry {
  id: string;
  tenant: string;
  /** The "scope|period" rows it was reserved against. */
  keys: string[];
  amountUsd: number;
  actualUsd: number;
}

/**
 * Writes settled calls (journal entries, as a JSON array in $1) in one statement: each call's
 * settled reservation, and its real cost added to each ceiling row it counted against (made if
 * missing). A call already written (a journal replayed twice) is skipped, so its cost never counts
 * twice. The embedded store's ledger writes its batches with it, and a replay does too.
 */
export const SETTLED_SQL = `WITH s AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, tenant text, "amountUsd" numeric, "actualUsd" numeric, keys text[])
  ), ins AS (
    INSERT INTO sb_reservations (id, tenant, amount_usd, periods, expires_at, settled_at, actual_usd)
    SELECT id, tenant, "amountUsd", keys, now(), now(), "actualUsd" FROM s
    ON CONFLICT (id) DO NOTHING
    RETURNING periods, actual_usd
  ), d AS (
    SELECT split_part(k, '|', 1) AS scope, substr(k, strpos(k, '|') + 1) AS period, sum(actual_usd) AS total
    FROM ins, unnest(periods) AS k GROUP BY 1, 2
  )
  INSERT INTO sb_spend (scope, period, settled_usd) SELECT scope, period, total FROM d ORDER BY scope COLLATE "C", period COLLATE "C"
  ON CONFLICT (scope, period) DO UPDATE SET settled_usd = sb_spend.settled_usd + EXCLUDED.settled_usd`;

/**
 * The embedded store writes its budget changes a few milliseconds behind the answer. So that a
 * crash in that window loses no settled spend, each settle is first appended to this journal.
 * When a batch of writes is sent, the live journal becomes a numbered segment; once the batch is
 * stored, the segment is deleted. At start, segments left by a crash are replayed, idempotently.
 */
export class SettleJournal extends SegmentedJournal<JournalEntry> {
  private previous: string | undefined;

  constructor(dir: string) {
    super(dir, "budget-settles");
  }

  /**
   * The segment's writes are stored. It is deleted one batch later: the embedded database may still
   * be flushing the last one to disk, and a replay of stored entries changes nothing.
   */
  done(segment: string | undefined): void {
    if (!segment) return;
    if (this.previous) this.remove(this.previous);
    this.previous = segment;
  }

  /**
   * Applies what a crashed process journaled but may not have stored, idempotently: entries whose
   * reservation was stored open or reaped unsettled (by versions that wrote reservations) are
   * settled as sb_settle would; the rest go through SETTLED_SQL, which skips those already written.
   */
  async replay(db: Db): Promise<number> {
    this.seal();
    let applied = 0;
    for (const path of this.segments()) {
      const entries = this.read(path);
      if (entries.length) {
        await db.transaction(async (q) => {
          const open = new Set((await q<{ id: string }>("SELECT id FROM sb_reservations WHERE id = ANY($1::text[]) AND (settled_at IS NULL OR (reaped_at IS NOT NULL AND actual_usd IS NULL))", [entries.map((e) => e.id)])).map((r) => r.id));
          for (const e of entries.filter((x) => open.has(x.id))) await q("SELECT sb_settle($1, $2)", [e.id, e.actualUsd]);
          const rest = entries.filter((x) => !open.has(x.id));
          if (rest.length) await q(SETTLED_SQL, [JSON.stringify(rest)]);
        });
        applied += entries.length;
      }
      this.remove(path);
    }
    return applied;
  }
}
