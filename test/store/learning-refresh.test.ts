import { afterEach, describe, expect, it, vi } from "vitest";
import { LearnedPreferences } from "../../src/learning.js";
import { loadConfig } from "../../src/config/load.js";
import { logger } from "../../src/logger.js";
import type { Db } from "../../src/store/db.js";

/** A store that answers every query with no rows and counts them. */
function countingDb(): { db: Db; queries: () => number } {
  let n = 0;
  const db = {
    kind: "pglite",
    query: async () => {
      n++;
      return [];
    },
  } as unknown as Db;
  return { db, queries: () => n };
}

afterEach(() => vi.useRealTimers());

describe("learning's background refresh", () => {
  const config = loadConfig({}).config;

  it("leaves the embedded store alone while this process has written nothing new", async () => {
    vi.useFakeTimers();
    const { db, queries } = countingDb();
    let writes = 10;
    const learning = new LearnedPreferences(async () => db, () => config, logger, () => writes);
    learning.start(1000);
    await vi.advanceTimersByTimeAsync(0);
    const first = queries();
    expect(first).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(queries()).toBe(first);
    writes = 11;
    await vi.advanceTimersByTimeAsync(1000);
    expect(queries()).toBe(2 * first);
    learning.stop();
  });

  it("always refreshes when other processes write too (no count: PostgreSQL)", async () => {
    vi.useFakeTimers();
    const { db, queries } = countingDb();
    const learning = new LearnedPreferences(async () => db, () => config, logger);
    learning.start(1000);
    await vi.advanceTimersByTimeAsync(0);
    const first = queries();
    await vi.advanceTimersByTimeAsync(3000);
    expect(queries()).toBe(4 * first);
    learning.stop();
  });
});

describe("learning once stopped", () => {
  const config = loadConfig({}).config;

  it("neither queries nor warns when a refresh comes after stop (the store's last import, at shutdown)", async () => {
    const { db, queries } = countingDb();
    const warn = vi.spyOn(logger, "warn");
    try {
      const learning = new LearnedPreferences(async () => db, () => config, logger);
      await learning.refresh();
      const before = queries();
      expect(before).toBeGreaterThan(0);
      learning.stop();
      await learning.refresh();
      expect(queries()).toBe(before);
      // The store's warm-up may finish after the runtime began to close: a start after stop stays stopped.
      learning.start(1000);
      await learning.refresh();
      expect(queries()).toBe(before);
      // A store closing under a refresh already in flight is not reported either.
      const closing = new LearnedPreferences(
        async () => {
          closing.stop();
          throw new Error("the store is closed");
        },
        () => config,
        logger,
      );
      await closing.refresh();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
