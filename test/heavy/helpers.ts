// Shared plumbing for the heavy tier: a seeded PRNG, real `serve --http` processes on a chosen
// store, MCP clients against them, and direct reads of the budget tables. Every wait is an awaited
// event (a log line, an exit, a request at a fake) under a generous cap.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import YAML from "yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { openDb, type Db } from "../../src/store/db.js";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "dist", "cli.js");

/** The seed of every heavy suite: HEAVY_SEED=n reproduces a run. */
export const SEED = Number(process.env.HEAVY_SEED ?? 42);

/** mulberry32: a small, fast, seeded PRNG (the same sequence for the same seed, everywhere). */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Prng = ReturnType<typeof prng>;

/** Resolves with `p`, or rejects naming `what` after `ms` (the generous cap on every awaited event). */
export function capped<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

/** The parent's env minus provider keys, URLs and overlays: a child sees only what a suite gives it. */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /(_API_KEY|_API_TOKEN|_TOKEN|_TOKENS|_BASE_URL)$/.test(k) || ["SWITCHBOARD_CONFIG", "LOG_LEVEL", "DATABASE_URL", "SWITCHBOARD_DATA_DIR"].includes(k)) continue;
    out[k] = v;
  }
  return out;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeOverlay(dir: string, overlay: Record<string, unknown>): string {
  const file = join(dir, "overlay.yaml");
  writeFileSync(file, YAML.stringify(overlay));
  return file;
}

export interface ServerProc {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** Resolves when a stderr line matches `re` (lines already seen count), capped at `ms`. */
  waitForLog(re: RegExp, ms?: number): Promise<string>;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `switchboard serve --http --port 0` and resolves once it listens (its URL read from the log). */
export async function startServer(opts: { env: Record<string, string>; overlayFile: string; startMs?: number }): Promise<ServerProc> {
  const child = spawn(process.execPath, [CLI, "serve", "--http", "--port", "0", "--no-watch", "--config", opts.overlayFile], {
    env: { SWITCHBOARD_LOG_LEVEL: "info", ...opts.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const watchers = new Set<() => void>();
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (c: string) => {
    log += c;
    for (const w of [...watchers]) w();
  });
  const exited = once(child, "exit");
  const waitForLog = (re: RegExp, ms = 60_000) =>
    capped(
      new Promise<string>((res, rej) => {
        const check = () => {
          const m = re.exec(log);
          if (m) {
            watchers.delete(check);
            res(m[0]);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            watchers.delete(check);
            rej(new Error(`server exited before logging ${re}:\n${log.slice(-4000)}`));
          }
        };
        watchers.add(check);
        void exited.then(check);
        check();
      }),
      ms,
      `server log ${re}\n${log.slice(-2000)}`,
    );
  const line = await waitForLog(/"url":"http:\/\/127\.0\.0\.1:\d+"/, opts.startMs ?? 90_000).catch((err: unknown) => {
    // A server that did not come up must not outlive the suite.
    child.kill("SIGKILL");
    throw err;
  });
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  return {
    child,
    url,
    stderr: () => log,
    waitForLog,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await capped(exited, 30_000, "the killed server to exit");
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = (await capped(exited, 60_000, "the server to stop")) as [number | null];
      return code;
    },
  };
}

/** An MCP client over Streamable HTTP with a bearer token. */
export async function connectHttp(url: string, token: string, name = "heavy"): Promise<Client> {
  const client = new Client({ name, version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

export interface CallOutcome {
  ok: boolean;
  code?: string;
  costUsd: number;
  /** A transport failure (the server died, the connection reset): no answer came back. */
  lost?: string;
  text: string;
}

/** Calls a tool and classifies the outcome: success (with its cost), structured error code, or no answer. */
export async function callTool(client: Client, name: string, args: unknown, timeoutMs = 120_000): Promise<CallOutcome> {
  try {
    const res = (await client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, { timeout: timeoutMs })) as CallToolResult;
    const first = res.content?.[0];
    const text = first?.type === "text" ? first.text : JSON.stringify(res);
    if (res.isError) {
      let code = "unparsed";
      try {
        code = String((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "unparsed");
      } catch {
        /* a plain-text error: kept as unparsed */
      }
      return { ok: false, code, costUsd: 0, text };
    }
    return { ok: true, costUsd: costOf(res.structuredContent), text };
  } catch (err) {
    const e = err as { code?: number; message?: string };
    // A JSON-RPC error answer is still an answer; -32603 is the SDK's internal error.
    if (typeof e.code === "number") return { ok: false, code: e.code === -32603 ? "internal" : `jsonrpc${e.code}`, costUsd: 0, text: String(e.message) };
    return { ok: false, costUsd: 0, lost: String(e.message ?? err), text: "" };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- run_llm's structured content, read loosely
function costOf(sc: any): number {
  return typeof sc?.costUsd === "number" ? sc.costUsd : 0;
}

/** The tenant's budget rows and reservations, read straight from the store. */
export async function budgetState(db: Db, tenant: string) {
  const spend = await db.query<{ period: string; settled_usd: unknown; reserved_usd: unknown }>("SELECT period, settled_usd, reserved_usd FROM sb_spend WHERE scope = $1 ORDER BY period", [`tenant:${tenant}`]);
  const day = spend.find((r) => r.period.startsWith("day:"));
  const [open] = await db.query<{ n: unknown; amount: unknown }>("SELECT count(*) AS n, coalesce(sum(amount_usd), 0) AS amount FROM sb_reservations WHERE tenant = $1 AND settled_at IS NULL", [tenant]);
  const [reaped] = await db.query<{ n: unknown }>("SELECT count(*) AS n FROM sb_reservations WHERE tenant = $1 AND reaped_at IS NOT NULL", [tenant]);
  const [sum] = await db.query<{ s: unknown }>("SELECT coalesce(sum(actual_usd), 0) AS s FROM sb_reservations WHERE tenant = $1 AND actual_usd IS NOT NULL", [tenant]);
  return {
    settledUsd: Number(day?.settled_usd ?? 0),
    reservedUsd: Number(day?.reserved_usd ?? 0),
    open: Number(open?.n ?? 0),
    openUsd: Number(open?.amount ?? 0),
    reaped: Number(reaped?.n ?? 0),
    actualSumUsd: Number(sum?.s ?? 0),
  };
}

export { openDb };
