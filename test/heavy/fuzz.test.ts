// 10,000 fuzzed tool calls over the in-memory MCP transport, and a few hundred over stdio and over
// HTTP: the valid arguments of every tool tools/list names, mutated by a seeded PRNG (wrong types,
// huge strings, NUL and lone surrogates, prototype names, deep nesting, unknown keys, non-object
// arguments, random unicode). Every call is answered, none fails `internal` or crashes a server,
// and no result carries the API key. Providers are loopback fakes or have no key, so nothing
// leaves the machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { appendFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { startFakes, type Fakes } from "../helpers/llm-fakes.js";
import { capped, CLI, cleanEnv, connectHttp, prng, SEED, startServer, tempDir, writeOverlay, type Prng, type ServerProc } from "./helpers.js";

const KEY = "sk-fuzz-SECRETKEY-31337";
const ANT_KEY = "ant-fuzz-SECRETKEY-4242";
const SECRETS = [KEY, ANT_KEY, "SECRETKEY"];
const TOKEN = "tok-fuzz-0123456789abcdef";
/** A loopback port nothing listens on: a URL that survives mutation fails at once, on this machine. */
const DEAD_URL = "http://127.0.0.1:9/input.png";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; enum?: Json[]; const?: Json; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; minimum?: number; maximum?: number; minLength?: number; minItems?: number };

/** A value the schema accepts, with names that mean a URL, a prompt or an id filled sensibly. */
function validFor(s: Schema | undefined, name: string, r: Prng, depth = 0): Json {
  if (!s || depth > 6) return "x";
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return r.pick(s.enum);
  const alt = s.anyOf ?? s.oneOf;
  if (alt?.length) return validFor(r.pick(alt), name, r, depth + 1);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== "null") ?? "string") : (s.type ?? (s.properties ? "object" : "string"));
  switch (type) {
    case "object": {
      const out: Record<string, Json> = {};
      for (const [k, sub] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || r.chance(0.3)) out[k] = validFor(sub, k, r, depth + 1);
      return out;
    }
    case "array":
      return Array.from({ length: Math.max(s.minItems ?? 0, r.int(2)) }, () => validFor(s.items, name, r, depth + 1));
    case "integer":
    case "number": {
      const lo = s.minimum ?? 0;
      const hi = s.maximum ?? lo + 100;
      const v = lo + r.next() * (hi - lo);
      return type === "integer" ? Math.ceil(v) : v;
    }
    case "boolean":
      return r.chance(0.5);
    default:
      if (/image|mask|audio|url|file|path/i.test(name)) return DEAD_URL;
      if (/id$/i.test(name)) return `req-${r.int(1e6)}`;
      return r.pick(["What is the capital of Peru?", "Summarize: the meeting moved to Friday.", "Write a haiku about rain", "Fix this: TypeError: x is undefined", "hello"]);
  }
}

const PROTO = ["__proto__", "constructor", "toString", "prototype", "hasOwnProperty", "valueOf"];

function randomUnicode(r: Prng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const k = r.int(6);
    if (k === 0) s += String.fromCharCode(r.int(32)); // control characters, NUL included
    else if (k === 1) s += String.fromCharCode(0xd800 + r.int(0x800)); // lone surrogates
    else if (k === 2) s += String.fromCodePoint(0x10000 + r.int(0xfffff)); // astral planes
    else if (k === 3) s += String.fromCharCode(0x300 + r.int(0x70)); // combining marks
    else s += String.fromCharCode(32 + r.int(0x3000));
  }
  return s;
}

function deep(r: Prng, depth: number): Json {
  let v: Json = "bottom";
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { a: v };
  return v;
}

function oddValue(r: Prng): Json {
  switch (r.int(12)) {
    case 0: return null;
    case 1: return r.pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, -0]);
    case 2: return r.chance(0.5);
    case 3: return [];
    case 4: return {};
    case 5: return "x".repeat(r.pick([10_000, 100_000, 1_000_000]));
    case 6: return `a\u0000b${r.pick(["", "\u0000", "\ud800", "\udfff"])}`;
    case 7: return r.pick(PROTO);
    case 8: return deep(r, r.pick([50, 200, 1000]));
    case 9: return randomUnicode(r, 1 + r.int(200));
    case 10: return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } } as unknown as Json;
    default: return r.pick(["", " ", "-", "NaN", "Infinity", "null", "undefined", "true", "[]", "{}", "../../etc/passwd", "http://169.254.169.254/latest", "file:///etc/passwd"]);
  }
}

