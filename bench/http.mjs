// Streamable HTTP overhead: Switchboard's route_task against an echo McpServer on the same SDK
// transport, side by side in one run. Per mode (stateful sessions, then stateless) both servers run
// at once and the levels interleave (Switchboard then echo, echo then Switchboard on the next
// repeat), three repeats; a ratio is the median of the three. Processes: the servers, a load
// generator (bench/http-load.mjs, MCP SDK clients in closed loops) and this one, which orchestrates
// and samples the servers' memory and CPU.
//   Switchboard: `switchboard serve --http [--stateless]` with its default config (store on, in a
//     temporary data dir) and a bearer token configured, so auth is on and every request carries it.
//   Echo: `node bench/http.mjs --echo-server [--stateless]`: the SDK's createMcpExpressApp (Host
//     validation, express.json) with a StreamableHTTPServerTransport per session (stateful) or a
//     fresh McpServer and transport per POST (stateless, as the SDK's example does), one `echo`
//     tool. The client sends it the same Authorization header and the prompt as `text`.
// Runs from bench/run.mjs, or alone: `node bench/http.mjs` (after `npm run build`).
// BENCH_HTTP_SECONDS: measured seconds per level (default 4; warm-up 1 s). BENCH_HTTP_REPEATS
// (default 3). BENCH_HTTP_MODES: "stateful,stateless" (default both). BENCH_HTTP_STORE=off runs
// Switchboard with --no-store. BENCH_ECHO_NODE_ARGS: node flags for the echo server (e.g. --cpu-prof, to
// profile it as startServer's nodeArgs profile Switchboard).
import { spawn, fork, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { shippedNodeArgs } from "./node-args.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const LEVELS = [1, 16, 64];
const THROUGHPUT_GOAL = 0.9;
const RSS_GOAL_MB = 250;
// The load's token is a tenant's (auth on, like a deployed server); the admin one reads /metrics.
export const TOKEN = "bench-" + randomUUID();
const ADMIN_TOKEN = "bench-admin-" + randomUUID();
const fmt = (n) => (n === undefined ? "-" : n < 1 ? n.toFixed(3) : n.toFixed(2));
const pct = (x) => (x === undefined ? "-" : `${Math.round(x * 100)}%`);
const mb = (bytes) => (bytes === undefined ? "-" : (bytes / 1024 / 1024).toFixed(0));
const median = (xs) => {
  const s = xs.filter((x) => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : undefined;
};

/** The resident set of a process in bytes: /proc on Linux, `ps` elsewhere. */
function rssOf(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux, or the process is gone: try ps
  }
  try {
    const kb = Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
    return Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used (Linux /proc; undefined elsewhere). */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine, to show what else competed for the cores. */
function machineCpu() {
  try {
    const [, ...t] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const idle = t[3] + (t[4] ?? 0);
    const total = t.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Switchboard's own memory figures from /metrics (admin-only). */
async function serverMetrics(server) {
  if (server.kind !== "switchboard") return {};
  try {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    const read = (name) => {
      const m = new RegExp(`^switchboard_${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return { heapUsed: read("nodejs_heap_size_used_bytes"), heapTotal: read("nodejs_heap_size_total_bytes") };
  } catch {
    return {};
  }
}

async function healthSessions(server) {
  if (server.kind !== "switchboard") return undefined;
  try {
    const s = (await (await fetch(`${server.url}/healthz`)).json()).sessions;
    return s.streamable + s.sse;
  } catch {
    return undefined;
  }
}

/**
 * Starts a server on a free port and resolves once its "serving over HTTP" line names the URL.
 * `env`: more environment for Switchboard (provider keys and base URLs). Its token is `TOKEN`.
 * `nodeArgs`: node's flags for Switchboard (default: as it ships; e.g. --cpu-prof to profile it).
 */
export function startServer(kind, stateless, env = {}, nodeArgs = shippedNodeArgs()) {
  const args =
    kind === "switchboard"
      ? [...nodeArgs, join(root, "dist/cli.js"), "serve", "--http", "--port", "0", "--no-watch", ...(process.env.BENCH_HTTP_STORE === "off" ? ["--no-store"] : []), ...(stateless ? ["--stateless"] : [])]
      : [...(process.env.BENCH_ECHO_NODE_ARGS ?? "").split(" ").filter(Boolean), fileURLToPath(import.meta.url), "--echo-server", ...(stateless ? ["--stateless"] : [])];
  const dataDir = kind === "switchboard" ? mkdtempSync(join(tmpdir(), "switchboard-bench-")) : undefined;
  const child = spawn(process.execPath, args, {
    // Info level for the URL line; Switchboard also logs each session opened and ended, nothing per call.
    env: { PATH: process.env.PATH ?? "", SWITCHBOARD_LOG_LEVEL: "info", SWITCHBOARD_TOKENS: `default=${TOKEN}`, SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN, ...(dataDir ? { SWITCHBOARD_DATA_DIR: dataDir } : {}), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log = { opened: 0, ended: 0, warnings: [], exited: new Promise((r) => child.once("exit", (code, signal) => r({ code, signal }))) };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not report its URL within 120 s`)), 120_000);
    child.once("exit", (code) => reject(new Error(`${kind} server exited early (code ${code}): ${log.warnings.join(" | ")}`)));
    // Read stderr to the end: the logger writes synchronously, so an unread pipe would stall the server.
    createInterface({ input: child.stderr }).on("line", (line) => {
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        log.warnings.push(line.slice(0, 200));
        return;
      }
      if (rec.msg === "MCP session opened") log.opened++;
      else if (rec.msg === "MCP session ended") log.ended++;
      else if (rec.level >= 40) log.warnings.push(`${rec.msg}${rec.err ? `: ${rec.err}` : ""}`);
      if (/serving over HTTP$/.test(rec.msg ?? "") && rec.url) {
        clearTimeout(timer);
        resolve({ kind, stateless, child, pid: child.pid, url: rec.url, log, dataDir, tool: kind === "switchboard" ? "route_task" : "echo" });
      }
    });
  });
}

export async function stopServer({ child, log, dataDir }) {
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const exit = await log.exited;
  clearTimeout(killer);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  return exit;
}

function startLoadGenerator() {
  const child = fork(join(here, "http-load.mjs"), [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMsg = (m) => {
        if (m?.type === type) done(() => resolve(m));
        else if (m?.type === "failed") done(() => reject(new Error("load generator failed: " + m.error)));
      };
      const onExit = (code) => done(() => reject(new Error(`load generator exited (code ${code})`)));
      const done = (f) => {
        child.off("message", onMsg);
        child.off("exit", onExit);
        f();
      };
      child.on("message", onMsg);
      child.once("exit", onExit);
    });
  return { child, next };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One level against one server: throughput, latency, the server's CPU and RSS loaded, peak and after. */
async function runLevel(gen, server, sessions, { seconds, warmupMs }) {
  const { pid } = server;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid) ?? 0)), 200);
  sampler.unref();
  const measuring = gen.next("measuring");
  const measured = gen.next("measured");
  gen.child.send({ type: "level", url: server.url, tool: server.tool, token: TOKEN, sessions, warmupMs, measureMs: seconds * 1000 });
  await measuring;
  const c0 = { server: cpuOf(pid), machine: machineCpu(), at: performance.now() };
  await measured;
  const c1 = { server: cpuOf(pid), machine: machineCpu(), at: performance.now() };
  const loaded = { rss: rssOf(pid), sessions: await healthSessions(server) };
  clearInterval(sampler);
  const result = gen.next("result");
  gen.child.send({ type: "continue" });
  const { type: _type, ...r } = await result;
  await sleep(200);
  const after = { rss: rssOf(pid), sessions: await healthSessions(server), metrics: await serverMetrics(server) };
  const cpuSeconds = c0.server === undefined ? undefined : c1.server - c0.server;
  return {
    ...r,
    serverCpu: cpuSeconds === undefined ? undefined : cpuSeconds / ((c1.at - c0.at) / 1000),
    // Server CPU per call, in ms: the overhead figure that does not depend on the load generator.
    cpuPerCallMs: cpuSeconds === undefined || !r.calls ? undefined : (cpuSeconds * 1000) / r.calls,
    machineBusy: c0.machine ? (c1.machine.busy - c0.machine.busy) / (c1.machine.total - c0.machine.total) : undefined,
    loaded,
    peakRss: Math.max(peak, loaded.rss ?? 0),
    after,
  };
}

