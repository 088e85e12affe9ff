// Resident memory of the stdio server with its store (the Claude Desktop case): after start, and after
// 10,000 route_task and 1,000 run_llm calls, next to a bare echo server on the same SDK.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBenchFake } from "./fake-openai.mjs";
import { rssMbOf, spawnServe } from "./llm.mjs";
import { PGLITE_IDLE_CLOSE_MS } from "../dist/store/db.js";
import { TELEMETRY_QUIET_MS } from "../dist/store/telemetry.js";

const here = dirname(fileURLToPath(import.meta.url));
const GOAL_MB = 150;
/**
 * At rest: the calls' records are imported once calls have been quiet for TELEMETRY_QUIET_MS, then the
 * store closes its worker after PGLITE_IDLE_CLOSE_MS without queries; the margin covers the import and the close.
 */
const REST_MS = TELEMETRY_QUIET_MS + PGLITE_IDLE_CLOSE_MS + 10_000;
const rest = () => new Promise((r) => setTimeout(r, REST_MS));
const PROMPTS = ["Write a Python function that reverses a linked list.", "What is the capital of Peru?", "Plan a 3-day trip to Lisbon on a budget.", "Translate 'good morning' into Japanese."];

async function echoRss() {
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(here, "echo-server.mjs")], stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  await client.listTools();
  for (let i = 0; i < 1000; i++) await client.callTool({ name: "echo", arguments: { text: PROMPTS[i % PROMPTS.length] } });
  const rss = rssMbOf(transport.pid);
  await client.close();
  return rss;
}

export async function benchMemory({ routes = 10_000, llmCalls = 1_000 } = {}) {
  const fake = await startBenchFake();
  const s = await spawnServe({ OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: fake.url });
  await s.client.listTools();
  // The store opens in the background at start; its first use waits for it.
  await s.client.callTool({ name: "usage_report", arguments: {} });
  const startBusy = rssMbOf(s.pid);
  await rest();
  const afterStart = rssMbOf(s.pid);
  let peak = 0;
  for (let i = 0; i < routes; i++) {
    await s.client.callTool({ name: "route_task", arguments: { prompt: `${PROMPTS[i % PROMPTS.length]} (${i})` } });
    if (i % 500 === 0) peak = Math.max(peak, rssMbOf(s.pid));
  }
  for (let i = 0; i < llmCalls; i++) await s.client.callTool({ name: "run_llm", arguments: { prompt: `${PROMPTS[i % PROMPTS.length]} (${i})`, model: "openai:gpt-4.1-mini", maxOutputTokens: 64 } });
  const loadBusy = rssMbOf(s.pid);
  peak = Math.max(peak, loadBusy);
  await rest();
  const afterLoad = rssMbOf(s.pid);
  await s.close();
  const noStore = await spawnServe({ OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: fake.url }, ["--no-store"]);
  await noStore.client.listTools();
  for (let i = 0; i < 1000; i++) await noStore.client.callTool({ name: "route_task", arguments: { prompt: PROMPTS[i % PROMPTS.length] } });
  const noStoreRss = rssMbOf(noStore.pid);
  await noStore.close();
  const echo = await echoRss();
  await fake.close();
  const mark = (mb) => (mb <= GOAL_MB ? "ok" : "MISSED");
  console.log(
    `stdio server resident memory, store on, at rest (the store closes after ${PGLITE_IDLE_CLOSE_MS / 1000} s idle): ${afterStart.toFixed(0)} MB after start (goal ≤ ${GOAL_MB}: ${mark(afterStart)}), ` +
      `${afterLoad.toFixed(0)} MB after ${routes} route_task + ${llmCalls} run_llm (${mark(afterLoad)}) | with the store open: ${startBusy.toFixed(0)} MB after start, ` +
      `${loadBusy.toFixed(0)} MB right after the load (peak ${peak.toFixed(0)}) | --no-store ${noStoreRss.toFixed(0)} MB | bare echo server ${echo.toFixed(0)} MB`,
  );
  return { afterStart, afterLoad, startBusy, loadBusy, peak, noStore: noStoreRss, echo };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory();
