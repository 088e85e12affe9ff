// Load generator for bench/http.mjs, forked as its own process so that neither the server nor the
// orchestrating parent shares its event loop. Protocol over IPC:
//   parent -> { type: "level", url, tool, token, sessions, warmupMs, measureMs }
//             tool: "route_task" (Switchboard) or "echo" (the baseline), called with the same prompts
//             (as `prompt`, or as `text`); token: sent as a bearer token to either server.
//   child  -> { type: "measuring" }          (warm-up over, measured window starts)
//   child  -> { type: "measured" }           (sessions still open; parent samples the server)
//   parent -> { type: "continue" }
//   child  -> { type: "result", ... }        (sessions ended with DELETE /mcp and closed)
//   parent -> { type: "exit" }
import { setMaxListeners } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

// Varied, realistic asks: coding, debugging, translation, summarization, math, planning, short
// questions and research. Written for this bench, not taken from the config examples or dev set.
const PROMPTS = [
  "Write a TypeScript function that debounces another function and keeps its argument types.",
  "My Express app returns 413 Payload Too Large when users upload a 3 MB JSON file. How do I fix it?",
  "Why does this Python loop print the same lambda value five times? fns = [lambda: i for i in range(5)]",
  "Translate into Spanish, keeping it friendly: 'Your order has shipped and should arrive on Thursday.'",
  "Summarize this meeting note in three bullet points: " + "We reviewed Q3 churn, agreed to ship the onboarding checklist before the pricing change, and moved the data export to next sprint because the vendor API is late. ".repeat(4),
  "What is the derivative of x^3 * ln(x)?",
  "A train leaves at 14:10 and travels 260 km at 80 km/h. When does it arrive?",
  "Plan a two-week migration of a Postgres 12 database to Postgres 16 with under five minutes of downtime.",
  "What's the capital of Australia?",
  "Find recent peer-reviewed studies on the effect of four-day work weeks on productivity and summarize the evidence.",
  "Refactor this SQL so it stops doing a full table scan: SELECT * FROM orders WHERE DATE(created_at) = '2024-05-01';",
  "Explain the difference between a mutex and a semaphore to a junior developer.",
  "Draft a polite email to a customer explaining that their refund will take 5 to 7 business days.",
  "Translate this German error message and tell me what it means: 'Die Verbindung wurde vom Server zurückgesetzt.'",
  "Segmentation fault in my C program only when compiled with -O2; how should I start debugging it?",
  "Compare Kafka, RabbitMQ and NATS for a team processing 50k events per second, with sources.",
  "Is 1,001 a prime number?",
  "Create a study plan for learning linear algebra in six weeks, one hour a day.",
  "Summarize the key points of the GDPR right to erasure for a product manager.",
  "Write a bash one-liner that finds the ten largest files under the current directory.",
];

// The SDK's HTTP client adds an abort listener per request to its session's signal and keeps it
// until the session closes; thousands of calls per session are this generator's normal load.
setMaxListeners(0);

const quantile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function openSession(url, token) {
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", url), token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : undefined);
  const client = new Client({ name: "bench-http", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

async function endSession({ client, transport }) {
  // client.close() only aborts locally; DELETE /mcp is what frees the session on the server.
  await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

async function runLevel({ url, tool = "route_task", token, sessions, warmupMs, measureMs }) {
  const t0 = performance.now();
  const opened = await Promise.allSettled(Array.from({ length: sessions }, () => openSession(url, token)));
  const args = tool === "echo" ? (prompt) => ({ text: prompt }) : (prompt) => ({ prompt });
  const connectMs = performance.now() - t0;
  const live = opened.filter((o) => o.status === "fulfilled").map((o) => o.value);
  const connectErrors = opened.filter((o) => o.status === "rejected").map((o) => String(o.reason?.message ?? o.reason));

  const measureStart = performance.now() + warmupMs;
  const measureEnd = measureStart + measureMs;
  const latencies = [];
  let errors = 0;
  let warmupCalls = 0;
  const errorSamples = new Map();
  const noteError = (msg) => errorSamples.set(msg, (errorSamples.get(msg) ?? 0) + 1);

  let cpu;
  const marker = setTimeout(() => {
    cpu = process.cpuUsage();
    process.send({ type: "measuring" });
  }, Math.max(0, measureStart - performance.now()));

  const loop = async (s, offset) => {
    // Each session starts at a different prompt so concurrent sessions are not in lockstep.
    for (let i = offset; ; i++) {
      const start = performance.now();
      if (start >= measureEnd) return;
      const measured = start >= measureStart;
      let failed = false;
      try {
        const r = await s.client.callTool({ name: tool, arguments: args(PROMPTS[i % PROMPTS.length]) });
        if (r.isError) {
          failed = true;
          noteError("isError: " + JSON.stringify(r.content).slice(0, 160));
        }
      } catch (err) {
        failed = true;
        noteError("threw: " + String(err?.message ?? err).slice(0, 160));
      }
      const ms = performance.now() - start;
      if (!measured) warmupCalls++;
      else if (failed) errors++;
      else latencies.push(ms);
    }
  };
  await Promise.all(live.map((s, k) => loop(s, k * 7)));
  const wallMs = performance.now() - measureStart;
  clearTimeout(marker);
  const used = process.cpuUsage(cpu);

  process.send({ type: "measured" });
  await new Promise((resolve) => process.once("message", resolve));

  const c0 = performance.now();
  await Promise.all(live.map(endSession));
  const closeMs = performance.now() - c0;

  latencies.sort((a, b) => a - b);
  const calls = latencies.length + errors;
  return {
    tool,
    sessions,
    sessionsOpened: live.length,
    connectErrors: connectErrors.length,
    connectErrorSamples: [...new Set(connectErrors)].slice(0, 3),
    connectMs,
    closeMs,
    warmupCalls,
    calls,
    errors,
    errorSamples: [...errorSamples].slice(0, 5).map(([msg, n]) => `${n}x ${msg}`),
    // Calls started in the window; the last ones finish a little after it, hence wall time.
    throughput: calls / (wallMs / 1000),
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies.length ? latencies[latencies.length - 1] : undefined,
    // Share of one core this process used over the measured window.
    cpu: (used.user + used.system) / 1000 / wallMs,
  };
}

process.on("message", async (msg) => {
  if (msg?.type === "exit") process.exit(0);
  if (msg?.type !== "level") return;
  try {
    const result = await runLevel(msg);
    process.send({ type: "result", ...result });
  } catch (err) {
    process.send({ type: "failed", error: String(err?.stack ?? err) });
  }
});
process.send({ type: "ready" });
