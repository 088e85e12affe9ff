// The embedded store on disk takes call records from a journal: a burst of calls writes lines to a
// file and never wakes the store; a reader (flush) imports them; a crashed process's journal is
// imported at the next start; a torn last line is skipped, the rest kept.
import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logger } from "../../src/logger.js";
import { Store } from "../../src/store/store.js";
import type { CallRecord } from "../../src/store/telemetry.js";

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-tel-journal-"));
  dirs.push(dir);
  return dir;
}

function open(dataDir: string): Store {
  const s = new Store({ dataDir }, logger);
  stores.push(s);
  return s;
}

const call = (i: number): CallRecord => ({
  requestId: `req-${i}`, at: new Date(Date.UTC(2026, 10, 30, 12, 0, i)), tenant: "default", tool: "route_task", mode: "realtime_assist", model: "openai:gpt-4.1-mini",
  provider: "openai", attempts: 1, fallbacks: 0, latencyMs: 1.4, inputTokens: 10, outputTokens: 5, costUsd: 0.0001, tools: [], mcpTools: ["memory.*"], outcome: "ok", overridden: false,
  reason: i === 3 ? "text with a NUL \u0000 in it" : "fits",
});

async function rows(s: Store): Promise<Array<{ request_id: string; latency_ms: number; mcp_tools: string[]; reason: string }>> {
  return (await s.db()).query("SELECT request_id, latency_ms, mcp_tools, reason FROM sb_calls ORDER BY at");
}

describe("telemetry through a journal (embedded store on disk)", () => {
  it("a burst only appends to the journal; a flush imports every record, typed and storable", async () => {
    const dir = tempDir();
    const s = open(join(dir, "db"));
    let imports = 0;
    s.telemetry.afterImport = () => imports++;
    for (let i = 0; i < 5; i++) s.record(call(i));
    expect(s.telemetry.written).toBe(0);
    const journal = `${join(dir, "db")}.journal`;
    expect(readdirSync(journal)).toContain("telemetry.jsonl");
    await s.telemetry.flush();
    expect(s.telemetry.written).toBe(5);
    // Readers of the calls (learning) are told while the store is awake; an empty flush tells no one.
    expect(imports).toBe(1);
    await s.telemetry.flush();
    expect(imports).toBe(1);
    expect(readdirSync(journal).filter((f) => f.startsWith("telemetry"))).toEqual([]);
    const got = await rows(s);
    expect(got.map((r) => r.request_id)).toEqual(["req-0", "req-1", "req-2", "req-3", "req-4"]);
    expect(got[0]).toMatchObject({ latency_ms: 1, mcp_tools: ["memory.*"] });
    expect(got[3]!.reason).toBe("text with a NUL \uFFFD in it");
  }, 60_000);

  it("imports by itself once the calls have been quiet for a moment", async () => {
    const s = open(join(tempDir(), "db"));
    s.record(call(1));
    const t0 = Date.now();
    while (s.telemetry.written < 1 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
    expect(s.telemetry.written).toBe(1);
    expect((await rows(s)).map((r) => r.request_id)).toEqual(["req-1"]);
  }, 60_000);

  it("imports what a crashed process journaled at the next start, skipping a torn last line", async () => {
    const dir = tempDir();
    const data = join(dir, "db");
    const first = open(data);
    await first.db();
    for (let i = 0; i < 3; i++) first.record(call(i));
    // A kill -9 here: the process never flushed, and its last append was cut short.
    appendFileSync(join(`${data}.journal`, "telemetry.jsonl"), '{"request_id":"torn","at":');
    stores.pop();
    first.telemetry.close();
    await (await first.db()).close();
    const second = open(data);
    await second.telemetry.flush();
    expect((await rows(second)).map((r) => r.request_id)).toEqual(["req-0", "req-1", "req-2"]);
    expect(existsSync(join(`${data}.journal`, "telemetry.jsonl"))).toBe(false);
  }, 60_000);
});
