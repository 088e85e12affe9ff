import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
const t = new StdioClientTransport({ command: process.execPath, args: ["--no-regexp-tier-up", "dist/cli.js", "serve", "--no-watch", "--bench-echo", ...(process.env.NOSTORE ? ["--no-store"] : [])], env: { PATH: process.env.PATH, HOME: "/tmp/peekhome3", SWITCHBOARD_DATA_DIR: "/tmp/peekhome3/d", SWITCHBOARD_LOG_LEVEL: "warn" }, stderr: "inherit" });
const c = new Client({ name: "p", version: "1" });
await c.connect(t);
const P = ["Write a Python function that reverses a linked list.", "What is the capital of Peru?", "Plan a 3-day trip to Lisbon on a budget.", "Translate 'good morning' into Japanese.", "Summarize the following article:\n" + "The council met on Tuesday to discuss the budget. ".repeat(30)];
const dm = [], rt = [], ert = [];
for (let i = 0; i < 2500; i++) { const t0 = performance.now(); const r = await c.callTool({ name: "route_task", arguments: { prompt: P[i % 5] } }); const t1 = performance.now(); await c.callTool({ name: "echo", arguments: { text: P[i % 5] } }); const t2 = performance.now(); if (i >= 500) { dm.push(r.structuredContent.decisionMs); rt.push(t1 - t0); ert.push(t2 - t1); } }
const q = (a, p = 0.5) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length * p)].toFixed(3); };
console.log("decisionMs p50", q(dm), "p90", q(dm, 0.9), "route rt", q(rt), "echo rt", q(ert));
await c.close();