/**
 * Runs both modes and prints the tables. Returns, per mode, each server's runs per level and
 * repeat, the median ratios, and Switchboard's RSS before load and after its 64-session loads.
 */
export async function benchHttp({
  seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 4),
  warmupMs = 1000,
  repeats = Number(process.env.BENCH_HTTP_REPEATS ?? 3),
  modes = (process.env.BENCH_HTTP_MODES ?? "stateful,stateless").split(",").map((m) => m.trim()),
} = {}) {
  const figures = { seconds, warmupMs, repeats, modes: [] };
  const gen = startLoadGenerator();
  try {
    await gen.next("ready");
    for (const mode of modes) {
      const stateless = mode === "stateless";
      const sw = await startServer("switchboard", stateless);
      const echo = await startServer("echo", stateless);
      const m = { mode, runs: { switchboard: [], echo: [] }, servers: {} };
      try {
        await sleep(300);
        m.before = { switchboard: rssOf(sw.pid), echo: rssOf(echo.pid), metrics: await serverMetrics(sw) };
        for (let rep = 0; rep < repeats; rep++) {
          for (const sessions of LEVELS) {
            // Interleaved, and the order flips each repeat, so both see the same machine state.
            for (const server of rep % 2 ? [echo, sw] : [sw, echo]) {
              const r = await runLevel(gen, server, sessions, { seconds, warmupMs });
              m.runs[server.kind].push({ rep, ...r });
            }
          }
        }
        m.after = { switchboard: rssOf(sw.pid), echo: rssOf(echo.pid), metrics: await serverMetrics(sw) };
      } finally {
        for (const s of [sw, echo]) m.servers[s.kind] = { exit: await stopServer(s), opened: s.log.opened, ended: s.log.ended, warnings: s.log.warnings };
      }
      m.levels = LEVELS.map((sessions) => {
        const of = (kind) => m.runs[kind].filter((r) => r.sessions === sessions);
        const sw = of("switchboard");
        const ec = of("echo");
        const ratios = sw.map((r) => {
          const peer = ec.find((e) => e.rep === r.rep);
          return peer && peer.throughput ? r.throughput / peer.throughput : undefined;
        });
        return {
          sessions,
          switchboard: summarize(sw),
          echo: summarize(ec),
          ratios,
          ratio: median(ratios),
          cpuRatio: median(sw.map((r) => r.cpuPerCallMs)) / median(ec.map((r) => r.cpuPerCallMs)),
        };
      });
      // RSS after each 64-session load (sessions ended), the highest of the repeats.
      const top = m.runs.switchboard.filter((r) => r.sessions === Math.max(...LEVELS));
      m.rssAfterTop = Math.max(...top.map((r) => r.after.rss ?? 0));
      m.rssLoadedTop = Math.max(...top.map((r) => r.peakRss ?? 0));
      m.echoRssAfterTop = Math.max(...m.runs.echo.filter((r) => r.sessions === Math.max(...LEVELS)).map((r) => r.after.rss ?? 0));
      figures.modes.push(m);
      printMode(m, figures);
    }
  } finally {
    if (gen.child.connected) gen.child.send({ type: "exit" });
    if (gen.child.exitCode === null && gen.child.signalCode === null) await new Promise((r) => gen.child.once("exit", r));
  }
  printSummary(figures);
  return figures;
}

