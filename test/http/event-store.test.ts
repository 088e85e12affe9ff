import { describe, expect, it } from "vitest";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { EventBudget, SessionEventStore } from "../../src/http/event-store.js";

const result = (id: number, text = "x"): JSONRPCMessage => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } });

async function replay(store: SessionEventStore, after: string): Promise<Array<[string, JSONRPCMessage]>> {
  const sent: Array<[string, JSONRPCMessage]> = [];
  await store.replayEventsAfter(after, { send: async (id, m) => void sent.push([id, m]) });
  return sent;
}

describe("resumable event store", () => {
  it("replays what followed a priming event, which is not stored itself", async () => {
    const store = new SessionEventStore(new EventBudget());
    const priming = await store.storeEvent("s1", {} as JSONRPCMessage);
    const other = await store.storeEvent("s2", result(9));
    const answer = await store.storeEvent("s1", result(1));
    expect(store.size).toBe(2);
    expect(await store.getStreamIdForEventId(priming)).toBe("s1");
    const sent = await replay(store, priming);
    expect(sent).toEqual([[answer, result(1)]]);
    expect(other).not.toBe(answer);
    expect(await replay(store, answer)).toEqual([]);
  });

  it("keeps at most maxEventsPerSession events per session, dropping the oldest", async () => {
    const budget = new EventBudget({ maxEventsPerSession: 3 });
    const store = new SessionEventStore(budget);
    const first = await store.storeEvent("s", {} as JSONRPCMessage);
    for (let i = 1; i <= 10; i++) await store.storeEvent("s", result(i));
    expect(store.size).toBe(3);
    expect(budget.usage().events).toBe(3);
    expect((await replay(store, first)).map(([, m]) => (m as { id: number }).id)).toEqual([8, 9, 10]);
  });

  it("keeps at most maxBytes across sessions, the oldest events of any session going first", async () => {
    // What the budget counts for one event: its serialized characters.
    const one = JSON.stringify(result(1, "a".repeat(1000))).length;
    const budget = new EventBudget({ maxBytes: one * 4 + 10, maxEventsPerSession: 100 });
    const a = new SessionEventStore(budget);
    const b = new SessionEventStore(budget);
    const startA = await a.storeEvent("a", {} as JSONRPCMessage);
    const startB = await b.storeEvent("b", {} as JSONRPCMessage);
    for (let i = 1; i <= 3; i++) await a.storeEvent("a", result(i, "a".repeat(1000)));
    for (let i = 1; i <= 3; i++) await b.storeEvent("b", result(i, "a".repeat(1000)));
    expect(budget.usage().events).toBe(4);
    expect(budget.usage().bytes).toBeLessThanOrEqual(one * 4 + 10);
    expect(a.size + b.size).toBe(4);
    expect((await replay(a, startA)).map(([, m]) => (m as { id: number }).id)).toEqual([3]);
    expect((await replay(b, startB)).map(([, m]) => (m as { id: number }).id)).toEqual([1, 2, 3]);
  });

  it("drops events past their time to live", async () => {
    let now = 1_000_000;
    const budget = new EventBudget({ ttlMs: 60_000, now: () => now });
    const store = new SessionEventStore(budget);
    const start = await store.storeEvent("s", {} as JSONRPCMessage);
    await store.storeEvent("s", result(1));
    now += 30_000;
    await store.storeEvent("s", result(2));
    now += 40_000;
    // The first is 70 s old, the second 40 s.
    expect((await replay(store, start)).map(([, m]) => (m as { id: number }).id)).toEqual([2]);
    now += 30_000;
    budget.expire();
    expect(store.size).toBe(0);
    expect(budget.usage()).toEqual({ events: 0, bytes: 0 });
  });

  it("releases a session's events when it closes, and keeps none after", async () => {
    const budget = new EventBudget();
    const a = new SessionEventStore(budget);
    const b = new SessionEventStore(budget);
    for (let i = 1; i <= 5; i++) {
      await a.storeEvent("a", result(i));
      await b.storeEvent("b", result(i));
    }
    a.close();
    expect(a.size).toBe(0);
    expect(budget.usage().events).toBe(5);
    await a.storeEvent("a", result(6));
    expect(a.size).toBe(0);
    b.close();
    expect(budget.usage()).toEqual({ events: 0, bytes: 0 });
  });

  it("stays bounded under churn: many sessions opening, storing and closing", async () => {
    const budget = new EventBudget({ maxEventsPerSession: 5, maxBytes: 50_000 });
    for (let s = 0; s < 200; s++) {
      const store = new SessionEventStore(budget);
      for (let i = 0; i < 50; i++) await store.storeEvent(`s${s}`, result(i, "y".repeat(200)));
      expect(store.size).toBeLessThanOrEqual(5);
      expect(budget.usage().bytes).toBeLessThanOrEqual(50_000);
      if (s % 2) store.close();
    }
    expect(budget.usage().bytes).toBeLessThanOrEqual(50_000);
  });
});
