import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LATEST_PROTOCOL_VERSION, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TASK_TYPES } from "../../src/config/schema.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");
const SERVE_ARGS = [CLI, "serve", "--no-watch"];
const READY_LOG = "switchboard serving on stdio";
const DATA_DIR = mkdtempSync(join(tmpdir(), "sb-e2e-store-"));

/** The parent's env minus anything that could configure a provider or an overlay; logs at info. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/(_API_KEY|_API_TOKEN|_TOKEN|_BASE_URL)$/.test(k) || ["SWITCHBOARD_CONFIG", "LOG_LEVEL", "DATABASE_URL"].includes(k)) continue;
    env[k] = v;
  }
  env.SWITCHBOARD_LOG_LEVEL = "info";
  // The server's store (telemetry, budgets) lives in a throwaway folder, never the user's data folder.
  env.SWITCHBOARD_DATA_DIR = DATA_DIR;
  return env;
}

/** Resolves once the accumulated text of a stream contains `needle`; rejects if the stream ends first. */
function waitForText(stream: Readable, needle: string, sink: { text: string }): Promise<void> {
  return new Promise((res, rej) => {
    if (sink.text.includes(needle)) return res();
    const onData = () => {
      if (sink.text.includes(needle)) {
        cleanup();
        res();
      }
    };
    const onEnd = () => {
      cleanup();
      rej(new Error(`stream ended without "${needle}"; got:\n${sink.text}`));
    };
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
    };
    // Registered after the collector, so sink.text is already updated when onData runs.
    stream.on("data", onData);
    stream.on("end", onEnd);
  });
}

interface JsonRpcMessage {
  jsonrpc: string;
  id?: number | string;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A server spawned by hand, with stdout split into lines and responses awaitable by id. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdoutLines: string[] = [];
  readonly stderr = { text: "" };
  private buffer = "";
  private waiters = new Map<number | string, (m: JsonRpcMessage) => void>();
  private responses = new Map<number | string, JsonRpcMessage>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly closed: Promise<void>;

