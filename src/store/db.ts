import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS } from "./migrations.js";

/** The SQL surface the store needs, the same over embedded PGlite and a real PostgreSQL. */
export interface Db {
  readonly kind: "pglite" | "postgres";
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction; rolls back if it throws. */
  transaction<T>(fn: (q: Db["query"]) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Where the embedded database lives by default: the user's data folder. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWITCHBOARD_DATA_DIR?.trim()) return env.SWITCHBOARD_DATA_DIR.trim();
  const base =
    process.platform === "win32"
      ? (env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"))
      : process.platform === "darwin"
        ? join(homedir(), "Library", "Application Support")
        : (env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"));
  return join(base, "switchboard", "db");
}

class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  private constructor(private readonly pg: import("@electric-sql/pglite").PGlite) {}

  static async open(dataDir: string | undefined): Promise<PgliteDb> {
    const { PGlite } = await import("@electric-sql/pglite");
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    return new PgliteDb(await PGlite.create(dataDir));
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pg.query<R>(sql, params)).rows;
  }

  async transaction<T>(fn: (q: Db["query"]) => Promise<T>): Promise<T> {
    // PGlite is single-connection: its transaction() serializes callers.
    return this.pg.transaction(async (tx) => fn(async <R>(sql: string, params: unknown[] = []) => (await tx.query<R>(sql, params)).rows));
  }

  close(): Promise<void> {
    return this.pg.close();
  }
}

class PostgresDb implements Db {
  readonly kind = "postgres" as const;
  private constructor(private readonly pool: import("pg").Pool) {}

  static async open(url: string): Promise<PostgresDb> {
    const { default: pg } = await import("pg");
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // Numerics come back as strings from pg; the store converts where it reads them.
    return new PostgresDb(pool);
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  async transaction<T>(fn: (q: Db["query"]) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const out = await fn(async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[]);
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Opens the store: PostgreSQL when a URL is given (several Switchboard processes share it),
 * otherwise embedded PGlite in `dataDir` (in memory when dataDir is ":memory:"). Applies migrations.
 */
export async function openDb(opts: { databaseUrl?: string; dataDir?: string }): Promise<Db> {
  const db = opts.databaseUrl ? await PostgresDb.open(opts.databaseUrl) : await PgliteDb.open(opts.dataDir === ":memory:" ? undefined : (opts.dataDir ?? defaultDataDir()));
  await migrate(db);
  return db;
}

/** Applies pending migrations once, under an advisory lock so concurrent processes don't race. */
export async function migrate(db: Db): Promise<void> {
  await db.transaction(async (q) => {
    await q("SELECT pg_advisory_xact_lock(8412094)");
    await q("CREATE TABLE IF NOT EXISTS sb_migrations (id integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const done = new Set((await q<{ id: number }>("SELECT id FROM sb_migrations")).map((r) => Number(r.id)));
    for (const [i, sql] of MIGRATIONS.entries()) {
      if (done.has(i + 1)) continue;
      // One statement per query: PGlite prepares every query, and a prepared statement holds one command.
      for (const stmt of sql.split(/;\s*(?:\n|$)/).map((x) => x.replace(/--[^\n]*/g, "").trim()).filter(Boolean)) await q(stmt);
      await q("INSERT INTO sb_migrations (id) VALUES ($1)", [i + 1]);
    }
  });
}
