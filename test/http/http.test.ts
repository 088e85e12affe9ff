import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { captureLogger } from "../helpers/capture-logger.js";

const PROMPT = "Fix this: TypeError: cannot read properties of undefined (reading 'map') at render (app.js:12)";
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const ACCEPT = "application/json, text/event-stream";


async function connect(url: string, opts: { token?: string; sse?: boolean } = {}): Promise<Client> {
  const headers: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const client = new Client({ name: "http-test", version: "1" });
  const transport = opts.sse
    ? new SSEClientTransport(new URL(`${url}/sse`), { requestInit: { headers }, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) } })
    : new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

const structured = (res: unknown) => (res as CallToolResult).structuredContent as Record<string, unknown>;
const errorOf = (res: unknown) => JSON.parse(((res as CallToolResult).content[0] as { text: string }).text).error as { code: string; message: string; hint: string };

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json", Accept: ACCEPT, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/** fetch() will not send a Host header of our choosing; node:http will. */
function rawPost(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(`${url}/mcp`);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "Content-Type": "application/json", Accept: ACCEPT, ...headers } }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("HTTP transport without tokens", () => {
  let handle: HttpServerHandle;
  let runtime: Runtime;
  const clients: Client[] = [];

  beforeAll(async () => {
    runtime = new Runtime({ env: {} });
    handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await handle.close();
    await runtime.close();
  });

  it("serves route_task over Streamable HTTP with a session", async () => {
    const client = await connect(handle.url);
    clients.push(client);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("route_task");
    const res = await client.callTool({ name: "route_task", arguments: { prompt: PROMPT } });
    expect(res.isError).toBeFalsy();
    expect(structured(res).taskType).toBe("debugging");
    expect(handle.sessions().streamable).toBe(1);
  });

  it("ends a session on DELETE, after which its id is unknown (404)", async () => {
    const client = new Client({ name: "http-test", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(`${handle.url}/mcp`));
    await client.connect(transport);
    const id = transport.sessionId!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const before = handle.sessions().streamable;
    await transport.terminateSession();
    expect(handle.sessions().streamable).toBe(before - 1);
    const res = await post(handle.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18" });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { data: { code: string; hint: string } } };
    expect(body.error.data.hint).toMatch(/initialize a new one/);
    await client.close();
  });

  it("answers 400 to a non-initialize request without a session id, and 404 to an unknown one", async () => {
    const missing = await post(handle.url, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/Mcp-Session-Id/);
    const unknown = await post(handle.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "Mcp-Session-Id": "not-a-session" });
    expect(unknown.status).toBe(404);
    const getUnknown = await fetch(`${handle.url}/mcp`, { headers: { Accept: "text/event-stream", "Mcp-Session-Id": "nope" } });
    expect(getUnknown.status).toBe(404);
  });

  it("keeps a session's stream resumable: Last-Event-ID replays what was sent after it", async () => {
    const init = await post(handle.url, { ...INIT, params: { ...INIT.params, protocolVersion: "2025-11-25" } });
    await init.text();
    const sid = init.headers.get("mcp-session-id")!;
    const headers = { "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25" };
    await (await post(handle.url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)).text();
    const call = await post(handle.url, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "route_task", arguments: { prompt: PROMPT } } }, headers);
    const stream = await call.text();
    // The stream opens with a priming event (an id and a retry hint) before the result.
    const ids = [...stream.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
    expect(stream).toMatch(/^retry: \d+$/m);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    // A client that lost the stream right after the priming event resumes and still gets the result.
    const ctrl = new AbortController();
    const resumed = await fetch(`${handle.url}/mcp`, { headers: { Accept: "text/event-stream", ...headers, "Last-Event-ID": ids[0]! }, signal: ctrl.signal });
    expect(resumed.status).toBe(200);
    const reader = resumed.body!.getReader();
    let text = "";
    while (!/"id":7/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    expect(text).toMatch(/"id":7/);
    expect(text).toMatch(/debugging/);
    await fetch(`${handle.url}/mcp`, { method: "DELETE", headers });
  });

  it("serves the legacy SSE transport (GET /sse + POST /messages)", async () => {
    const client = await connect(handle.url, { sse: true });
    clients.push(client);
    const res = await client.callTool({ name: "route_task", arguments: { prompt: "Translate 'good morning' into French" } });
    expect(structured(res).taskType).toBe("translation");
    expect(handle.sessions().sse).toBe(1);
    const stray = await fetch(`${handle.url}/messages?sessionId=unknown`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(stray.status).toBe(404);
  });

  it("refuses a foreign Host header (DNS rebinding) and a foreign Origin with 403", async () => {
    const evilHost = await rawPost(handle.url, INIT, { Host: "evil.example.com" });
    expect(evilHost.status).toBe(403);
    const body = JSON.parse(evilHost.body) as { error: { data: { code: string; hint: string } } };
    expect(body.error.data.code).toBe("forbidden");
    expect(body.error.data.hint).toMatch(/allowedHosts/);
    const evilOrigin = await post(handle.url, INIT, { Origin: "https://evil.example.com" });
    expect(evilOrigin.status).toBe(403);
    const nullOrigin = await post(handle.url, INIT, { Origin: "null" });
    expect(nullOrigin.status).toBe(403);
    const host = new URL(handle.url).host;
    const same = await post(handle.url, INIT, { Origin: `http://${host}` });
    expect(same.status).toBe(200);
    const localhostName = await rawPost(handle.url, INIT, { Host: `localhost:${handle.port}` });
    expect(localhostName.status).toBe(200);
  });

  it("answers /healthz, 404s unknown paths with JSON, and rejects malformed and oversized bodies", async () => {
    const health = (await (await fetch(`${handle.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", store: "off", auth: "off" });
    const nowhere = await fetch(`${handle.url}/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as { error: { hint: string } }).error.hint).toMatch(/\/mcp/);
    const bad = await post(handle.url, "{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const huge = await post(handle.url, { ...INIT, pad: "x".repeat(runtime.config.http.maxBodyBytes) });
    expect(huge.status).toBe(413);
  });

  it("keeps network callers off this machine's files and private network", async () => {
    const client = await connect(handle.url);
    clients.push(client);
    const ssrf = await client.callTool({ name: "transcribe", arguments: { audio: "http://127.0.0.1:9/secret.wav" } });
    expect(errorOf(ssrf)).toMatchObject({ code: "invalid_request" });
    expect(errorOf(ssrf).message).toMatch(/loopback, private or link-local/);
    expect(errorOf(ssrf).hint).toMatch(/remoteCallers\.privateUrls/);
    const metadata = await client.callTool({ name: "transcribe", arguments: { audio: "http://[::ffff:169.254.169.254]/latest/meta-data" } });
    expect(errorOf(metadata).message).toMatch(/private or link-local/);
    const local = await client.callTool({ name: "remove_background", arguments: { image: "/etc/hostname" } });
    expect(errorOf(local).message).toMatch(/local paths are not accepted from callers over the network/);
  });

  it("serves /metrics in Prometheus format with the calls made", async () => {
    const client = await connect(handle.url);
    clients.push(client);
    await client.callTool({ name: "route_task", arguments: { prompt: PROMPT } });
    const res = await fetch(`${handle.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/switchboard_tool_calls_total\{[^}]*tool="route_task"[^}]*\} [1-9]/);
    expect(text).toMatch(/switchboard_http_sessions\{transport="streamable",switchboard_instance="[^"]+"\} [1-9]/);
  });
});

describe("HTTP transport in stateless mode", () => {
  it("answers each POST with a fresh server and refuses GET/DELETE with 405", async () => {
    const runtime = new Runtime({ env: {} });
    const handle = await startHttpServer({ runtime, port: 0, stateless: true, log: captureLogger().log });
    try {
      const client = await connect(handle.url);
      const res = await client.callTool({ name: "route_task", arguments: { prompt: PROMPT } });
      expect(structured(res).taskType).toBe("debugging");
      expect(handle.sessions().streamable).toBe(0);
      await client.close();
      const get = await fetch(`${handle.url}/mcp`, { headers: { Accept: "text/event-stream" } });
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST");
    } finally {
      await handle.close();
      await runtime.close();
    }
  });
});

describe("HTTP transport with bearer tokens", () => {
  const ACME = "acme-token-0123456789";
  const DEFAULT = "default-token-abcdef";
  const ADMIN = "admin-token-zyxwvu";
  let handle: HttpServerHandle;
  let runtime: Runtime;
  let logs: Array<Record<string, unknown>>;

  beforeAll(async () => {
    runtime = new Runtime({ env: { SWITCHBOARD_TOKENS: `acme=${ACME},default=${DEFAULT}`, SWITCHBOARD_ADMIN_TOKEN: ADMIN } });
    const cap = captureLogger();
    logs = cap.lines;
    handle = await startHttpServer({ runtime, port: 0, log: cap.log });
  });
  afterAll(async () => {
    await handle.close();
    await runtime.close();
    // No token ever reaches a log line.
    const all = JSON.stringify(logs);
    for (const t of [ACME, DEFAULT, ADMIN]) expect(all).not.toContain(t);
  });

  it("refuses a missing or wrong token with 401 and WWW-Authenticate", async () => {
    const none = await post(handle.url, INIT);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await post(handle.url, INIT, { Authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/invalid_token/);
    const body = (await wrong.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe("unauthorized");
    expect(JSON.stringify(body)).not.toContain("nope");
    const sse = await fetch(`${handle.url}/sse`);
    expect(sse.status).toBe(401);
  });

  it("takes the tenant of a call from its token and refuses acting for another tenant", async () => {
    const client = await connect(handle.url, { token: ACME });
    try {
      const own = await client.callTool({ name: "route_task", arguments: { prompt: PROMPT } });
      expect(structured(own).tenant).toBe("acme");
      const other = await client.callTool({ name: "route_task", arguments: { prompt: PROMPT, tenant: "default" } });
      expect(other.isError).toBe(true);
      expect(errorOf(other)).toMatchObject({ code: "forbidden" });
      expect(errorOf(other).message).toMatch(/acme.*default/);
      const usage = await client.callTool({ name: "usage_report", arguments: { tenant: "default" } });
      expect(errorOf(usage).code).toBe("forbidden");
      const listed = await client.listResources();
      const usageUris = listed.resources.map((r) => r.uri).filter((u) => u.startsWith("switchboard://usage/"));
      expect(usageUris).toEqual(["switchboard://usage/acme"]);
      const read = await client.readResource({ uri: "switchboard://usage/default" });
      expect((read.contents[0] as { text: string }).text).toMatch(/forbidden/);
    } finally {
      await client.close();
    }
  });

  it("lets an admin token act for any tenant", async () => {
    const client = await connect(handle.url, { token: ADMIN });
    try {
      const res = await client.callTool({ name: "route_task", arguments: { prompt: PROMPT, tenant: "acme" } });
      expect(structured(res).tenant).toBe("acme");
    } finally {
      await client.close();
    }
  });

  it("does not let one token use another token's session", async () => {
    const client = new Client({ name: "http-test", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(`${handle.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${ACME}` } } });
    await client.connect(transport);
    try {
      const hijack = await post(handle.url, { jsonrpc: "2.0", id: 9, method: "tools/list" }, { Authorization: `Bearer ${DEFAULT}`, "Mcp-Session-Id": transport.sessionId!, "Mcp-Protocol-Version": "2025-06-18" });
      expect(hijack.status).toBe(404);
      const owner = await post(handle.url, { jsonrpc: "2.0", id: 9, method: "ping" }, { Authorization: `Bearer ${ACME}`, "Mcp-Session-Id": transport.sessionId!, "Mcp-Protocol-Version": "2025-06-18" });
      expect(owner.status).toBe(200);
    } finally {
      await client.close();
    }
  });

  it("shows /metrics only to an admin token; /healthz stays open", async () => {
    expect((await fetch(`${handle.url}/metrics`)).status).toBe(401);
    const tenantToken = await fetch(`${handle.url}/metrics`, { headers: { Authorization: `Bearer ${ACME}` } });
    expect(tenantToken.status).toBe(403);
    const admin = await fetch(`${handle.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toMatch(/switchboard_tool_calls_total/);
    const health = (await (await fetch(`${handle.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health.auth).toBe("tokens");
  });
});

describe("HTTP session limit", () => {
  it("evicts the longest-idle session at the limit, and answers 503 when every session is busy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-http-limit-"));
    const overlay = join(dir, "overlay.yaml");
    writeFileSync(overlay, "http:\n  maxSessions: 2\n");
    const runtime = new Runtime({ overlayFile: overlay, env: {} });
    const handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
    try {
      // Raw initializes: sessions with no stream open, as a client that vanished without DELETE leaves them.
      const open = async () => {
        const res = await post(handle.url, INIT);
        await res.text();
        expect(res.status).toBe(200);
        return res.headers.get("mcp-session-id")!;
      };
      const first = await open();
      const second = await open();
      const third = await open();
      expect(handle.sessions().streamable).toBe(2);
      const ping = (sid: string) => post(handle.url, { jsonrpc: "2.0", id: 3, method: "ping" }, { "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" });
      // The first session was the idlest: it made room; the others still answer.
      expect((await ping(first)).status).toBe(404);
      expect((await ping(second)).status).toBe(200);
      // Open GET streams keep both remaining sessions busy: no room, so 503 with Retry-After.
      const ctrl = new AbortController();
      await Promise.all([second, third].map((sid) => fetch(`${handle.url}/mcp`, { headers: { Accept: "text/event-stream", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" }, signal: ctrl.signal })));
      const full = await post(handle.url, INIT);
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe("5");
      ctrl.abort();
    } finally {
      await handle.close();
      await runtime.close();
    }
  });
});

describe("HTTP transport for browser agents on an allowed origin", () => {
  it("answers CORS preflights and exposes the session id to that origin only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-http-cors-"));
    const overlay = join(dir, "overlay.yaml");
    writeFileSync(overlay, "http:\n  allowedOrigins: [\"https://agents.example.com\"]\n");
    const runtime = new Runtime({ overlayFile: overlay, env: {} });
    const handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
    try {
      const origin = "https://agents.example.com";
      const preflight = await fetch(`${handle.url}/mcp`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, mcp-session-id" } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      expect(preflight.headers.get("access-control-allow-headers")).toMatch(/Mcp-Session-Id/);
      const init = await post(handle.url, INIT, { Origin: origin });
      expect(init.status).toBe(200);
      expect(init.headers.get("access-control-expose-headers")).toMatch(/Mcp-Session-Id/);
      await init.text();
      const other = await fetch(`${handle.url}/mcp`, { method: "OPTIONS", headers: { Origin: "https://other.example.com", "Access-Control-Request-Method": "POST" } });
      expect(other.status).toBe(403);
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await handle.close();
      await runtime.close();
    }
  });
});

describe("HTTP transport binding", () => {
  it("warns when bound beyond loopback, louder without tokens, and still checks Host", async () => {
    const runtime = new Runtime({ env: {} });
    const cap = captureLogger();
    const handle = await startHttpServer({ runtime, host: "0.0.0.0", port: 0, log: cap.log });
    try {
      const warnings = cap.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warnings.some((m) => /beyond loopback/.test(m))).toBe(true);
      expect(warnings.some((m) => /no bearer tokens/.test(m))).toBe(true);
      const evil = await rawPost(handle.url, INIT, { Host: `evil.example.com:${handle.port}` });
      expect(evil.status).toBe(403);
    } finally {
      await handle.close();
      await runtime.close();
    }
  });

  it("does not warn on loopback", async () => {
    const runtime = new Runtime({ env: {} });
    const cap = captureLogger();
    const handle = await startHttpServer({ runtime, port: 0, log: cap.log });
    await handle.close();
    await runtime.close();
    expect(cap.lines.filter((l) => l.level === 40)).toEqual([]);
  });
});
