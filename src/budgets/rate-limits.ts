import type { RateLimits } from "../config/schema.js";
import { SwitchboardError } from "../errors.js";
import type { Db } from "../store/db.js";
import { isTransient } from "./ledger.js";

/** One limit a call counts against: a tenant's or a token's. */
export interface RateScope {
  /** `tenant:<name>` or `token:<label>`: the row the count lives in. */
  scope: string;
  /** How the error names it, e.g. "tenant acme". */
  label: string;
  limits: RateLimits;
}

/** What an admitted call counted, so its real token use can correct the count. */
export interface Admission {
  scopes: string[];
  windowStart: number;
  tokens: number;
}

const WINDOW_MS = 60_000;
const NONE: Admission = { scopes: [], windowStart: 0, tokens: 0 };
/** Windows older than this are deleted now and then. */
const KEEP_MS = 10 * 60_000;

/** Each scope's row for the window, made if missing (a statement of its own, so the next sees rows others made). */
const ENSURE_SQL = `INSERT INTO sb_rate (scope, window_start) SELECT s, $2::timestamptz FROM unnest($1::text[]) AS s ORDER BY s COLLATE "C" ON CONFLICT DO NOTHING`;
/**
 * Counts the call in every row it fits, under the rows' locks: PostgreSQL re-checks the condition
 * on the latest row after waiting for a concurrent writer, so several processes share one count
 * exactly. Fewer rows back than scopes means a limit refused it, and the transaction is rolled back.
 */
const COUNT_SQL = `UPDATE sb_rate r SET requests = r.requests + 1, tokens = r.tokens + $5
  FROM unnest($1::text[], $3::bigint[], $4::bigint[]) AS w(scope, max_requests, max_tokens)
  WHERE r.scope = w.scope AND r.window_start = $2::timestamptz AND r.requests + 1 <= w.max_requests AND r.tokens + $5 <= w.max_tokens
  RETURNING r.scope`;
const READ_SQL = "SELECT scope, requests, tokens FROM sb_rate WHERE scope = ANY($1::text[]) AND window_start = $2::timestamptz";
const CORRECT_SQL = "UPDATE sb_rate SET tokens = GREATEST(0, tokens + $3) WHERE scope = ANY($1::text[]) AND window_start = $2::timestamptz";

/**
 * Requests and tokens per minute, per tenant and per token, in fixed one-minute windows. A call
 * counts its estimated tokens when it starts; the real usage corrects the count when it ends. On
 * PostgreSQL the count is shared by every instance (a transaction per call); on the embedded
 * store, held in this process's memory (it is the only one). Over a limit: `rate_limited`, with
 * the seconds until the window turns.
 */
export class RateLimiter {
  private readonly memory = new Map<string, { requests: number; tokens: number }>();
  private lastCleanup = 0;