  constructor() {
    this.child = spawn(process.execPath, SERVE_ARGS, { cwd: ROOT, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((res) => this.child.once("exit", (code, signal) => res({ code, signal })));
    this.closed = new Promise((res) => this.child.once("close", () => res()));
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.stderr.text += d));
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.stdoutLines.push(line);
        let msg: JsonRpcMessage | undefined;
        try {
          msg = JSON.parse(line) as JsonRpcMessage;
        } catch {
          continue; // Asserted on later: every line must parse.
        }
        if (msg.id !== undefined && msg.method === undefined) {
          this.responses.set(msg.id, msg);
          this.waiters.get(msg.id)?.(msg);
        }
      }
    });
  }

  send(msg: Record<string, unknown>): void {
    this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n");
  }

  response(id: number): Promise<JsonRpcMessage> {
    const done = this.responses.get(id);
    if (done) return Promise.resolve(done);
    return new Promise((res, rej) => {
      this.waiters.set(id, res);
      void this.exited.then(({ code }) => rej(new Error(`server exited (${code}) before answering ${id}; stderr:\n${this.stderr.text}`)));
    });
  }

  initialize(id = 1): Promise<JsonRpcMessage> {
    this.send({
      id,
      method: "initialize",
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw-stdio-test", version: "1.0.0" } },
    });
    return this.response(id);
  }

  /** Ends the process if a test failed before it could. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});

describe("built server over StdioClientTransport", () => {
  let client: Client;
  let transport: StdioClientTransport;
  const stderr = { text: "" };

  beforeAll(async () => {
    transport = new StdioClientTransport({ command: process.execPath, args: SERVE_ARGS, cwd: ROOT, env: cleanEnv(), stderr: "pipe" });
    // The PassThrough exists before start(), so no early line is missed.
    const err = transport.stderr as Readable;
    err.setEncoding("utf8");
    err.on("data", (d: string) => (stderr.text += d));
    client = new Client({ name: "stdio-e2e", version: "1.0.0" });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
  });

  it("identifies itself as switchboard", () => {
    expect(client.getServerVersion()?.name).toBe("switchboard");
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    expect(client.getServerCapabilities()?.resources).toBeDefined();
  });

  it("lists route_task", async () => {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === "route_task");
    expect(tool).toBeDefined();
    expect(tool!.annotations?.readOnlyHint).toBe(true);
  });

  it("routes a task", async () => {
    const res = (await client.callTool({ name: "route_task", arguments: { prompt: "Fix this error: TypeError: cannot read properties of undefined (reading 'map')" } })) as CallToolResult;
    expect(res.isError).toBeFalsy();
    const d = res.structuredContent as { model: string; provider: string; taskType: string; reason: string; fallbacks: unknown[] };
    expect(d.model.startsWith(`${d.provider}:`)).toBe(true);
    expect(TASK_TYPES).toContain(d.taskType);
    expect(d.reason.length).toBeGreaterThan(10);
    expect(Array.isArray(d.fallbacks)).toBe(true);
  });

  it("returns a structured error for a bad call", async () => {
    const res = (await client.callTool({ name: "route_task", arguments: { prompt: "hello", mode: "nope" } })) as CallToolResult;
    expect(res.isError).toBe(true);
    const first = res.content[0];
    expect(first?.type).toBe("text");
    const body = JSON.parse((first as { text: string }).text) as { error: { code: string; validValues: string[] } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.validValues).toContain("realtime_assist");
  });

  it("serves the routing-table resource", async () => {
    const res = await client.readResource({ uri: "switchboard://config/routing-table" });
    const c = res.contents[0] as { mimeType?: string; text: string };
    expect(c.mimeType).toBe("application/json");
    const table = JSON.parse(c.text) as { modes: Record<string, unknown> };
    expect(table.modes).toHaveProperty("realtime_assist");
  });

  it("logs to stderr", async () => {
    await waitForText(transport.stderr as Readable, READY_LOG, stderr);
    expect(stderr.text).toContain(READY_LOG);
  });
});

describe("built server over raw stdio", () => {
  const spawned: RawServer[] = [];
  afterAll(() => spawned.forEach((s) => s.kill()));

  it("writes only JSON-RPC to stdout and exits 0 when stdin closes", async () => {
    const s = new RawServer();
    spawned.push(s);
    const init = await s.initialize(1);
    expect(init.error).toBeUndefined();
    expect((init.result?.serverInfo as { name: string }).name).toBe("switchboard");

    s.send({ method: "notifications/initialized" });
    s.send({ id: 2, method: "tools/list" });
    s.send({ id: 3, method: "tools/call", params: { name: "route_task", arguments: { prompt: "Summarize this paragraph in one sentence: the meeting moved to Friday." } } });
    const [list, call] = await Promise.all([s.response(2), s.response(3)]);
    expect((list.result?.tools as Array<{ name: string }>).map((t) => t.name)).toContain("route_task");
    const result = call.result as unknown as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(typeof (result.structuredContent as { model: string }).model).toBe("string");

    s.child.stdin.end();
    const { code, signal } = await s.exited;
    await s.closed;
    expect(signal).toBeNull();
    expect(code).toBe(0);

    expect(s.stdoutLines.length).toBeGreaterThanOrEqual(3);
    for (const line of s.stdoutLines) {
      let msg: JsonRpcMessage;
      expect(() => (msg = JSON.parse(line) as JsonRpcMessage), `stdout line is not JSON: ${line}`).not.toThrow();
      expect(msg!.jsonrpc).toBe("2.0");
    }
    expect(s.stdoutLines.join("\n")).not.toContain(READY_LOG);
    expect(s.stderr.text).toContain(READY_LOG);
    expect(s.stderr.text).toContain("switchboard stopping");
  });

  it("exits 0 on SIGTERM", async () => {
    const s = new RawServer();
    spawned.push(s);
    const init = await s.initialize(1);
    expect(init.result).toBeDefined();
    s.child.kill("SIGTERM");
    const { code, signal } = await s.exited;
    await s.closed;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(s.stderr.text).toContain("SIGTERM");
  });
});
