import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../store/db.js";

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

const LIVE = "budget-settles.jsonl";
const SEGMENT = /^budget-settles\.\d+\.jsonl$/;

/**
 * The embedded store writes its budget changes a few milliseconds behind the answer. So that a
 * crash in that window loses no settled spend, each settle is first appended to this journal (a
 * synchronous write to the OS, which survives a killed process; the file stays open between
 * appends, so each costs one system call). When a batch of writes is sent,
 * the live journal becomes a numbered segment; once the batch is stored, the segment is deleted.
 * At start, segments left by a crash are replayed, idempotently.
 */
export class SettleJournal {
  private seq = 0;
  /** The live file, open for appending since the last seal. */
  private fd: number | undefined;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  append(e: JournalEntry): void {
    this.fd ??= openSync(join(this.dir, LIVE), "a");
    writeSync(this.fd, JSON.stringify(e) + "\n");
  }

  /** Seals what has been appended so far into a segment; returns its path, or undefined when empty. */
  seal(): string | undefined {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    const live = join(this.dir, LIVE);
    if (!existsSync(live)) return undefined;
    const seg = join(this.dir, `budget-settles.${Date.now()}${String(this.seq++).padStart(4, "0")}.jsonl`);
    renameSync(live, seg);
    return seg;
  }

  /**
   * The segment's writes are stored. It is deleted one batch later: the embedded database may still
   * be flushing the last one to disk, and a replay of stored entries changes nothing.
   */
  done(segment: string | undefined): void {
    if (!segment) return;
    if (this.previous) unlinkSync(this.previous);
    this.previous = segment;
  }

  private previous: string | undefined;

  /**
   * Applies what a crashed process journaled but may not have stored, idempotently: entries whose
   * reservation was stored open or reaped unsettled (by versions that wrote reservations) are
   * settled as sb_settle would; the rest go through SETTLED_SQL, which skips those already written.
   */
  async replay(db: Db): Promise<number> {
    const live = join(this.dir, LIVE);
    if (existsSync(live)) this.seal();
    const files = readdirSync(this.dir).filter((f) => SEGMENT.test(f)).sort();
    let applied = 0;
    for (const f of files) {
      const path = join(this.dir, f);
      const entries: JournalEntry[] = [];
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (!line.trim()) continue;
        try {
          entries.push(JSON.parse(line) as JournalEntry);
        } catch {
          // a line cut by the crash: its settle was never answered
        }
      }
      if (entries.length) {
        await db.transaction(async (q) => {
          const open = new Set((await q<{ id: string }>("SELECT id FROM sb_reservations WHERE id = ANY($1::text[]) AND (settled_at IS NULL OR (reaped_at IS NOT NULL AND actual_usd IS NULL))", [entries.map((e) => e.id)])).map((r) => r.id));
          for (const e of entries.filter((x) => open.has(x.id))) await q("SELECT sb_settle($1, $2)", [e.id, e.actualUsd]);
          const rest = entries.filter((x) => !open.has(x.id));
          if (rest.length) await q(SETTLED_SQL, [JSON.stringify(rest)]);
        });
        applied += entries.length;
      }
      unlinkSync(path);
    }
    return applied;
  }
}