  constructor(
    private readonly db: Db | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(scopes: RateScope[], tokens: number): Promise<Admission> {
    const active = scopes.filter((s) => s.limits.requestsPerMinute !== undefined || s.limits.tokensPerMinute !== undefined);
    if (!active.length) return NONE;
    const windowStart = Math.floor(this.now() / WINDOW_MS) * WINDOW_MS;
    const est = Math.max(0, Math.round(tokens));
    const max = (s: RateScope) => ({ requests: s.limits.requestsPerMinute ?? Number.MAX_SAFE_INTEGER, tokens: s.limits.tokensPerMinute ?? Number.MAX_SAFE_INTEGER });
    for (const s of active) {
      // A call larger than the whole allowance would never fit: say so rather than ask to wait.
      if (est > max(s).tokens) throw tooLarge(s, est);
    }
    const ids = active.map((s) => s.scope);
    if (this.db?.kind === "postgres") {
      const db = this.db;
      const at = new Date(windowStart).toISOString();
      try {
        await withRetries(async () => {
          await db.query(ENSURE_SQL, [ids, at]);
          await db.transaction(async (q) => {
            const counted = await q<{ scope: string }>(COUNT_SQL, [ids, at, active.map((s) => max(s).requests), active.map((s) => max(s).tokens), est]);
            if (counted.length === ids.length) return;
            // Refused by one limit: read why, then roll back the counts made in the others.
            const got = new Set(counted.map((r) => r.scope));
            const s = active.find((x) => !got.has(x.scope))!;
            const [row] = await q<{ requests: number; tokens: unknown }>(READ_SQL, [[s.scope], at]);
            throw new Refused(s, Number(row?.requests ?? 0), Number(row?.tokens ?? 0));
          });
        });
      } catch (err) {
        if (err instanceof Refused) throw limited(err.scope, err.requests, err.tokens, est, windowStart, this.now());
        // As for budgets: a store that cannot be reached is a structured, retryable error, never `internal`.
        throw new SwitchboardError({
          code: "provider_unavailable",
          message: "the rate-limit store could not be reached, so the call was not run (nothing was spent)",
          hint: "retry in a moment; if it persists, check the database (DATABASE_URL).",
          retryable: true,
        });
      }
      this.cleanupSoon();
    } else {
      const rows = active.map((s) => this.row(s.scope, windowStart));
      const bad = active.findIndex((s, i) => rows[i]!.requests + 1 > max(s).requests || rows[i]!.tokens + est > max(s).tokens);
      if (bad >= 0) throw limited(active[bad]!, rows[bad]!.requests, rows[bad]!.tokens, est, windowStart, this.now());
      for (const r of rows) {
        r.requests++;
        r.tokens += est;
      }
    }
    return { scopes: ids, windowStart, tokens: est };
  }

  /** Replaces the estimate with the tokens the call really used (sent, not awaited, on PostgreSQL). */
  correct(a: Admission, realTokens: number): void {
    if (!a.scopes.length) return;
    const delta = Math.round(realTokens) - a.tokens;
    if (!delta) return;
    if (this.db?.kind === "postgres") {
      void this.db.query(CORRECT_SQL, [a.scopes, new Date(a.windowStart).toISOString(), delta]).catch(() => undefined);
      return;
    }
    for (const s of a.scopes) {
      const r = this.memory.get(`${s}|${a.windowStart}`);
      if (r) r.tokens = Math.max(0, r.tokens + delta);
    }
  }

  private row(scope: string, windowStart: number) {
    const key = `${scope}|${windowStart}`;
    let r = this.memory.get(key);
    if (!r) {
      // A new window: the ones before it can go.
      for (const k of this.memory.keys()) if (Number(k.slice(k.lastIndexOf("|") + 1)) < windowStart) this.memory.delete(k);
      this.memory.set(key, (r = { requests: 0, tokens: 0 }));
    }
    return r;
  }

  private cleanupSoon(): void {
    const t = this.now();
    if (t - this.lastCleanup < KEEP_MS || !this.db) return;
    this.lastCleanup = t;
    void this.db.query("DELETE FROM sb_rate WHERE window_start < $1::timestamptz", [new Date(t - KEEP_MS).toISOString()]).catch(() => undefined);
  }
}

function limited(s: RateScope, requests: number, tokens: number, est: number, windowStart: number, now: number): SwitchboardError {
  const l = s.limits;
  const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
  const which =
    l.requestsPerMinute !== undefined && requests + 1 > l.requestsPerMinute
      ? `${requests} of ${l.requestsPerMinute} requests this minute used`
      : `${tokens} of ${l.tokensPerMinute} tokens this minute used, this call needs about ${est}`;
  return new SwitchboardError({
    code: "rate_limited",
    message: `${s.label}'s rate limit is reached: ${which}`,
    hint: `retry in ${retryAfterSeconds} s, or raise rateLimits for ${s.label} in the config.`,
    retryable: true,
    retryAfterSeconds,
  });
}

function tooLarge(s: RateScope, est: number): SwitchboardError {
  return new SwitchboardError({
    code: "rate_limited",
    message: `this call needs about ${est} tokens, more than ${s.label}'s whole allowance of ${s.limits.tokensPerMinute} tokens a minute`,
    hint: `send less (a shorter prompt or a lower maxOutputTokens), or raise rateLimits.tokensPerMinute for ${s.label} in the config.`,
    retryable: false,
  });
}

/** A limit refused the call; thrown inside the transaction so its other counts roll back. */
class Refused {
  constructor(
    readonly scope: RateScope,
    readonly requests: number,
    readonly tokens: number,
  ) {}
}

/** Deadlocks between processes locking the same rows in another order are retried. */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 5 || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 4 * 2 ** i));
    }
  }
}
