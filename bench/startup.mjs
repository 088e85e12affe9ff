// Start-up cost: spawn -> connected (initialize answered) -> tools/list answered -> first call
// answered, and the child's resident memory right after, for Switchboard (`serve --no-watch`, store
// on, in a temporary data dir) against a bare echo MCP server on the same SDK. Runs interleaved so
// both see the same machine state. Goal: Switchboard's spawn -> first answer within 2x the echo's.
//
//   node bench/startup.mjs [N]        (after `npm run build`)
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { shippedNodeArgs } from "./node-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const GOAL = 2;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Resident set of a process in MB (Linux /proc, else ps). */
function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  try {
    return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) / 1024;
  } catch {
    return NaN;
  }
}

async function once(kind) {
  const home = mkdtempSync(join(tmpdir(), "sb-startup-"));
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    XDG_DATA_HOME: join(home, "data"),
    SWITCHBOARD_DATA_DIR: join(home, "data", "switchboard"),
    SWITCHBOARD_LOG_LEVEL: "warn",
  };
  const args = kind === "switchboard" ? [...shippedNodeArgs(), join(root, "dist/cli.js"), "serve", "--no-watch"] : [join(root, "bench/echo-server.mjs")];
  const transport = new StdioClientTransport({ command: process.execPath, args, env, cwd: home, stderr: "ignore" });
  const client = new Client({ name: "bench-startup", version: "1.0.0" });
  try {
    const t0 = performance.now();
    await client.connect(transport);
    const connected = performance.now() - t0;
    await client.listTools();
    const listed = performance.now() - t0;
    const res =
      kind === "switchboard"
        ? await client.callTool({ name: "route_task", arguments: { prompt: "Write a Python function that reverses a linked list." } })
        : await client.callTool({ name: "echo", arguments: { text: "Write a Python function that reverses a linked list." } });
    const first = performance.now() - t0;
    if (res.isError) throw new Error(`${kind}: first call failed: ${JSON.stringify(res.content).slice(0, 300)}`);
    const rss = transport.pid ? rssMb(transport.pid) : NaN;
    return { connected, listed, first, rss };
  } finally {
    await client.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchStartup(n = 5) {
  // One unmeasured run each: the file cache holds the modules afterwards, as on a warm machine.
  await once("echo");
  await once("switchboard");
  const runs = { switchboard: [], echo: [] };
  for (let i = 0; i < n; i++) {
    runs.echo.push(await once("echo"));
    runs.switchboard.push(await once("switchboard"));
  }
  const med = (kind) => {
    const r = runs[kind];
    return {
      connectedMs: median(r.map((x) => x.connected)),
      toolsListedMs: median(r.map((x) => x.listed)),
      firstAnswerMs: median(r.map((x) => x.first)),
      rssMb: median(r.map((x) => x.rss)),
    };
  };
  const sb = med("switchboard");
  const echo = med("echo");
  const ratio = sb.firstAnswerMs / echo.firstAnswerMs;
  const f = (v) => v.toFixed(0).padStart(6);
  console.log(`startup (median of ${n}, spawn -> ...)   connected  tools/list  first answer   rss after start`);
  console.log(`  switchboard serve (store on)       ${f(sb.connectedMs)} ms ${f(sb.toolsListedMs)} ms  ${f(sb.firstAnswerMs)} ms     ${f(sb.rssMb)} MB`);
  console.log(`  bare echo MCP server               ${f(echo.connectedMs)} ms ${f(echo.toolsListedMs)} ms  ${f(echo.firstAnswerMs)} ms     ${f(echo.rssMb)} MB`);
  console.log(`  spawn -> first answer ratio ${ratio.toFixed(2)}x (goal: within ${GOAL}x) ${ratio <= GOAL ? "met" : "NOT met"}`);
  return { n, switchboard: sb, echo, ratio, goal: GOAL, met: ratio <= GOAL, runs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchStartup(Number(process.argv[2]) || 5);
}
