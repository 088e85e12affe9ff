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
   * Applies what a crashed process journaled but may not have stored: a reservation still open is
   * settled as sb_settle would; one never stored (its write was lost too) is recorded settled and
   * its cost added to its rows. Entries already stored change nothing.
   */
  async replay(db: Db): Promise<number> {
    const live = join(this.dir, LIVE);
    if (existsSync(live)) this.seal();
    const files = readdirSync(this.dir).filter((f) => SEGMENT.test(f)).sort();
    let applied = 0;
    for (const f of files) {
      const path = join(this.dir, f);
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (!line.trim()) continue;
        let e: JournalEntry;
        try {
          e = JSON.parse(line) as JournalEntry;
        } catch {
          continue; // a line cut by the crash: its settle was never answered
        }
        await db.transaction(async (q) => {
          const [known] = await q<{ id: string }>("SELECT id FROM sb_reservations WHERE id = $1", [e.id]);
          if (known) {
            await q("SELECT sb_settle($1, $2)", [e.id, e.actualUsd]);
            return;
          }
          await q("INSERT INTO sb_reservations (id, tenant, amount_usd, periods, expires_at, settled_at, actual_usd) VALUES ($1, $2, $3, $4, now(), now(), $5)", [e.id, e.tenant, e.amountUsd, e.keys, e.actualUsd]);
          for (const k of [...e.keys].sort()) {
            const [scope, period] = k.split("|");
            await q("INSERT INTO sb_spend (scope, period) VALUES ($1, $2) ON CONFLICT DO NOTHING", [scope, period]);
            await q("UPDATE sb_spend SET settled_usd = settled_usd + $3 WHERE scope = $1 AND period = $2", [scope, period, e.actualUsd]);
          }
        });
        applied++;
      }
      unlinkSync(path);
    }
    return applied;
  }
}
