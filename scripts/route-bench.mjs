// Times runtime.route over every third config example: one warm-up pass, then R rounds (default 5).
// Prints p50, p90 and mean in ms per decision, and the process's CPU time per decision. The machine is shared: run it a few times and compare medians.
//   node scripts/route-bench.mjs            R=10 node scripts/route-bench.mjs
import { Runtime } from "../dist/runtime.js";

const runtime = new Runtime({ env: {} });
const all = Object.values(runtime.config.tasks).flatMap((t) => t.examples);
const prompts = all.filter((_, i) => i % 3 === 0);
for (const prompt of prompts) runtime.route({ prompt });
const rounds = Number(process.env.R ?? 5);
const t = [];
const cpu0 = process.cpuUsage();
for (let r = 0; r < rounds; r++) {
  for (const prompt of prompts) {
    const t0 = performance.now();
    runtime.route({ prompt });
    t.push(performance.now() - t0);
  }
}
// CPU time per decision: less disturbed than wall time when another process shares the cores.
const cpu = process.cpuUsage(cpu0);
t.sort((a, b) => a - b);
const at = (q) => t[Math.min(t.length - 1, Math.floor(t.length * q))].toFixed(4);
console.log(`n ${t.length} p50 ${at(0.5)} p90 ${at(0.9)} mean ${(t.reduce((a, b) => a + b, 0) / t.length).toFixed(4)} cpu ${((cpu.user + cpu.system) / 1000 / t.length).toFixed(4)}`);
process.exit(0);
