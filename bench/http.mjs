// route_task under concurrent load over Streamable HTTP. Three processes: the server
// (`switchboard serve --http`), a load generator (bench/http-load.mjs, MCP SDK clients in closed
// loops) and this one, which only orchestrates and samples the server's memory.
// Runs from bench/run.mjs, or alone: `node bench/http.mjs` (after `npm run build`).
// BENCH_HTTP_SECONDS sets the measured seconds per level (default 5); warm-up is 1 s.
import { spawn, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const LEVELS = [1, 16, 64];
const fmt = (n) => (n === undefined ? "-" : n < 1 ? n.toFixed(3) : n.toFixed(2));
const pct = (x) => (x === undefined ? "-" : `${Math.round(x * 100)}%`);
const mb = (bytes) => (bytes === undefined ? "-" : (bytes / 1024 / 1024).toFixed(0));

/** The server's resident set in bytes: /proc on Linux, `ps` elsewhere. */
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

/** The server's own memory figures from /metrics: RSS as a cross-check, and the V8 heap. */
async function serverMetrics(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name) => {
      const m = new RegExp(`^switchboard_${name}\\s+(\\S+)`, "m").exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return { rss: read("process_resident_memory_bytes"), heapUsed: read("nodejs_heap_size_used_bytes"), heapTotal: read("nodejs_heap_size_total_bytes") };
  } catch {
    return {};
  }
}

async function healthSessions(url) {
  try {
    const body = await (await fetch(`${url}/healthz`)).json();
    return body.sessions;
  } catch {
    return undefined;
  }
}

/** Starts the server on a free port and resolves once its "serving over HTTP" line names the URL. */
function startServer() {
  const child = spawn(process.execPath, [join(root, "dist/cli.js"), "serve", "--http", "--port", "0", "--no-store", "--no-watch"], {
    // Info level for the URL line; it also logs each session opened and ended, nothing per call.
    env: { PATH: process.env.PATH ?? "", SWITCHBOARD_LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log = { opened: 0, ended: 0, warnings: [], exited: new Promise((r) => child.once("exit", (code, signal) => r({ code, signal }))) };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("HTTP server did not report its URL within 15 s")), 15_000);
    child.once("exit", (code) => reject(new Error(`HTTP server exited early (code ${code}): ${log.warnings.join(" | ")}`)));
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
      if (rec.msg === "switchboard serving over HTTP" && rec.url) {
        clearTimeout(timer);
        resolve({ child, url: rec.url, log });
      }
    });
  });
}

async function stopServer({ child, log }) {
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const exit = await log.exited;
  clearTimeout(killer);
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

const snapshot = async (url, pid) => ({ rss: rssOf(pid), metrics: await serverMetrics(url), sessions: await healthSessions(url) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the levels and prints the table. Returns the figures: per level throughput (calls/s),
 * p50/p90/p99/max ms, errors, CPU shares and the server's RSS (bytes) loaded, peak and after;
 * and the server's RSS before load and after the run.
 */
export async function benchHttp({ seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 5), warmupMs = 1000 } = {}) {
  const server = await startServer();
  const { url } = server;
  const pid = server.child.pid;
  const gen = startLoadGenerator();
  const figures = { url, seconds, warmupMs, levels: [] };
  try {
    await gen.next("ready");
    await sleep(300);
    figures.before = await snapshot(url, pid);

    for (const sessions of LEVELS) {
      // Peak RSS across the level, sampled from outside while the load runs.
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid) ?? 0)), 200);
      sampler.unref();
      const measuring = gen.next("measuring");
      const measured = gen.next("measured");
      gen.child.send({ type: "level", url, sessions, warmupMs, measureMs: seconds * 1000 });
      await measuring;
      const c0 = { server: cpuOf(pid), machine: machineCpu(), at: performance.now() };
      await measured;
      const c1 = { server: cpuOf(pid), machine: machineCpu(), at: performance.now() };
      // Sampled while the level's sessions are still open.
      const loaded = await snapshot(url, pid);
      clearInterval(sampler);
      const result = gen.next("result");
      gen.child.send({ type: "continue" });
      const { type: _type, ...r } = await result;
      await sleep(200);
      const after = await snapshot(url, pid);
      figures.levels.push({
        ...r,
        serverCpu: c0.server === undefined ? undefined : (c1.server - c0.server) / ((c1.at - c0.at) / 1000),
        machineBusy: c0.machine ? (c1.machine.busy - c0.machine.busy) / (c1.machine.total - c0.machine.total) : undefined,
        loaded,
        peakRss: Math.max(peak, loaded.rss ?? 0),
        after,
      });
    }
    figures.after = await snapshot(url, pid);
  } finally {
    if (gen.child.connected) gen.child.send({ type: "exit" });
    if (gen.child.exitCode === null && gen.child.signalCode === null) await new Promise((r) => gen.child.once("exit", r));
    figures.exit = await stopServer(server);
  }
  figures.sessionLog = { opened: server.log.opened, ended: server.log.ended };
  figures.serverWarnings = server.log.warnings;
  print(figures);
  return figures;
}

