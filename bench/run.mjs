// `npm run bench`: every speed and memory figure of the footprint work, each next to its floor or a
// peer measured in the same run (a direct SDK call, the Portkey gateway, a bare echo MCP server).
// Prompts are the team's own config examples (the product's training set), never the dev set.
import { Runtime } from "../dist/runtime.js";
import { benchLlm } from "./llm.mjs";
import { benchCompat } from "./compat.mjs";
import { benchFleet } from "./fleet.mjs";
import { benchStore } from "./store.mjs";
import { benchHttp } from "./http.mjs";
import { benchStdio } from "./stdio.mjs";
import { benchStartup } from "./startup.mjs";
import { benchMemory } from "./memory.mjs";
import { cpus, loadavg } from "node:os";

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fmt = (n) => (n < 1 ? n.toFixed(3) : n.toFixed(2));

function promptSet(runtime) {
  const all = Object.values(runtime.config.tasks).flatMap((t) => t.examples);
  // A fixed, mixed sample: every 3rd example plus a few very long prompts.
  const picked = all.filter((_, i) => i % 3 === 0);
  const long = all.slice(0, 5).map((p) => (p + "\n").repeat(Math.ceil(20000 / p.length)));
  return [...picked, ...long];
}

async function inProcess() {
  const runtime = new Runtime({ env: {} });
  const prompts = promptSet(runtime);
  for (const prompt of prompts.slice(0, 200)) runtime.route({ prompt });
  const times = [];
  for (let round = 0; round < 5; round++) {
    for (const prompt of prompts) {
      const t0 = performance.now();
      runtime.route({ prompt });
      times.push(performance.now() - t0);
    }
  }
  return { n: times.length, p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times), prompts: prompts.length };
}

/**
 * The machine's own jitter: a fixed 0.3 ms busy loop timed the same way. On a shared 2-core VM its
 * p99 shows how much of a tail is scheduling rather than routing.
 */
function jitterFloor(n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    while (performance.now() - t0 < 0.3);
    times.push(performance.now() - t0);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}, node ${process.version}`);
const only = new Set((process.env.BENCH_ONLY ?? "").split(",").filter(Boolean));
const want = (name) => !only.size || only.has(name);
if (want("route")) {
  const ip = await inProcess();
  const floor = jitterFloor(ip.n);
  console.log(`route decision in-process: n=${ip.n} over ${ip.prompts} prompts  p50 ${fmt(ip.p50)} ms  p99 ${fmt(ip.p99)} ms  max ${fmt(ip.max)} ms  (goal: p50 < 0.3 ms)`);
  console.log(`machine jitter floor (0.3 ms busy loop): p50 ${fmt(floor.p50)} ms  p99 ${fmt(floor.p99)} ms`);
}
if (want("stdio")) await benchStdio();
if (want("startup")) await benchStartup();
if (want("llm")) await benchLlm();
if (want("compat")) await benchCompat();
if (want("fleet")) await benchFleet();
if (want("memory")) await benchMemory();
if (want("store")) await benchStore();
if (want("http")) await benchHttp();
