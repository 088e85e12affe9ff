// The alert rules in ops/prometheus: valid for Prometheus (promtool check rules), firing on the
// series they are meant for (promtool test rules), and naming only metric families the server
// really exports. promtool comes with Debian's prometheus package (.ci/run installs it): without
// it the promtool checks are skipped with a printed reason here, and fail in CI.
import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Runtime } from "../../src/runtime.js";
import { createMetrics } from "../../src/http/metrics.js";
import { ALERT_RULES, familiesInRules } from "../helpers/alert-rules.js";

const DIR = join(import.meta.dirname, "..", "..", "ops", "prometheus");
const RULES = readFileSync(ALERT_RULES, "utf8");

function promtool(): string | undefined {
  const found = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (found.status === 0) return "promtool";
  if (process.env.CI) throw new Error("promtool is missing in CI: .ci/run installs Debian's prometheus package, which ships it");
  console.warn("alert-rules: promtool not found (apt-get install prometheus); the promtool checks are skipped here");
  return undefined;
}
const tool = promtool();

describe("ops/prometheus alert rules", () => {
  it.runIf(tool)("pass promtool check rules", () => {
    const out = execFileSync(tool!, ["check", "rules", join(DIR, "alerts.yml")], { encoding: "utf8" });
    expect(out).toMatch(/SUCCESS: 8 rules found/);
  });

  it.runIf(tool)("fire on the series they are meant for, and not on healthy ones (promtool test rules)", () => {
    const r = spawnSync(tool!, ["test", "rules", "alerts.test.yml"], { cwd: DIR, encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it("read only metric families the server exports, and each alert links its runbook", async () => {
    const runtime = new Runtime({ env: {} });
    const metrics = createMetrics(runtime, { sessions: () => ({ streamable: 0, sse: 0 }) });
    const text = await metrics.render();
    metrics.close();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
    const used = familiesInRules(RULES);
    expect(used.length).toBeGreaterThanOrEqual(9);
    expect(used.filter((f) => !exported.has(f))).toEqual([]);
    const alerts = [...RULES.matchAll(/- alert: (\S+)/g)].map((m) => m[1]!);
    const runbook = readFileSync(join(import.meta.dirname, "..", "..", "docs", "operations.md"), "utf8").toLowerCase();
    for (const a of alerts) {
      expect(RULES).toContain(`docs/operations.md#${a.toLowerCase()}`);
      expect(runbook).toContain(`### ${a.toLowerCase()}`);
    }
  });
});

describe("the metrics only the alert rules read", () => {
  it("store_write_failures_total follows the runtime's counts at each scrape; decisions and overrides follow calls", async () => {
    const runtime = new Runtime({ env: {}, store: { dataDir: ":memory:" } });
    const metrics = createMetrics(runtime);
    const value = async (re: RegExp) => Number(re.exec(await metrics.render())?.[1] ?? NaN);
    expect(await value(/switchboard_store_write_failures_total\{kind="telemetry"[^}]*\} (\S+)/)).toBe(0);
    runtime.store!.telemetry.dropped = 3;
    expect(await value(/switchboard_store_write_failures_total\{kind="telemetry"[^}]*\} (\S+)/)).toBe(3);
    runtime.store!.telemetry.dropped = 5;
    expect(await value(/switchboard_store_write_failures_total\{kind="telemetry"[^}]*\} (\S+)/)).toBe(5);
    const base = { at: new Date(), tenant: "default", attempts: 1, fallbacks: 0, latencyMs: 5, inputTokens: 0, outputTokens: 0, costUsd: 0, tools: [], mcpTools: [], outcome: "ok" };
    runtime.recordCall({ ...base, requestId: "a", tool: "run_llm", tier: "default", overridden: false });
    runtime.recordCall({ ...base, requestId: "b", tool: "run_llm", tier: "classifier", overridden: true });
    expect(await value(/switchboard_decisions_total\{tool="run_llm",tier="default"[^}]*\} (\S+)/)).toBe(1);
    expect(await value(/switchboard_overrides_total\{tool="run_llm"[^}]*\} (\S+)/)).toBe(1);
    metrics.close();
    await runtime.close();
  });
});
