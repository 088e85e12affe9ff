import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { setFlagsFromString } from "node:v8";
import { homedir } from "node:os";
import { join } from "node:path";
import { logger } from "../logger.js";
import { MIGRATIONS } from "./migrations.js";
import { PGLITE_TEMPLATE } from "./pglite-template.js";

/** The SQL surface the store needs, the same over embedded PGlite and a real PostgreSQL. */
export interface Db {
  readonly kind: "pglite" | "postgres";
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction; rolls back if it throws. */
  transaction<T>(fn: (q: Db["query"]) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: calls `onPayload` with every NOTIFY on `channel` (an identifier), on a
   * connection of its own; resolves with the function that stops listening.
   */
  listen?(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** BEGIN, the caller's statements, COMMIT; ROLLBACK if anything throws. */
async function inTransaction<T>(q: Db["query"], fn: (q: Db["query"]) => Promise<T>): Promise<T> {
  await q("BEGIN");
  try {
    const out = await fn(q);
    await q("COMMIT");
    return out;
  } catch (err) {
    await q("ROLLBACK").catch(() => undefined);
    throw err;
  }
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

/**
 * PGlite in a worker thread: its start-up (initdb, WebAssembly) takes seconds of CPU, which on the
 * main thread would stall every MCP request meanwhile. The worker owns the single connection;
 * this side serializes queries and transactions through one lock, as a single connection needs.
 */
// Dynamic import only: the eval'd worker may be parsed as CommonJS or as a module (it inherits --input-type).
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import("node:worker_threads");
  const { PGlite } = await import(workerData.pgliteUrl);
  const options = { ...workerData.options };
  if (workerData.template) options.loadDataDir = new Blob([(await import("node:fs")).readFileSync(workerData.template)]);
  const pg = await PGlite.create(workerData.dataDir, options);
  parentPort.on("message", async (m) => {
    if (m.close) { await pg.close(); parentPort.postMessage({ id: m.id, rows: [] }); return; }
    try { parentPort.postMessage({ id: m.id, rows: (await pg.query(m.sql, m.params)).rows }); }
    catch (e) { parentPort.postMessage({ id: m.id, error: { message: String(e && e.message || e), code: e && e.code } }); }
  });
  parentPort.postMessage({ ready: true });
})().catch(async (e) => (await import("node:worker_threads")).parentPort.postMessage({ fatal: String(e && e.message || e) }));
`;

/**
 * PostgreSQL's defaults are sized for a server; the embedded store holds a few small tables for
 * one process. Small buffers keep its resident memory near 100 MB instead of 250 MB.
 */
export const PGLITE_OPTIONS = {
  postgresqlconf: ["shared_buffers=8MB", "wal_buffers=256kB", "work_mem=1MB", "maintenance_work_mem=4MB", "temp_buffers=1MB"],
};

/**
 * Creates a new PGlite data folder in a child process, whose memory the OS takes back when it
 * exits: unpacked from `template` (the build's initialized folder) when given, else by initdb.
 */
async function initInChildProcess(pgliteUrl: string, dataDir: string, template: string | undefined): Promise<void> {
  const { execFile } = await import("node:child_process");
  const options = `{ ...${JSON.stringify(PGLITE_OPTIONS)}${template ? `, loadDataDir: new Blob([readFileSync(${JSON.stringify(template)})])` : ""} }`;
  const script = `import { readFileSync } from "node:fs"; const { PGlite } = await import(${JSON.stringify(pgliteUrl)}); const pg = await PGlite.create(${JSON.stringify(dataDir)}, ${options}); await pg.close();`;
  // A server that exits meanwhile (its client went away) takes the half-made folder's writer with it.
  let child: import("node:child_process").ChildProcess | undefined;
  const stop = () => child?.kill();
  process.once("exit", stop);
  try {
    await new Promise<void>((resolve, reject) => {
      child = execFile(process.execPath, ["--liftoff-only", "--input-type=module", "-e", script], { timeout: 300_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`cannot create the PGlite store in ${dataDir}: ${String(stderr).trim().split("\n").at(-1) || err.message}`)) : resolve(),
      );
    });
  } finally {
    process.off("exit", stop);
  }
}

/** The build's template, when this install has one. */
function existingTemplate(): string | undefined {
  return existsSync(PGLITE_TEMPLATE) ? PGLITE_TEMPLATE : undefined;
}

/**
 * Whether a file is a gzipped tar of a PostgreSQL data folder (PGlite would quietly run initdb
 * over anything else). Unpacking it here takes a few tens of ms, once per file.
 */
function isTemplate(file: string): boolean {
  let ok = checkedTemplates.get(file);
  if (ok === undefined) {
    try {
      const tar = gunzipSync(readFileSync(file));
      ok = tar.toString("latin1", 257, 262) === "ustar" && tar.includes("PG_VERSION");
    } catch {
      ok = false;
    }
    checkedTemplates.set(file, ok);
  }
  return ok;
}
/** Templates already checked: the build's is checked once per process, not at every new store. */
const checkedTemplates = new Map<string, boolean>();

/**
 * Makes a new data folder from the template, or with initdb when there is none or it fails to
 * load (then whatever it left in the folder, which was empty, is removed first).
 */
async function initDataDir(pgliteUrl: string, dataDir: string, template: string | undefined): Promise<"template" | "initdb"> {
  if (template && readdirSync(dataDir).length === 0) {
    try {
      await initInChildProcess(pgliteUrl, dataDir, template);
      return "template";
    } catch (err) {
      logger.warn({ err: (err as Error).message, template }, "the embedded store's template did not load; creating the database with initdb");
      for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
    }
  }
  await initInChildProcess(pgliteUrl, dataDir, undefined);
  return "initdb";
}

/** Runs PGlite in a worker until it answers `ready` (or fails). */
async function startWorker(workerData: Record<string, unknown>): Promise<import("node:worker_threads").Worker> {
  const { Worker } = await import("node:worker_threads");
  // Every query leaves short-lived garbage in the worker; V8 would let its young generation grow to
  // tens of MB before collecting it (and keep the pages). A small one is scavenged often, cheaply.
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { ready?: boolean; fatal?: string }) => {
      if (m.ready) resolve();
      else if (m.fatal) reject(new Error(`cannot open PGlite: ${m.fatal}`));
      if (m.ready || m.fatal) worker.off("message", onMessage);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
  return worker;
}

/**
 * How long the embedded store stays open with nothing to do. Closing its worker gives PGlite's
 * ~75 MB back to the OS (a server that sits idle between an agent's bursts of calls, as one under
 * Claude Desktop does, keeps only its own memory); reopening takes ~0.3 s of the worker's CPU.
 */
export const PGLITE_IDLE_CLOSE_MS = 20_000;

class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  private readonly pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private lock: Promise<unknown> = Promise.resolve();
  private worker: import("node:worker_threads").Worker | undefined;
  /** Operations queued or running: the store sleeps only when this is 0 for `idleMs`. */
  private busy = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** How many times the worker was closed for being idle. */
  sleeps = 0;
  private sleepWaiters: Array<() => void> = [];

  private constructor(
    private readonly workerData: Record<string, unknown>,
    private readonly idleMs: number,
  ) {}

  /** How this store's database came to be: unpacked from the build's template, made by initdb, or already there. */
  createdFrom: "template" | "initdb" | "existing" = "existing";

  /** `template`: an initialized data folder, gzipped (the build's, PGLITE_TEMPLATE), or undefined for initdb. */
  static async open(dataDir: string | undefined, idleMs: number | undefined, template: string | undefined): Promise<PgliteDb> {
    idleMs ??= PGLITE_IDLE_CLOSE_MS;
    if (template && !isTemplate(template)) {
      logger.warn({ template }, "the embedded store's template is not an initialized data folder; creating the database with initdb");
      template = undefined;
    }
    const { createRequire } = await import("node:module");
    const { pathToFileURL } = await import("node:url");
    const pgliteUrl = pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")).href;
    const options = PGLITE_OPTIONS;
    // PostgreSQL's WebAssembly is large: compiled once by V8's baseline compiler and never again by
    // its optimizing one, it takes ~40 MB less memory and its first seconds of queries run faster
    // (the optimizer's background compile is what they waited on). Only WebAssembly is affected.
    setFlagsFromString("--liftoff-only");
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      // A new data folder is made in a short-lived process of its own: initdb leaves the
      // WebAssembly heap several hundred MB larger than serving needs (unpacking the template,
      // about half as much), and neither a heap nor a finished worker gives that back to the OS.
      let createdFrom: PgliteDb["createdFrom"] = "existing";
      if (!existsSync(join(dataDir, "PG_VERSION"))) createdFrom = await initDataDir(pgliteUrl, dataDir, template);
      const db = new PgliteDb({ pgliteUrl, dataDir, options }, idleMs);
      db.createdFrom = createdFrom;
      await db.exclusive(async () => undefined);
      return db;
    }
    // An in-memory database lives in its worker: that one never sleeps.
    const db = new PgliteDb({ pgliteUrl, dataDir, options, template }, 0);
    db.createdFrom = template ? "template" : "initdb";
    try {
      await db.exclusive(async () => undefined);
    } catch (err) {
      if (!template) throw err;
      // A template this PGlite cannot read (a dist/ built by another version): initdb, as before the build made one.
      logger.warn({ err: (err as Error).message, template }, "the embedded store's template did not load; creating the database with initdb");
      return PgliteDb.open(undefined, idleMs, undefined);
    }
    return db;
  }

  /** Starts the worker if it is not running (first use, or after it slept). */
  private async awake(): Promise<import("node:worker_threads").Worker> {
    if (this.worker) return this.worker;
    if (this.closed) throw new Error("the store is closed");
    const worker = await startWorker(this.workerData);
    worker.on("message", (m: { id?: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      // Idle, the worker must not keep the process alive; busy, it must.
      if (this.pending.size === 0) worker.unref();
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else p.resolve(m.rows ?? []);
    });
    const lost = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`the embedded store's worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private post<R>(message: Record<string, unknown>): Promise<R[]> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("the embedded store's worker is not running"));
    const id = this.nextId++;
    return new Promise<R[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      worker.ref();
      worker.postMessage({ id, ...message });
    });
  }

  /**
   * One connection: everything runs one at a time, a transaction's statements together, with the
   * worker started first if it slept. When nothing has run for `idleMs`, the worker is closed.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    clearTimeout(this.idleTimer);
    const step = async () => {
      await this.awake();
      return fn();
    };
    const run = this.lock.then(step, step);
    this.lock = run.catch(() => undefined);
    void this.lock.then(() => {
      if (--this.busy === 0 && this.idleMs > 0 && !this.closed) {
        this.idleTimer = setTimeout(() => void this.sleep(), this.idleMs);
        this.idleTimer.unref();
      }
    });
    return run;
  }

  /** Closes the worker if nothing came meanwhile; the next query starts a new one. */
  private sleep(): Promise<void> {
    const run = this.lock.then(async () => {
      if (this.busy > 0 || !this.worker) return;
      await this.stopWorker();
      this.sleeps++;
      for (const w of this.sleepWaiters.splice(0)) w();
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Lets PGlite write everything out and close, then ends its thread. */
  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.post({ close: true }).catch(() => undefined);
    this.worker = undefined;
    await worker.terminate();
  }

  /** Whether the worker (and PGlite's memory) is up right now. */
  get awakeNow(): boolean {
    return this.worker !== undefined;
  }

  /** Resolves the next time the worker is closed for being idle. */
  nextSleep(): Promise<void> {
    return new Promise((resolve) => this.sleepWaiters.push(resolve));
  }

  query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.exclusive(() => this.post<R>({ sql, params }));
  }

  transaction<T>(fn: (q: Db["query"]) => Promise<T>): Promise<T> {
    return this.exclusive(() => inTransaction(<R>(sql: string, params: unknown[] = []) => this.post<R>({ sql, params }), fn));
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const run = this.lock.then(() => this.stopWorker());
    this.lock = run.catch(() => undefined);
    this.closed = true;
    await run;
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
      return await inTransaction(async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[], fn);
    } finally {
      client.release();
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const client = await this.pool.connect();
    client.on("notification", (m) => {
      if (m.channel === channel) onPayload(m.payload ?? "");
    });
    await client.query(`LISTEN ${channel}`);
    return async () => {
      await client.query(`UNLISTEN ${channel}`).catch(() => undefined);
      client.release();
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Opens the store: PostgreSQL when a URL is given (several Switchboard processes share it),
 * otherwise embedded PGlite in `dataDir` (in memory when dataDir is ":memory:"; on disk, its worker
 * closes after `idleCloseMs` without queries and reopens on the next). A new embedded database is
 * unpacked from `pgliteTemplate` (default: the build's; null: none, initdb). Applies migrations.
 */
export async function openDb(opts: { databaseUrl?: string; dataDir?: string; idleCloseMs?: number; pgliteTemplate?: string | null }): Promise<Db> {
  const template = opts.pgliteTemplate === undefined ? existingTemplate() : (opts.pgliteTemplate ?? undefined);
  const db = opts.databaseUrl
    ? await PostgresDb.open(opts.databaseUrl)
    : await PgliteDb.open(opts.dataDir === ":memory:" ? undefined : (opts.dataDir ?? defaultDataDir()), opts.idleCloseMs, template);
  await migrate(db);
  return db;
}

/**
 * A migration's statements: each ends with a semicolon at the end of a line, except inside a
 * `$$`-quoted function body. `--` comments are dropped.
 */
export function statementsOf(sql: string): string[] {
  const out: string[] = [];
  let inBody = false;
  let current = "";
  for (const line of sql.replace(/--[^\n]*/g, "").split("\n")) {
    inBody = (line.split("$$").length - 1) % 2 === 1 ? !inBody : inBody;
    current += line + "\n";
    if (!inBody && /;\s*$/.test(line)) {
      out.push(current.trim().replace(/;$/, ""));
      current = "";
    }
  }
  if (current.trim()) out.push(current.trim());
  return out.filter(Boolean);
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
      for (const stmt of statementsOf(sql)) await q(stmt);
      await q("INSERT INTO sb_migrations (id) VALUES ($1)", [i + 1]);
    }
  });
}
