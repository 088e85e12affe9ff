// run_llm overhead and reroute time, against loopback fakes (no network).
import OpenAI from "openai";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createServer } from "../dist/server.js";
import { Runtime } from "../dist/runtime.js";
import { startBenchFake } from "./fake-openai.mjs";

const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (n) => (n < 1 ? n.toFixed(3) : n.toFixed(2));

async function connect(env, overlay) {
  const runtime = new Runtime({ env, ...(overlay ? { overlayFile: overlay } : {}) });
  const { server } = createServer({ runtime });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(b);
  return { client, runtime };
}

export async function benchLlm() {
  const primary = await startBenchFake();
  const backup = await startBenchFake();
  const env = { OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: primary.url, OPENROUTER_API_KEY: "bench-key", OPENROUTER_BASE_URL: backup.url, SWITCHBOARD_LOG_LEVEL: "warn" };
  const args = { prompt: "What is the capital of Peru?", model: "openai:gpt-4.1-mini", maxOutputTokens: 64 };

  // 1. Added latency: run_llm through MCP vs the same call straight through the SDK.
  const sdk = new OpenAI({ apiKey: "bench-key", baseURL: primary.url, maxRetries: 0 });
  const direct = () => sdk.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: args.prompt }], max_completion_tokens: 64 });
  const { client } = await connect(env);
  const viaTool = () => client.callTool({ name: "run_llm", arguments: args });
  for (let i = 0; i < 200; i++) {
    await direct();
    await viaTool();
  }
  const d = [];
  const t = [];
  for (let i = 0; i < 1000; i++) {
    let t0 = performance.now();
    await direct();
    d.push(performance.now() - t0);
    t0 = performance.now();
    await viaTool();
    t.push(performance.now() - t0);
  }
  console.log(
    `run_llm vs direct SDK call (loopback fake): p50 ${fmt(q(t, 0.5))} vs ${fmt(q(d, 0.5))} ms (+${fmt(q(t, 0.5) - q(d, 0.5))} ms, ${(q(t, 0.5) / q(d, 0.5)).toFixed(2)}x)  ` +
      `p99 ${fmt(q(t, 0.99))} vs ${fmt(q(d, 0.99))} ms (+${fmt(q(t, 0.99) - q(d, 0.99))} ms)  (goal: < 2 ms added at p50)`,
  );
  await client.close();

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
