import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { CallFeed } from "../../../src/http/dashboard/feed.js";
import { Runtime } from "../../../src/runtime.js";
import type { Logger } from "../../../src/logger.js";
import { rec } from "./records.js";
import { captureLogger } from "../../helpers/capture-logger.js";

const HOUR = 3_600_000;

const quiet = pino({ level: "silent" }) as unknown as Logger;
const noStore = { onCall: () => () => undefined, store: undefined };

describe("CallFeed ring", () => {
  it("keeps at most `capacity` records, oldest dropped first", () => {
    const feed = new CallFeed(noStore, { capacity: 5 });
    const now = Date.now();
    const all = Array.from({ length: 12 }, (_, i) => rec({ at: new Date(now - 12_000 + i * 1000), requestId: `r${i}` }));
    for (const r of all) feed.push(r);
    expect(feed.size).toBe(5);
    expect(feed.records().map((r) => r.requestId)).toEqual(["r7", "r8", "r9", "r10", "r11"]);
  });

  it("drops records older than maxAgeMs as time passes", () => {
    let now = Date.parse("2026-11-22T12:00:00Z");
    const feed = new CallFeed(noStore, { maxAgeMs: HOUR, now: () => now });
    feed.push(rec({ at: new Date(now - 30 * 60_000), requestId: "old" }));
    feed.push(rec({ at: new Date(now - 1000), requestId: "new" }));
    expect(feed.records().map((r) => r.requestId)).toEqual(["old", "new"]);
    now += 31 * 60_000;
    expect(feed.records().map((r) => r.requestId)).toEqual(["new"]);
    expect(feed.size).toBe(1);
  });

  it("listens to the runtime between start and close", async () => {
    const runtime = new Runtime({ env: {} }, quiet);
    const feed = new CallFeed(runtime);
    await feed.start();
    runtime.recordCall(rec({ at: new Date(), requestId: "live" }));
    feed.close();
    runtime.recordCall(rec({ at: new Date(), requestId: "after-close" }));
    expect(feed.records().map((r) => r.requestId)).toEqual(["live"]);
    await runtime.close();
  });
});

describe("CallFeed seeding from a PGlite store", () => {
  let runtime: Runtime;
  const now = Date.now();

  beforeAll(async () => {
    runtime = new Runtime({ env: {}, store: { dataDir: ":memory:" } }, quiet);
    await runtime.store!.db();
    // Stored before the feed exists: as if written by the previous process.
    for (const r of [
      rec({ at: new Date(now - 25 * HOUR), requestId: "too-old" }),
      rec({ at: new Date(now - 3 * HOUR), requestId: "s1", costUsd: 0.0123, reason: "Signals show debugging", tools: ["timeline_commands"], confidence: 0.5 }),
      rec({ at: new Date(now - 2 * HOUR), requestId: "s2", outcome: "rate_limited", mode: undefined, model: undefined, provider: undefined, reason: undefined }),
      rec({ at: new Date(now - 1 * HOUR), requestId: "s3", prompt: "do not load me", fallbacks: 1 }),
    ]) {
      runtime.store!.record(r);
    }
    await runtime.store!.telemetry.flush();
  }, 60_000);
  afterAll(async () => {
    await runtime.close();
  });

  it("loads the last day, oldest first, under the live records", async () => {
    const feed = new CallFeed(runtime, { log: quiet });
    const started = feed.start(); // subscribes at once
    runtime.recordCall(rec({ at: new Date(), requestId: "live-1" }));
    await started;
    feed.close();
    const ids = feed.records().map((r) => r.requestId);
    expect(ids.slice(0, 3)).toEqual(["s1", "s2", "s3"]);
    expect(ids).not.toContain("too-old");
    expect(ids.at(-1)).toBe("live-1");

    const s1 = feed.records().find((r) => r.requestId === "s1")!;
    expect(s1.costUsd).toBe(0.0123); // numeric comes back as a string
    expect(typeof s1.costUsd).toBe("number");
    expect(s1.at).toBeInstanceOf(Date);
    expect(s1.at.getTime()).toBe(now - 3 * HOUR);
    expect(s1).toMatchObject({ tenant: "default", tool: "route_task", mode: "realtime_assist", model: "openai:gpt-4.1-mini", provider: "openai", reason: "Signals show debugging", tools: ["timeline_commands"], outcome: "ok", latencyMs: 10 });
    expect(s1.confidence).toBeCloseTo(0.5);
    const s2 = feed.records().find((r) => r.requestId === "s2")!;
    expect(s2.outcome).toBe("rate_limited");
    expect(s2.mode).toBeUndefined();
    expect(s2.reason).toBeUndefined();
    const s3 = feed.records().find((r) => r.requestId === "s3")!;
    expect(s3.fallbacks).toBe(1);
    expect(s3.prompt).toBeUndefined();
  });

  it("keeps a record that is both live and stored once, and honours seedLimit", async () => {
    const stored = await (await runtime.store!.db()).query<{ request_id: string; at: Date }>("SELECT request_id, at FROM sb_calls WHERE request_id = 's3'");
    const feed = new CallFeed(runtime, { log: quiet, seedLimit: 2 });
    feed.push(rec({ at: new Date(stored[0]!.at), requestId: "s3", fallbacks: 1 }));
    expect(await feed.seed()).toBeLessThanOrEqual(2);
    const ids = feed.records().map((r) => r.requestId);
    expect(ids.filter((id) => id === "s3")).toHaveLength(1);
    expect(ids).not.toContain("s1"); // beyond the newest two rows
    // seed() runs once.
    expect(await feed.seed()).toBe(await feed.seed());
    expect(feed.records().map((r) => r.requestId)).toEqual(ids);
  });
});

describe("CallFeed seeding failure", () => {
  it("logs, stays empty and does not throw when the database cannot be reached", async () => {
    const { log, lines } = captureLogger();
    const runtime = new Runtime({ env: {}, store: { databaseUrl: "postgres://nobody@127.0.0.1:1/none" } }, quiet);
    const feed = new CallFeed(runtime, { log });
    await expect(feed.start()).resolves.toBeUndefined();
    expect(feed.size).toBe(0);
    const warn = lines.find((l) => l.msg === "dashboard cannot read past calls from the store; it starts empty");
    expect(warn).toBeDefined();
    expect(warn!.level).toBe(40);
    expect(String(warn!.err)).toMatch(/ECONNREFUSED|connect/i);
    // Live records still flow.
    runtime.recordCall(rec({ at: new Date(), requestId: "still-live" }));
    expect(feed.records().map((r) => r.requestId)).toEqual(["still-live"]);
    feed.close();
    await runtime.close();
  });

  it("survives a query that fails", async () => {
    const { log, lines } = captureLogger();
    const broken = {
      onCall: () => () => undefined,
      store: { db: async () => ({ query: async () => Promise.reject(new Error('relation "sb_calls" does not exist')) }) },
    } as unknown as ConstructorParameters<typeof CallFeed>[0];
    const feed = new CallFeed(broken, { log });
    expect(await feed.seed()).toBe(0);
    expect(feed.records()).toEqual([]);
    expect(lines.some((l) => String(l.err).includes("sb_calls"))).toBe(true);
  });
});