/** One mutation of valid arguments (or a replacement of them by a non-object). */
function mutate(args: Record<string, Json>, r: Prng): unknown {
  const keys = Object.keys(args);
  const out: Record<string, Json> = { ...args };
  const key = keys.length ? r.pick(keys) : "prompt";
  switch (r.int(10)) {
    case 0: // wrong type or an odd value
      out[key] = oddValue(r);
      return out;
    case 1: // huge string
      out[key] = r.pick(["a", "é", "😀", "\u0000"]).repeat(r.pick([50_000, 300_000]));
      return out;
    case 2: // NUL and lone surrogates inside an otherwise fine string
      out[key] = `${String(out[key] ?? "x")}${r.pick(["\u0000", "\ud800", "\udc00", "\u0000\ud83d"])}tail`;
      return out;
    case 3: // prototype names as values or keys
      if (r.chance(0.5)) out[key] = r.pick(PROTO);
      else Object.defineProperty(out, r.pick(PROTO), { value: oddValue(r), enumerable: true, configurable: true, writable: true });
      return out;
    case 4: // deep nesting
      out[key] = deep(r, r.pick([20, 100, 500]));
      return out;
    case 5: // unknown keys
      for (let i = 0; i < 1 + r.int(3); i++) out[r.chance(0.5) ? randomUnicode(r, 1 + r.int(8)) : `extra${r.int(100)}`] = oddValue(r);
      return out;
    case 6: // non-object arguments
      return r.pick<unknown>([null, [], [args], "args", 42, true, ""]);
    case 7: // random unicode everywhere
      for (const k of keys) if (typeof out[k] === "string") out[k] = randomUnicode(r, 1 + r.int(64));
      return out;
    case 8: // a field dropped
      delete out[key];
      return out;
    default: {
      // several mutations at once
      let v: unknown = out;
      for (let i = 0; i < 3 && v !== null && typeof v === "object" && !Array.isArray(v); i++) v = mutate(v as Record<string, Json>, r);
      return v;
    }
  }
}

interface Stats {
  calls: number;
  internal: string[];
  unanswered: string[];
  leaks: string[];
  codes: Record<string, number>;
}

const newStats = (): Stats => ({ calls: 0, internal: [], unanswered: [], leaks: [], codes: {} });

async function fuzzCall(client: Client, stats: Stats, name: string, args: unknown, capMs: number): Promise<void> {
  stats.calls++;
  const label = `${name} ${JSON.stringify(args)?.slice(0, 200)}`;
  let text: string;
  let code: string;
  try {
    const res = (await capped(client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, { timeout: capMs }), capMs + 5000, label)) as CallToolResult;
    text = JSON.stringify(res);
    code = "ok";
    if (res.isError) {
      const first = res.content?.[0];
      try {
        code = String((JSON.parse(first?.type === "text" ? first.text : "{}") as { error?: { code?: string } }).error?.code ?? "error");
      } catch {
        code = "error-text";
      }
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: string };
    text = String(e?.message ?? err);
    if (typeof e?.code === "number" && e.code !== -32001) code = e.code === -32603 ? "internal" : `jsonrpc${e.code}`;
    else {
      stats.unanswered.push(`${label}: ${text}`);
      return;
    }
  }
  stats.codes[code] = (stats.codes[code] ?? 0) + 1;
  if (code === "internal") stats.internal.push(`${label}: ${text.slice(0, 300)}`);
  for (const s of SECRETS) if (text.includes(s)) stats.leaks.push(label);
}

async function fuzz(client: Client, tools: Tool[], count: number, seed: number, width: number, capMs = 60_000): Promise<Stats> {
  const r = prng(seed);
  const stats = newStats();
  // The plan is drawn up front from the seed, so concurrency never changes what is sent.
  const plan = Array.from({ length: count }, () => {
    const tool = r.pick(tools);
    const valid = validFor(tool.inputSchema as Schema, "", r) as Record<string, Json>;
    return { name: r.chance(0.01) ? r.pick(["no_such_tool", "__proto__", "constructor", ""]) : tool.name, args: r.chance(0.1) ? valid : mutate(valid, r) };
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < plan.length) {
        const p = plan[next++]!;
        const t = Date.now();
        const n = next - 1;
        if (process.env.HEAVY_TRACE) appendFileSync(process.env.HEAVY_TRACE, `start ${n} ${p.name} ${JSON.stringify(p.args)?.slice(0, 300)}\n`);
        await fuzzCall(client, stats, p.name, p.args, capMs);
        if (process.env.HEAVY_TRACE) appendFileSync(process.env.HEAVY_TRACE, `end ${n}\n`);
        if (process.env.HEAVY_TRACE && Date.now() - t > 500) console.log(`slow ${Date.now() - t} ms: ${p.name} ${JSON.stringify(p.args)?.slice(0, 160)}`);
      }
    }),
  );
  return stats;
}

