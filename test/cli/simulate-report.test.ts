import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = join(import.meta.dirname, "..", "..", "dist", "cli.js");
const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SWITCHBOARD_LOG_LEVEL: "error" };
const run = (args: string[], extra: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...env, ...extra }, timeout: 60000 });

describe("switchboard simulate", () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-sim-"));
  const file = join(dir, "rows.jsonl");
  writeFileSync(
    file,
    ["What is the capital of Peru?", "Translate 'thank you' into German.", "Design a fault-tolerant distributed job scheduler with exactly-once semantics; compare three architectures in depth."]
      .map((prompt, i) => JSON.stringify({ id: i, prompt }))
      .join("\n"),
  );

  it("prints the routed-versus-premium table for each daily volume", () => {
    const r = run(["simulate", "--data", file, "--per-day", "1000,5000"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 requests routed; always-premium baseline: \S+/);
    expect(r.stdout).toContain("| 1,000 req/day |");
    expect(r.stdout).toContain("| 5,000 req/day |");
  });

  it("gives JSON whose figures add up", () => {
    const r = run(["simulate", "--data", file, "--per-day", "100", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: number; perRequestUsd: { switchboard: number; premium: number }; perDay: Array<{ switchboardUsd: number; premiumUsd: number; savedUsd: number }> };
    expect(j.rows).toBe(3);
    expect(j.perRequestUsd.switchboard).toBeLessThan(j.perRequestUsd.premium);
    expect(j.perDay[0]!.savedUsd).toBeCloseTo(j.perDay[0]!.premiumUsd - j.perDay[0]!.switchboardUsd, 1);
  });

  it("explains what is missing without --data", () => {
    const r = run(["simulate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("simulate needs --data");
    expect(r.stdout).toBe("");
  });
});

describe("switchboard report", () => {
  it("reports from an empty store in its own data folder", () => {
    const data = mkdtempSync(join(tmpdir(), "sb-report-"));
    const r = run(["report", "--tenant", "default", "--days", "7"], { SWITCHBOARD_DATA_DIR: data });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("tenant default, last 7 days: 0 calls, $0 spent");
  });

  it("refuses an unknown tenant with the valid ones", () => {
    const data = mkdtempSync(join(tmpdir(), "sb-report-"));
    const r = run(["report", "--tenant", "nobody"], { SWITCHBOARD_DATA_DIR: data });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown tenant \\"nobody\\"');
  });
});
