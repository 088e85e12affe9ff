// Footprint and overhead over stdio: the size of tools/list, and route_task's latency against a bare
// echo tool on the same server and transport.
//   Server: `node dist/cli.js serve --no-watch --bench-echo` with the store on (the default), its data
//     in a temporary HOME / SWITCHBOARD_DATA_DIR removed afterwards, so the user's own store is not
//     touched. The `echo` tool (registered only by --bench-echo) returns its text argument.
//   Client: the MCP SDK's stdio client. tools/list is measured as the JSON of the whole result,
//     Switchboard's own tools only (echo left out), against the 16 KB goal.
//   Latency: a warm-up, then route_task and echo calls interleaved (route then echo, echo then route
//     on the next repeat) with the same prompts; three repeats, p50/p99 of each, and the ratio as the
//     median of the three repeats' p50 ratios (goal: 1.3x or less).
// Runs from bench/run.mjs, or alone: `node bench/stdio.mjs` (after `npm run build`).
// BENCH_STDIO_CALLS: measured calls per tool per repeat (default 400). BENCH_STDIO_REPEATS (default 3).
// BENCH_STDERR=1 shows the server's stderr (its warnings, or what a --require'd probe prints).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { shippedNodeArgs } from "./node-args.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, "..");
const LIST_GOAL_KB = 16;
const RATIO_GOAL = 1.3;
const PROMPTS = [
  "Write a Python function that reverses a linked list.",
  "What is the capital of Peru?",
  "Plan a 3-day trip to Lisbon on a budget.",
  "Translate 'good morning' into Japanese.",
  "Summarize the following article:\n" + "The council met on Tuesday to discuss the budget. ".repeat(30),
];

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n) => (n < 1 ? n.toFixed(3) : n.toFixed(2));

/**
 * Starts the server, measures, stops it, and returns the figures:
 * { toolsList: { bytes, kb, goalKb, perTool: {name: bytes} }, route: {p50, p99}, echo: {p50, p99},
 *   ratio: {p50, p99, repeats: [{route, echo, p50}]}, payload: {bytes, structuredBytes, textBytes} }.
 * Options: root (the package whose dist/cli.js runs; default this repository), calls, repeats, quiet,
 * nodeArgs (for the server's node, e.g. --cpu-prof).
 */
export async function benchStdio(opts = {}) {
  const root = opts.root ?? ROOT;
  const calls = opts.calls ?? Number(process.env.BENCH_STDIO_CALLS ?? 400);
  const repeats = opts.repeats ?? Number(process.env.BENCH_STDIO_REPEATS ?? 3);
  const log = opts.quiet ? () => undefined : (s) => console.log(s);
  const home = mkdtempSync(join(tmpdir(), "switchboard-bench-stdio-"));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(opts.nodeArgs ?? shippedNodeArgs()), join(root, "dist/cli.js"), "serve", "--no-watch", "--bench-echo"],
    // A clean environment: no provider keys, no user config, the store in the temporary directory.
    env: { PATH: process.env.PATH ?? "", HOME: home, XDG_DATA_HOME: join(home, ".local", "share"), SWITCHBOARD_DATA_DIR: join(home, "data"), SWITCHBOARD_LOG_LEVEL: "warn" },
    stderr: process.env.BENCH_STDERR ? "inherit" : "ignore",
  });
  const client = new Client({ name: "bench-stdio", version: "1.0.0" });
  try {
    await client.connect(transport);

    const list = await client.listTools();
    const own = list.tools.filter((t) => t.name !== "echo");
    const bytes = Buffer.byteLength(JSON.stringify({ ...list, tools: own }));
    const perTool = Object.fromEntries(own.map((t) => [t.name, Buffer.byteLength(JSON.stringify(t))]));
    const toolsList = { bytes, kb: bytes / 1024, goalKb: LIST_GOAL_KB, perTool };

    const route = (i) => client.callTool({ name: "route_task", arguments: { prompt: PROMPTS[i % PROMPTS.length] } });
    const echo = (i) => client.callTool({ name: "echo", arguments: { text: PROMPTS[i % PROMPTS.length] } });
    const sample = await route(0);
    const payload = {
      bytes: Buffer.byteLength(JSON.stringify(sample)),
      structuredBytes: Buffer.byteLength(JSON.stringify(sample.structuredContent ?? {})),
      textBytes: sample.content.filter((c) => c.type === "text").reduce((n, c) => n + Buffer.byteLength(c.text), 0),
    };
    for (let i = 0; i < 200; i++) {
      await route(i);
      await echo(i);
    }

    const timed = async (fn, i, into) => {
      const t0 = performance.now();
      await fn(i);
      into.push(performance.now() - t0);
    };
    const allRoute = [];
    const allEcho = [];
    const runs = [];
    for (let rep = 0; rep < repeats; rep++) {
      const r = [];
      const e = [];
      for (let i = 0; i < calls; i++) {
        // Interleaved so both see the same machine state; the order flips each repeat.
        if (rep % 2 === 0) {
          await timed(route, i, r);
          await timed(echo, i, e);
        } else {
          await timed(echo, i, e);
          await timed(route, i, r);
        }
      }
      allRoute.push(...r);
      allEcho.push(...e);
      const run = { route: { p50: quantile(r, 0.5), p99: quantile(r, 0.99) }, echo: { p50: quantile(e, 0.5), p99: quantile(e, 0.99) } };
      runs.push({ ...run, p50: run.route.p50 / run.echo.p50, p99: run.route.p99 / run.echo.p99 });
    }
    const result = {
      toolsList,
      payload,
      route: { p50: quantile(allRoute, 0.5), p99: quantile(allRoute, 0.99) },
      echo: { p50: quantile(allEcho, 0.5), p99: quantile(allEcho, 0.99) },
      ratio: { p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)), goal: RATIO_GOAL, repeats: runs },
    };

    const verdict = (ok) => (ok ? "ok" : "OVER");
    log(
      `tools/list over stdio: ${toolsList.kb.toFixed(1)} KB (${bytes} bytes, ${own.length} tools; goal <= ${LIST_GOAL_KB} KB: ${verdict(toolsList.kb <= LIST_GOAL_KB)})  ` +
        Object.entries(perTool)
          .map(([n, b]) => `${n} ${(b / 1024).toFixed(1)}`)
          .join(", "),
    );
    log(
      `route_task over stdio (store on): p50 ${fmt(result.route.p50)} ms  p99 ${fmt(result.route.p99)} ms | echo: p50 ${fmt(result.echo.p50)} ms  p99 ${fmt(result.echo.p99)} ms | ` +
        `ratio p50 ${result.ratio.p50.toFixed(2)}x  p99 ${result.ratio.p99.toFixed(2)}x (median of ${repeats} interleaved repeats: ${runs.map((x) => x.p50.toFixed(2)).join(", ")}; ` +
        `goal p50 <= ${RATIO_GOAL}x: ${verdict(result.ratio.p50 <= RATIO_GOAL)})  payload ${payload.bytes} bytes`,
    );
    return result;
  } finally {
    await client.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchStdio();
}
