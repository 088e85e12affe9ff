// A new embedded store starts from the build's template (an initialized data folder) instead of
// initdb, in memory and on disk; one it cannot read is reported and initdb runs instead, so a
// dist/ built by another PGlite version still opens; an existing folder is opened as it is.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../src/store/db.js";
import { PGLITE_TEMPLATE } from "../../src/store/pglite-template.js";

const root = mkdtempSync(join(tmpdir(), "sb-pglite-template-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const made = (db: Db) => (db as Db & { createdFrom: string }).createdFrom;
const migrated = async (db: Db) => Number((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM sb_migrations"))[0]!.n);

describe("the embedded store's template", () => {
  it("is what a new store in memory starts from, migrated and usable", { timeout: 60_000 }, async () => {
    const db = await openDb({ dataDir: ":memory:" });
    try {
      expect(made(db)).toBe("template");
      expect(await migrated(db)).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it("makes a new data folder, which then opens as it is and keeps its rows", { timeout: 60_000 }, async () => {
    const dataDir = join(root, "disk");
    let db = await openDb({ dataDir });
    expect(made(db)).toBe("template");
    await db.query("CREATE TABLE kept (v text)");
    await db.query("INSERT INTO kept VALUES ('across a restart')");
    await db.close();
    db = await openDb({ dataDir });
    try {
      expect(made(db)).toBe("existing");
      expect(await db.query("SELECT v FROM kept")).toEqual([{ v: "across a restart" }]);
    } finally {
      await db.close();
    }
  });

  // initdb is the slow path these cases take on purpose: several seconds each, many more on a loaded machine.
  for (const [where, dataDir] of [["in memory", ":memory:"], ["on disk", join(root, "fallback")]] as const) {
    it(`that cannot be read gives way to initdb (${where})`, { timeout: 120_000 }, async () => {
      const bad = join(root, "bad.tar.gz");
      writeFileSync(bad, "not a tarball");
      const db = await openDb({ dataDir, pgliteTemplate: bad });
      try {
        expect(made(db)).toBe("initdb");
        expect(await migrated(db)).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    });
  }

  it("is left out when asked (null): initdb", { timeout: 120_000 }, async () => {
    const db = await openDb({ dataDir: ":memory:", pgliteTemplate: null });
    try {
      expect(made(db)).toBe("initdb");
      expect(PGLITE_TEMPLATE.endsWith("pglite-template.tar.gz")).toBe(true);
    } finally {
      await db.close();
    }
  });
});
