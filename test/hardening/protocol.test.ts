// Protocol edge cases (issue 13, item 8): null or non-object params and non-object arguments get
// an answer on every transport (-32602, or the tool's structured invalid_request), never a hang
// and never an internal error with a schema dump. Every wait is an awaited event under a cap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { LATEST_PROTOCOL_VERSION, type CallToolResult, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "../../src/server.js";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { captureLogger } from "../helpers/capture-logger.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "cli.js");
const CAP_MS = 15_000;

interface Rpc {
  jsonrpc: string;
  id?: number | string;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** Each malformed call, and what must come back for it. */
const MALFORMED: Array<[string, Record<string, unknown>, "rpc-error" | "tool-error"]> = [
  ["params null", { method: "tools/call", params: null }, "rpc-error"],
  ["params a string", { method: "tools/call", params: "route_task" }, "rpc-error"],
  ["params an array", { method: "tools/call", params: ["route_task", { prompt: "hi" }] }, "rpc-error"],
  ["params a number", { method: "tools/call", params: 42 }, "rpc-error"],
  ["tools/list with params null", { method: "tools/list", params: null }, "rpc-error"],
  ["no tool name", { method: "tools/call", params: { arguments: { prompt: "hi" } } }, "rpc-error"],
  ["arguments a string", { method: "tools/call", params: { name: "route_task", arguments: "hello" } }, "tool-error"],
  ["arguments an array", { method: "tools/call", params: { name: "route_task", arguments: ["hello"] } }, "tool-error"],
  ["arguments a number", { method: "tools/call", params: { name: "route_task", arguments: 7 } }, "tool-error"],
  ["arguments a boolean", { method: "tools/call", params: { name: "run_llm", arguments: true } }, "tool-error"],
];

function expectAnswer(msg: Rpc, kind: "rpc-error" | "tool-error"): void {
  const text = JSON.stringify(msg);
  expect(text).not.toMatch(/"code":\s*"invalid_type"|ZodError|-32603/);
  if (kind === "rpc-error") {
    expect(msg.error?.code, text).toBe(-32602);
    expect(msg.error!.message.length).toBeLessThan(200);
    return;
  }
  const result = msg.result as unknown as CallToolResult;
  expect(result?.isError, text).toBe(true);
  const body = JSON.parse((result.content[0] as { text: string }).text) as { error: { code: string; field: string } };
  expect(body.error).toMatchObject({ code: "invalid_request", field: "arguments" });
}

/** Waits for `p`, failing the test (not hanging it) after CAP_MS. */
function capped<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer to ${what} within ${CAP_MS} ms`)), CAP_MS)))]).finally(() => clearTimeout(timer));
}

describe("over raw stdio (the built server)", () => {
  let child: ChildProcessWithoutNullStreams;
  const responses = new Map<number | string, Rpc>();
  const waiters = new Map<number | string, (m: Rpc) => void>();
  const unmatched: Rpc[] = [];
  let stderr = "";

  const send = (msg: Record<string, unknown> | string) => child.stdin.write((typeof msg === "string" ? msg : JSON.stringify({ jsonrpc: "2.0", ...msg })) + "\n");
  const response = (id: number | string) =>
    capped(
      responses.has(id) ? Promise.resolve(responses.get(id)!) : new Promise<Rpc>((res) => waiters.set(id, res)),
      `request ${id}; stderr:\n${stderr.slice(-2000)}`,
    );

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    child = spawn(process.execPath, [CLI, "serve", "--no-store", "--no-watch"], { cwd: ROOT, env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "info", OPENAI_API_KEY: "" }, stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    let buffer = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffer.slice(0, nl)) as Rpc;
        buffer = buffer.slice(nl + 1);
        if (msg.id === undefined) unmatched.push(msg);
        else if (msg.method === undefined) {
          responses.set(msg.id, msg);
          waiters.get(msg.id)?.(msg);
        }
      }
    });
    send({ id: "init", method: "initialize", params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "hardening", version: "1" } } });
    await response("init");
    send({ method: "notifications/initialized" });
  }, 30000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it.each(MALFORMED.map(([what, msg, kind], i) => [what, msg, kind, i + 100] as const))("answers %s", async (_what, msg, kind, id) => {
    send({ id, ...msg });
    expectAnswer(await response(id), kind);
  });

  it("answers a line that is not JSON with a parse error, and keeps serving", async () => {
    const before = unmatched.length;
    send("{not json");
    send({ id: 200, method: "tools/call", params: { name: "route_task", arguments: { prompt: "Summarize this paragraph in one sentence." } } });
    const ok = await response(200);
    expect((ok.result as unknown as CallToolResult).isError).toBeFalsy();
    expect(unmatched.slice(before).some((m) => m.error?.code === -32700)).toBe(true);
  });

  it("answers a NUL in the prompt with invalid_request and keeps serving", async () => {
    send({ id: 201, method: "tools/call", params: { name: "route_task", arguments: { prompt: "evil\u0000" } } });
    const bad = (await response(201)).result as unknown as CallToolResult;
    expect(JSON.parse((bad.content[0] as { text: string }).text).error).toMatchObject({ code: "invalid_request", field: "prompt" });
    send({ id: 202, method: "tools/call", params: { name: "route_task", arguments: { prompt: "Summarize this paragraph in one sentence." } } });
    expect(((await response(202)).result as unknown as CallToolResult).isError).toBeFalsy();
  });
});

describe("over an in-memory transport (the server itself)", () => {
  let runtime: Runtime;
  let client: InMemoryTransport;
  const answers = new Map<number | string, (m: Rpc) => void>();

  beforeAll(async () => {
    runtime = new Runtime({ env: {} });
    const { server } = createServer({ runtime });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    client = b;
    client.onmessage = (m) => {
      const msg = m as Rpc;
      if (msg.id !== undefined) answers.get(msg.id)?.(msg);
    };
    await client.start();
  });
  afterAll(async () => {
    await client?.close();
    await runtime?.close();
  });

  // params that are not an object never pass a transport's own parse; arguments do, and reach the server.
  it.each(MALFORMED.filter(([, , kind]) => kind === "tool-error").concat(MALFORMED.filter(([w]) => w === "no tool name")))("answers %s", async (_what, msg, kind) => {
    const id = Math.random();
    const got = new Promise<Rpc>((res) => answers.set(id, res));
    await client.send({ jsonrpc: "2.0", id, ...msg } as unknown as JSONRPCMessage);
    expectAnswer(await capped(got, _what), kind);
  });

  it("takes arguments: null as no arguments", async () => {
    const id = "null-args";
    const got = new Promise<Rpc>((res) => answers.set(id, res));
    await client.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "route_task", arguments: null } } as unknown as JSONRPCMessage);
    const result = (await capped(got, "null arguments")).result as unknown as CallToolResult;
    expect(JSON.parse((result.content[0] as { text: string }).text).error).toMatchObject({ code: "invalid_request", field: "prompt" });
  });
});

describe("over HTTP (Streamable, stateful)", () => {
  let handle: HttpServerHandle;
  let runtime: Runtime;
  let session: string;

  const post = async (body: unknown) => {
    const res = await capped(
      fetch(`${handle.url}/mcp`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "Mcp-Session-Id": session, "Mcp-Protocol-Version": LATEST_PROTOCOL_VERSION },
        body: JSON.stringify(body),
      }),
      "POST /mcp",
    );
    const text = await capped(res.text(), "POST /mcp body");
    // A JSON body, or an SSE stream whose data lines hold the answer.
    const json = text.trim().startsWith("{") || text.trim().startsWith("[") ? text : text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("");
    return { status: res.status, body: JSON.parse(json) as Rpc | Rpc[] };
  };

  beforeAll(async () => {
    runtime = new Runtime({ env: {} });
    handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
    session = "";
    const init = await fetch(`${handle.url}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "hardening", version: "1" } } }),
    });
    session = init.headers.get("mcp-session-id")!;
    await init.text();
    expect(session).toBeTruthy();
    await fetch(`${handle.url}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "Mcp-Session-Id": session, "Mcp-Protocol-Version": LATEST_PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    }).then((r) => r.text());
  }, 30000);
  afterAll(async () => {
    await handle?.close();
    await runtime?.close();
  });

  it.each(MALFORMED.map(([what, msg, kind], i) => [what, msg, kind, i + 100] as const))("answers %s", async (_what, msg, kind, id) => {
    const { body } = await post({ jsonrpc: "2.0", id, ...msg });
    const answer = body as Rpc;
    expect(answer.id).toBe(id);
    expectAnswer(answer, kind);
  });

  it("answers every request of a batch holding a malformed one", async () => {
    const { status, body } = await post([
      { jsonrpc: "2.0", id: 300, method: "tools/call", params: null },
      { jsonrpc: "2.0", id: 301, method: "tools/list" },
    ]);
    expect(status).toBe(400);
    const answers = body as Rpc[];
    expect(answers.map((a) => [a.id, a.error?.code])).toEqual([
      [300, -32602],
      [301, -32600],
    ]);
  });
});