function summarize(runs) {
  const pick = (k) => median(runs.map((r) => r[k]));
  return {
    throughput: pick("throughput"),
    p50: pick("p50"),
    p99: pick("p99"),
    cpuPerCallMs: pick("cpuPerCallMs"),
    serverCpu: pick("serverCpu"),
    loadgenCpu: pick("cpu"),
    machineBusy: pick("machineBusy"),
    errors: runs.reduce((n, r) => n + r.errors + r.connectErrors, 0),
    errorSamples: [...new Set(runs.flatMap((r) => [...r.connectErrorSamples.map((e) => "connect: " + e), ...r.errorSamples]))].slice(0, 4),
  };
}

const pad = (s, n) => String(s).padStart(n);
const verdict = (ok) => (ok ? "met" : "NOT met");

function printMode(m, f) {
  console.log(
    `\n${m.mode} Streamable HTTP (/mcp): Switchboard route_task (auth on, default config, ${process.env.BENCH_HTTP_STORE === "off" ? "--no-store" : "embedded store on"}) vs an echo McpServer (same SDK transport, express.json), ` +
      `N sessions each in a closed loop over 20 prompts, ${f.seconds} s measured per level after ${f.warmupMs / 1000} s warm-up, ${f.repeats} interleaved repeats (medians)`,
  );
  console.log(
    `  ${pad("sessions", 8)} | ${pad("switchboard calls/s", 19)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("CPU/call ms", 11)} | ` +
      `${pad("echo calls/s", 12)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("CPU/call ms", 11)} | ${pad("ratio", 5)} (repeats)          goal | CPU/call ratio | loadgen CPU sb/echo  machine`,
  );
  for (const l of m.levels) {
    const s = l.switchboard;
    const e = l.echo;
    console.log(
      `  ${pad(l.sessions, 8)} | ${pad(Math.round(s.throughput), 19)} ${pad(fmt(s.p50), 7)} ${pad(fmt(s.p99), 7)} ${pad(fmt(s.cpuPerCallMs), 11)} | ` +
        `${pad(Math.round(e.throughput), 12)} ${pad(fmt(e.p50), 7)} ${pad(fmt(e.p99), 7)} ${pad(fmt(e.cpuPerCallMs), 11)} | ` +
        `${pad(fmt(l.ratio) + "x", 6)} (${l.ratios.map((r) => fmt(r)).join(" ")})  >= ${THROUGHPUT_GOAL}x ${verdict(l.ratio >= THROUGHPUT_GOAL)} | ${pad(fmt(l.cpuRatio) + "x", 14)} | ` +
        `${pad(pct(s.loadgenCpu), 9)}/${pct(e.loadgenCpu)} ${pad(pct(s.machineBusy), 8)}`,
    );
    for (const [who, x] of [["switchboard", s], ["echo", e]]) if (x.errors) console.log(`      ${who} errors ${x.errors}: ${x.errorSamples.join(" | ")}`);
  }
  const exits = Object.entries(m.servers).map(([k, s]) => `${k} ${s.exit.signal ? `signal ${s.exit.signal}` : `code ${s.exit.code}`}`).join(", ");
  const sb = m.servers.switchboard;
  const heap = (x) => (x?.heapUsed ? ` (heap ${mb(x.heapUsed)}/${mb(x.heapTotal)} MB)` : "");
  console.log(
    `  Switchboard RSS before load ${mb(m.before.switchboard)} MB${heap(m.before.metrics)}, peak under 64 sessions ${mb(m.rssLoadedTop)} MB, ` +
      `after the 64-session load ${mb(m.rssAfterTop)} MB (goal <= ${RSS_GOAL_MB} MB: ${verdict(m.rssAfterTop / 1024 / 1024 <= RSS_GOAL_MB)}), after the run ${mb(m.after.switchboard)} MB${heap(m.after.metrics)}; ` +
      `echo RSS ${mb(m.before.echo)} -> ${mb(m.echoRssAfterTop)} MB`,
  );
  console.log(
    `  sessions opened ${sb.opened}, ended ${sb.ended}; exit on SIGTERM: ${exits}` + (sb.warnings.length ? `; Switchboard warnings: ${sb.warnings.slice(0, 3).join(" | ")}` : ""),
  );
}

