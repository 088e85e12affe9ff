import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const DB = join(import.meta.dirname, "..", "..", "dist", "store", "db.js");

describe("embedded PGlite in a worker thread", () => {
  it("keeps a process alive while a query or the close is in flight, and lets it exit when idle", () => {
    const script = `
      const { openDb } = await import(${JSON.stringify(DB)});
      const db = await openDb({ dataDir: ":memory:" });
      const rows = await db.query("SELECT 41 + 1 AS n");
      console.log("answer", rows[0].n);
      await db.close();
      console.log("closed");
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("answer 42");
    expect(r.stdout).toContain("closed");
  }, 60000);
});