function print(f) {
  const pad = (s, n) => String(s).padStart(n);
  const open = (s) => (s ? s.streamable + s.sse : "?");
  const heap = (m) => `${mb(m.heapUsed)}/${mb(m.heapTotal)}`;
  console.log(
    `route_task over Streamable HTTP (/mcp), N sessions each in a closed loop over 20 prompts, ${f.seconds} s measured per level after ${f.warmupMs / 1000} s warm-up; ` +
      `server, load generator and this orchestrator are separate processes`,
  );
  console.log(
    `  ${pad("sessions", 8)} ${pad("calls/s", 8)} ${pad("p50 ms", 8)} ${pad("p90 ms", 8)} ${pad("p99 ms", 8)} ${pad("max ms", 8)} ${pad("errors", 6)} | ` +
      `${pad("server RSS MB loaded", 20)} ${pad("peak", 5)} ${pad("after", 5)} ${pad("(/metrics)", 10)} ${pad("heap used/total", 15)} | ` +
      `${pad("CPU server", 10)} ${pad("loadgen", 7)} ${pad("machine", 7)} | sessions open loaded/after`,
  );
  for (const l of f.levels) {
    console.log(
      `  ${pad(l.sessions, 8)} ${pad(Math.round(l.throughput), 8)} ${pad(fmt(l.p50), 8)} ${pad(fmt(l.p90), 8)} ${pad(fmt(l.p99), 8)} ${pad(fmt(l.max), 8)} ${pad(l.errors + l.connectErrors, 6)} | ` +
        `${pad(mb(l.loaded.rss), 20)} ${pad(mb(l.peakRss), 5)} ${pad(mb(l.after.rss), 5)} ${pad(`(${mb(l.after.metrics.rss)})`, 10)} ${pad(heap(l.after.metrics), 15)} | ` +
        `${pad(pct(l.serverCpu), 10)} ${pad(pct(l.cpu), 7)} ${pad(pct(l.machineBusy), 7)} | ${open(l.loaded.sessions)}/${open(l.after.sessions)}`,
    );
    for (const e of [...l.connectErrorSamples.map((m) => "connect: " + m), ...l.errorSamples]) console.log(`      error: ${e}`);
  }
  const { before, after } = f;
  const exit = f.exit.signal ? `signal ${f.exit.signal}` : `code ${f.exit.code}`;
  console.log(
    `  server RSS before load ${mb(before.rss)} MB (/metrics ${mb(before.metrics.rss)}, heap ${heap(before.metrics)}), after the run ${mb(after.rss)} MB ` +
      `(/metrics ${mb(after.metrics.rss)}, heap ${heap(after.metrics)}): ${after.rss >= before.rss ? "+" : ""}${mb(after.rss - before.rss)} MB; ` +
      `sessions opened ${f.sessionLog.opened}, ended ${f.sessionLog.ended}, open at the end ${open(after.sessions)}; server exit on SIGTERM: ${exit}` +
      (f.serverWarnings.length ? `; server warnings: ${f.serverWarnings.slice(0, 3).join(" | ")}` : ""),
  );
  console.log(`  (CPU: server and load generator as a share of one core over the measured window; machine: all cores busy, other work included)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchHttp();