function printSummary(f) {
  console.log(`\nHTTP goals (throughput: Switchboard / echo, median of ${f.repeats} interleaved repeats; RSS: Switchboard after the 64-session load)`);
  for (const m of f.modes) {
    const cells = m.levels.map((l) => `${l.sessions}: ${fmt(l.ratio)}x`).join("  ");
    const gated = m.levels.filter((l) => l.sessions >= 16);
    console.log(
      `  ${pad(m.mode, 9)}  ${cells}   (goal >= ${THROUGHPUT_GOAL}x at 16 and 64: ${verdict(gated.every((l) => l.ratio >= THROUGHPUT_GOAL))})   ` +
        `RSS after 64 sessions ${mb(m.rssAfterTop)} MB (goal <= ${RSS_GOAL_MB} MB: ${verdict(m.rssAfterTop / 1024 / 1024 <= RSS_GOAL_MB)})`,
    );
  }
  console.log(`  (CPU/call: the server's CPU time over the measured window divided by the calls it answered; loadgen: the load generator's share of one core)`);
}

/**
 * The baseline: an McpServer with one `echo` tool behind the SDK's own express app
 * (createMcpExpressApp: Host validation and express.json) on StreamableHTTPServerTransport.
 */
async function echoServer(stateless) {
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const { createMcpExpressApp } = await import("@modelcontextprotocol/sdk/server/express.js");
  const { isInitializeRequest } = await import("@modelcontextprotocol/sdk/types.js");
  const { z } = await import("zod");
  const newServer = () => {
    const server = new McpServer({ name: "echo", version: "1.0.0" });
    server.registerTool("echo", { description: "Returns its input.", inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({
      content: [{ type: "text", text }],
      structuredContent: { text },
    }));
    return server;
  };
  const app = createMcpExpressApp({ host: "127.0.0.1" });
  const sessions = new Map();
  if (stateless) {
    app.post("/mcp", async (req, res) => {
      const server = newServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    app.all("/mcp", (_req, res) => res.status(405).set("Allow", "POST").json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }));
  } else {
    app.post("/mcp", async (req, res) => {
      const id = req.headers["mcp-session-id"];
      const known = id && sessions.get(id);
      if (known) return known.handleRequest(req, res, req.body);
      if (id || !isInitializeRequest(req.body)) return res.status(400).json({ jsonrpc: "2.0", error: { code: -32000, message: "Bad Request: No valid session ID provided" }, id: null });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => sessions.set(sid, transport) });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await newServer().connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    const inSession = async (req, res) => {
      const t = sessions.get(req.headers["mcp-session-id"]);
      if (!t) return res.status(400).send("Invalid or missing session ID");
      await t.handleRequest(req, res);
    };
    app.get("/mcp", inSession);
    app.delete("/mcp", inSession);
  }
  const server = app.listen(0, "127.0.0.1", () => {
    console.error(JSON.stringify({ level: 30, msg: "echo serving over HTTP", url: `http://127.0.0.1:${server.address().port}` }));
  });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}

const self = import.meta.url === pathToFileURL(process.argv[1] ?? "").href;
if (self && process.argv.includes("--echo-server")) await echoServer(process.argv.includes("--stateless"));
else if (self) await benchHttp();
