// run_llm overhead against a direct SDK call and against the Portkey gateway, and reroute time, all
// against loopback fakes (no network).
import OpenAI from "openai";
import { writeFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createServer } from "../dist/server.js";
import { Runtime } from "../dist/runtime.js";
import { startBenchFake } from "./fake-openai.mjs";
import { startPortkey } from "./portkey.mjs";
import { shippedNodeArgs } from "./node-args.mjs";
import { interleaved } from "./interleave.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const median = (xs) => q(xs, 0.5);
const fmt = (n) => (Math.abs(n) < 1 ? n.toFixed(3) : n.toFixed(2));
export const rssMbOf = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;

async function connect(env, overlay) {
  const runtime = new Runtime({ env, ...(overlay ? { overlayFile: overlay } : {}) });
  const { server } = createServer({ runtime });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(b);
  return { client, runtime };
}

/** `switchboard serve` over stdio, its embedded store in a fresh temp folder (or none). */
export async function spawnServe(env, extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "sb-bench-db-"));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...shippedNodeArgs(), join(root, "dist/cli.js"), "serve", "--no-watch", ...extraArgs],
    env: { PATH: process.env.PATH ?? "", SWITCHBOARD_LOG_LEVEL: "warn", SWITCHBOARD_DATA_DIR: dataDir, ...env },
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    close: async () => {
      await client.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const REPEATS = 3;
const CALLS = 400;

/**
 * Added latency of one LLM call, side by side in one run: the same request straight through the
 * OpenAI SDK (the floor), through the Portkey gateway, and as run_llm over stdio with the store and
 * budgets on (the default) and with --no-store. Interleaved call by call; each figure is the median
 * over three repeats of that repeat's p50 (or p99) minus the direct call's.
 */
async function addedLatency(primary, env, args) {
  const portkey = await startPortkey();
  const sdk = new OpenAI({ apiKey: "bench-key", baseURL: primary.url, maxRetries: 0 });
  const viaPortkey = new OpenAI({ apiKey: "bench-key", baseURL: portkey.url, maxRetries: 0, defaultHeaders: portkey.headers(primary.url) });
  const body = { model: "gpt-4.1-mini", messages: [{ role: "user", content: args.prompt }], max_completion_tokens: 64 };
  const withStore = await spawnServe(env);
  const noStore = await spawnServe(env, ["--no-store"]);
  const ways = {
    direct: () => sdk.chat.completions.create(body),
    portkey: () => viaPortkey.chat.completions.create(body),
    store: async () => {
      const r = await withStore.client.callTool({ name: "run_llm", arguments: args });
      if (r.isError) throw new Error("run_llm failed: " + JSON.stringify(r.content));
    },
    noStore: () => noStore.client.callTool({ name: "run_llm", arguments: args }),
  };
  const reps = await interleaved(ways, { repeats: REPEATS, calls: CALLS, warmup: 150 });
  const added = (n, p) => median(reps.map((r) => r[n][p] - r.direct[p]));
  const out = {
    portkeyVersion: portkey.version,
    direct: { p50: median(reps.map((r) => r.direct.p50)), p99: median(reps.map((r) => r.direct.p99)) },
    ...Object.fromEntries(["portkey", "store", "noStore"].map((n) => [n, { p50: added(n, "p50"), p99: added(n, "p99") }])),
    rssMb: rssMbOf(withStore.pid),
  };
  await withStore.close();
  await noStore.close();
  await portkey.close();
  return out;
}

export async function benchLlm() {
  const primary = await startBenchFake();
  const backup = await startBenchFake();
  const env = { OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: primary.url, OPENROUTER_API_KEY: "bench-key", OPENROUTER_BASE_URL: backup.url, SWITCHBOARD_LOG_LEVEL: "warn" };
  const args = { prompt: "What is the capital of Peru?", model: "openai:gpt-4.1-mini", maxOutputTokens: 64 };

  // 1. Added latency over a direct SDK call, next to the Portkey gateway's.
  const a = await addedLatency(primary, env, args);
  const ok = (mine, peer) => (mine <= peer ? "≤ Portkey: ok" : "> Portkey: MISSED");
  console.log(
    `LLM call added over a direct SDK call (direct p50 ${fmt(a.direct.p50)} ms, p99 ${fmt(a.direct.p99)} ms; median of ${REPEATS} interleaved repeats of ${CALLS}):\n` +
      `  Portkey gateway ${a.portkeyVersion}:           +${fmt(a.portkey.p50)} ms p50  +${fmt(a.portkey.p99)} ms p99\n` +
      `  run_llm over stdio, store + budgets on: +${fmt(a.store.p50)} ms p50  +${fmt(a.store.p99)} ms p99  (goal: p50 ${ok(a.store.p50, a.portkey.p50)}; p99 ${ok(a.store.p99, a.portkey.p99)})  rss ${a.rssMb.toFixed(0)} MB\n` +
      `  run_llm over stdio, --no-store:         +${fmt(a.noStore.p50)} ms p50  +${fmt(a.noStore.p99)} ms p99`,
  );

  // 2. Reroute when the primary is down. One try per model so the figure is the reroute itself,
  //    not the retry backoff; the breaker opens after 3 failures and then skips the primary.
  const dir = mkdtempSync(join(tmpdir(), "sb-bench-"));
  const overlay = join(dir, "overlay.yaml");
  writeFileSync(overlay, "router:\n  failover:\n    maxAttemptsPerModel: 1\n    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 600000 }\n");
  const healthy = await connect(env, overlay);
  const base = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await healthy.client.callTool({ name: "run_llm", arguments: args });
    base.push(performance.now() - t0);
  }
  await healthy.client.close();
  primary.state.down = true;
  const down = await connect(env, overlay);
  const closed = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await down.client.callTool({ name: "run_llm", arguments: args });
    closed.push(performance.now() - t0);
    if (r.isError) throw new Error("reroute failed: " + JSON.stringify(r.content));
  }
  const open = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const r = await down.client.callTool({ name: "run_llm", arguments: args });
    open.push(performance.now() - t0);
    if (i === 0 && !r.structuredContent.attempts.some((a) => a.outcome === "skipped")) throw new Error("breaker did not open");
  }
  await down.client.close();
  const b50 = q(base, 0.5);
  console.log(
    `reroute past a failing primary: breaker closed +${fmt(q(closed, 0.5) - b50)} ms (call ${fmt(q(closed, 0.5))} ms)  ` +
      `breaker open +${fmt(q(open, 0.5) - b50)} ms at p50, +${fmt(q(open, 0.99) - q(base, 0.99))} ms at p99 (call ${fmt(q(open, 0.5))} ms; healthy call ${fmt(b50)} ms)  (goal: open < 5 ms)`,
  );
  await primary.close();
  await backup.close();
}
