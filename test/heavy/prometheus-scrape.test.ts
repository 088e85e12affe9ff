// A real Prometheus scrapes a live Switchboard server (its /metrics behind the admin token) with
// the alert rules loaded: every metric family the rules read is there, and every rule evaluates.
// Debian's prometheus package provides the binary (.ci/run installs it); without it the test is
// skipped with a printed reason, and in CI it fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";
import { ALERT_RULES as RULES, familiesInRules } from "../helpers/alert-rules.js";

function prometheusBinary(): string | undefined {
  if (spawnSync("prometheus", ["--version"]).status === 0) return "prometheus";
  if (process.env.CI) throw new Error("prometheus is missing in CI: .ci/run installs Debian's prometheus package");
  console.warn("prometheus-scrape: the prometheus binary is not installed (apt-get install prometheus); skipped");
  return undefined;
}
const binary = prometheusBinary();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Asks Prometheus until `check` holds; Prometheus offers no event to wait on, so a capped poll. */
async function until<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean, capMs = 90_000): Promise<T> {
  const deadline = Date.now() + capMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await get();
      if (check(last)) return last;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${capMs / 1000} s; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.runIf(binary)("Prometheus scraping a live server", () => {
  let sb: CompatServer;
  let prom: ChildProcess;
  let promUrl = "";
  let dir = "";

  beforeAll(async () => {
    sb = await startCompatServer();
    // Traffic that makes every family the rules read appear: answers with spend and tokens, a
    // named model (an override), bad input (an error), and a provider failing into a fallback
    // until its breaker opens.
    const client = new OpenAI({ apiKey: TOKENS.default, baseURL: `${sb.handle.url}/v1`, maxRetries: 0 });
    sb.fakes.openai.setDefault({ text: "fine", usage: { input: 1000, output: 500 } });
    sb.fakes.anthropic.setDefault({ text: "fine from the backup", usage: { input: 1000, output: 500 } });
    await client.chat.completions.create({ model: "openai:gpt-4.1-mini", messages: [{ role: "user", content: "hello" }] });
    await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "What is the capital of Peru?" }] }).catch(() => undefined);
    await client.chat.completions.create({ model: "auto", messages: [] }).catch(() => undefined);
    for (let i = 0; i < 40; i++) sb.fakes.openai.enqueue({ fault: { kind: "status", status: 503 } });
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Write a haiku about rain." }] }).catch(() => undefined);

    dir = mkdtempSync(join(tmpdir(), "sb-prom-"));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(sb.handle.url).host;
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        `rule_files: ["${RULES}"]`,
        "scrape_configs:",
        "  - job_name: switchboard",
        "    metrics_path: /metrics",
        `    authorization: { type: Bearer, credentials: "${TOKENS.admin}" }`,
        `    static_configs: [{ targets: ["${target}"] }]`,
        "",
      ].join("\n"),
    );
    prom = spawn(binary!, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
  }, 180_000);

  afterAll(async () => {
    prom?.kill();
    await sb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("scrapes the server and sees every metric family the alert rules read", async () => {
    const families = familiesInRules(readFileSync(RULES, "utf8"));
    const up = await until("the scrape target up", () => fetch(`${promUrl}/api/v1/query?query=up`).then((r) => r.json() as Promise<{ data?: { result?: Array<{ value: [number, string] }> } }>), (j: { data?: { result?: Array<{ value: [number, string] }> } }) => j.data?.result?.[0]?.value[1] === "1");
    expect(up).toBeTruthy();
    const names = await until(
      "every family the rules read",
      async () => ((await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data,
      (have) => families.every((f) => have.includes(f) || have.includes(`${f}_bucket`)),
    );
    expect(families.filter((f) => !names.includes(f) && !names.includes(`${f}_bucket`))).toEqual([]);
  }, 120_000);

  it("loads the eight rules and evaluates each without error", async () => {
    type Rules = { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const rules = await until(
      "the rules evaluated",
      async () => ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Rules).data.groups.flatMap((g) => g.rules),
      (rs) => rs.length === 8 && rs.every((r) => r.health === "ok"),
    );
    expect(rules.map((r) => r.name)).toContain("SwitchboardBreakerOpen");
  }, 120_000);
});