function report(label: string, stats: Stats, seed: number, t0: number) {
  console.log(
    `fuzz(${label}): ${stats.calls} calls, ${stats.internal.length} internal, ${stats.unanswered.length} unanswered, ${stats.leaks.length} leaks, seed ${seed}, ${((Date.now() - t0) / 1000).toFixed(1)} s, codes ${JSON.stringify(stats.codes)}`,
  );
  expect(stats.internal.slice(0, 5)).toEqual([]);
  expect(stats.unanswered.slice(0, 5)).toEqual([]);
  expect(stats.leaks.slice(0, 5)).toEqual([]);
}

describe("fuzzed tool calls", () => {
  let fakes: Fakes;
  let dir: string;
  let overlayFile: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    fakes = await startFakes();
    fakes.openai.setDefault({ text: "Lima.", usage: { input: 20, output: 5 } });
    fakes.anthropic.setDefault({ text: "Lima.", usage: { input: 20, output: 5 } });
    dir = tempDir("sb-heavy-fuzz-");
    overlayFile = writeOverlay(dir, {
      files: { outputDir: join(dir, "out") },
      router: { failover: { maxAttemptsPerModel: 1, initialDelayMs: 1, maxDelayMs: 5 } },
      jobSettings: { retrieval: { timeoutMs: 5000 }, media: { timeoutMs: 5000, pollIntervalMs: 5 }, voice: { timeoutMs: 5000 }, transcription: { timeoutMs: 5000 } },
    });
    // OpenAI and Anthropic on loopback fakes; Replicate, ElevenLabs, Tavily and the rest have no key.
    env = { ...cleanEnv(), OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fakes.openai.url, ANTHROPIC_API_KEY: ANT_KEY, ANTHROPIC_BASE_URL: fakes.anthropic.url };
  }, 60_000);
  afterAll(async () => {
    await fakes?.close();
  });

  it("10,000 over the in-memory transport (with a store): answered, no internal, no secret", async () => {
    const t0 = Date.now();
    const runtime = new Runtime({ overlayFile, env, store: { dataDir: ":memory:" } });
    const { server } = createServer({ runtime });
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "fuzz", version: "1" });
    await client.connect(clientSide);
    try {
      const { tools } = await client.listTools();
      expect(tools.length).toBeGreaterThan(5);
      const stats = await fuzz(client, tools, Number(process.env.HEAVY_FUZZ_CALLS ?? 10_000), SEED, 16);
      report(`in-memory, ${tools.length} tools`, stats, SEED, t0);
      // The server still answers a clean call afterwards.
      const ok = (await client.callTool({ name: "route_task", arguments: { prompt: "What is the capital of Peru?" } })) as CallToolResult;
      expect(ok.isError, JSON.stringify(ok.content).slice(0, 500)).toBeFalsy();
    } finally {
      await client.close();
      await server.close();
      await runtime.close();
    }
    // Every call, refused ones included, was recorded: none of the arguments as sent cost a telemetry row.
    expect(runtime.storeWriteFailures()).toEqual({ telemetry: 0, budget: 0 });
  }, 600_000);

  it("300 over stdio: answered, no internal, no secret, the process survives", async () => {
    const t0 = Date.now();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "serve", "--no-watch", "--config", overlayFile],
      env: { ...env, SWITCHBOARD_DATA_DIR: join(dir, "stdio-data"), SWITCHBOARD_LOG_LEVEL: "warn" },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (c) => (stderr += c));
    const client = new Client({ name: "fuzz-stdio", version: "1" });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      const stats = await fuzz(client, tools, 300, SEED + 1, 8);
      report("stdio", stats, SEED + 1, t0);
      const ok = (await client.callTool({ name: "route_task", arguments: { prompt: "What is the capital of Peru?" } })) as CallToolResult;
      expect(ok.isError, JSON.stringify(ok.content).slice(0, 500)).toBeFalsy();
      expect(stderr).not.toContain(KEY);
    } finally {
      await client.close();
    }
  }, 600_000);

  it("300 over HTTP (a network caller with a token): answered, no internal, no secret, the process survives", async () => {
    const t0 = Date.now();
    let srv: ServerProc | undefined;
    try {
      srv = await startServer({ env: { ...env, SWITCHBOARD_DATA_DIR: join(dir, "http-data"), SWITCHBOARD_TOKENS: `acme=${TOKEN}` }, overlayFile });
      const client = await connectHttp(srv.url, TOKEN, "fuzz-http");
      const { tools } = await client.listTools();
      const stats = await fuzz(client, tools, 300, SEED + 2, 8);
      report("http", stats, SEED + 2, t0);
      const ok = (await client.callTool({ name: "route_task", arguments: { prompt: "What is the capital of Peru?" } })) as CallToolResult;
      expect(ok.isError, JSON.stringify(ok.content).slice(0, 500)).toBeFalsy();
      await client.close();
      expect(srv.child.exitCode).toBeNull();
      expect(srv.stderr()).not.toContain(KEY);
      expect(await srv.stop()).toBe(0);
    } finally {
      await srv?.kill9();
    }
  }, 600_000);
});
