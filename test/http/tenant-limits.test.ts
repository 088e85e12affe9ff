import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { captureLogger } from "../helpers/capture-logger.js";

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const ACCEPT = "application/json, text/event-stream";
const PROMPT = "Fix this: TypeError: cannot read properties of undefined (reading 'map') at render (app.js:12)";
const TOKENS = { acme: "acme-token-0123456789", acme2: "acme-second-token-4567", default: "default-token-abcdef", globex: "globex-token-qwerty12" };

interface LimitBody {
  error: { code: number; message: string; data: { code: string; message: string; hint: string; retryable: boolean; limit: { name: string; value: number; scope: string; tenant?: string; held: number } } };
}

let handle: HttpServerHandle | undefined;
let runtime: Runtime | undefined;
const aborts: AbortController[] = [];

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await handle?.close();
  await runtime?.close();
  handle = undefined;
  runtime = undefined;
});

async function serve(http: string, opts: { stateless?: boolean } = {}): Promise<HttpServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), "sb-tenant-limits-"));
  const overlay = join(dir, "overlay.yaml");
  writeFileSync(overlay, `tenants:\n  globex: {}\nhttp:\n${http}`);
  runtime = new Runtime({
    overlayFile: overlay,
    env: { SWITCHBOARD_TOKENS: `acme=${TOKENS.acme},acme=${TOKENS.acme2},default=${TOKENS.default},globex=${TOKENS.globex}` },
  });
  handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log, ...opts });
  return handle;
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

function post(url: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json", Accept: ACCEPT, ...headers }, body: JSON.stringify(body) });
}

/** A raw initialize: a session with nothing in flight, as a client that went quiet leaves it. */
async function open(url: string, token: string): Promise<string> {
  const res = await post(url, INIT, auth(token));
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get("mcp-session-id")!;
}

async function ping(url: string, token: string, sid: string): Promise<number> {
  const res = await post(url, { jsonrpc: "2.0", id: 3, method: "ping" }, { ...auth(token), "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" });
  await res.text();
  return res.status;
}

/** Holds a legacy SSE stream open until the test ends. */
async function holdSse(url: string, token: string): Promise<Response> {
  const ctrl = new AbortController();
  aborts.push(ctrl);
  return fetch(`${url}/sse`, { headers: { ...auth(token), Accept: "text/event-stream" }, signal: ctrl.signal });
}

/** Holds a GET /mcp stream of a session open until the test ends. */
async function holdGet(url: string, token: string, sid: string): Promise<Response> {
  const ctrl = new AbortController();
  aborts.push(ctrl);
  return fetch(`${url}/mcp`, { headers: { ...auth(token), Accept: "text/event-stream", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" }, signal: ctrl.signal });
}

describe("HTTP per-tenant session limits", () => {
  it("stops a tenant at its own limit with a structured 429, and it cannot evict another tenant's session", async () => {
    const { url } = await serve("  maxSessions: 4\n  maxSessionsPerTenant: 3\n");
    const theirs = await open(url, TOKENS.default);
    const mine = [await open(url, TOKENS.acme), await open(url, TOKENS.acme), await open(url, TOKENS.acme)];
    const over = await post(url, INIT, auth(TOKENS.acme));
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30 * 60);
    const body = (await over.json()) as LimitBody;
    expect(body.error.data).toMatchObject({ code: "rate_limited", retryable: true, limit: { name: "http.maxSessionsPerTenant", value: 3, scope: "tenant", tenant: "acme", held: 3 } });
    expect(body.error.data.message).toMatch(/tenant "acme".*3 sessions.*http\.maxSessionsPerTenant/);
    expect(body.error.data.hint).toMatch(/DELETE \/mcp/);
    expect(body.error.data.hint).toMatch(/http\.tenantLimits\.acme\.maxSessions/);
    // Every session, the other tenant's included, still answers: nothing was evicted for acme.
    expect(await ping(url, TOKENS.default, theirs)).toBe(200);
    for (const sid of mine) expect(await ping(url, TOKENS.acme, sid)).toBe(200);
    expect(handle!.sessions().streamable).toBe(4);
  });

  it("holds the limit under concurrent initializes", async () => {
    const { url } = await serve("  maxSessionsPerTenant: 3\n");
    const results = await Promise.all(Array.from({ length: 10 }, () => post(url, INIT, auth(TOKENS.acme)).then(async (r) => (await r.text(), r.status))));
    expect(results.filter((s) => s === 200)).toHaveLength(3);
    expect(results.filter((s) => s === 429)).toHaveLength(7);
    expect(handle!.sessions().streamable).toBe(3);
  });

  it("applies a tenant's override and a per-token limit", async () => {
    const { url } = await serve("  maxSessionsPerTenant: 1\n  maxSessionsPerToken: 2\n  tenantLimits:\n    acme: { maxSessions: 3 }\n");
    await open(url, TOKENS.default);
    const other = await post(url, INIT, auth(TOKENS.default));
    expect(((await other.json()) as LimitBody).error.data.limit).toMatchObject({ name: "http.maxSessionsPerTenant", value: 1 });
    await open(url, TOKENS.acme);
    await open(url, TOKENS.acme);
    const token = await post(url, INIT, auth(TOKENS.acme));
    expect(token.status).toBe(429);
    const body = (await token.json()) as LimitBody;
    expect(body.error.data.limit).toMatchObject({ name: "http.maxSessionsPerToken", value: 2, scope: "token", tenant: "acme" });
    // The tenant's second token has its own share of the tenant's three.
    await open(url, TOKENS.acme2);
    const tenant = await post(url, INIT, auth(TOKENS.acme2));
    expect(((await tenant.json()) as LimitBody).error.data.limit).toMatchObject({ name: "http.tenantLimits.acme.maxSessions", value: 3, scope: "tenant" });
  });

  it("evicts the idlest session of the heaviest tenant at the server's limit, never a lighter tenant's", async () => {
    const { url } = await serve("  maxSessions: 6\n  maxSessionsPerTenant: 5\n");
    // The lighter tenants' sessions are the older ones: a global "idlest first" would take theirs.
    const def = [await open(url, TOKENS.default), await open(url, TOKENS.default)];
    const globex = [await open(url, TOKENS.globex)];
    const acme = [await open(url, TOKENS.acme), await open(url, TOKENS.acme), await open(url, TOKENS.acme)];
    // Full. Touch acme's first session so its second is now its idlest.
    expect(await ping(url, TOKENS.acme, acme[0]!)).toBe(200);
    globex.push(await open(url, TOKENS.globex));
    expect(await ping(url, TOKENS.acme, acme[1]!)).toBe(404);
    expect(await ping(url, TOKENS.acme, acme[0]!)).toBe(200);
    for (const sid of def) expect(await ping(url, TOKENS.default, sid)).toBe(200);
    // 2/2/2: no tenant holds more than globex, so globex's next session replaces its own idlest.
    globex.push(await open(url, TOKENS.globex));
    expect(await ping(url, TOKENS.globex, globex[0]!)).toBe(404);
    for (const sid of def) expect(await ping(url, TOKENS.default, sid)).toBe(200);
    for (const sid of [acme[0]!, acme[2]!]) expect(await ping(url, TOKENS.acme, sid)).toBe(200);
    expect(handle!.sessions().streamable).toBe(6);
  });

  it("answers 503 naming http.maxSessions when only busy or lighter tenants' sessions remain", async () => {
    const { url } = await serve("  maxSessions: 3\n  maxSessionsPerTenant: 3\n");
    const acme = await open(url, TOKENS.acme);
    await holdGet(url, TOKENS.acme, acme);
    await open(url, TOKENS.default);
    await open(url, TOKENS.globex);
    // acme's session is busy (its stream is open); default's and globex's hold no more than acme does.
    const full = await post(url, INIT, auth(TOKENS.acme));
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("5");
    expect(((await full.json()) as LimitBody).error.data).toMatchObject({ code: "provider_unavailable", limit: { name: "http.maxSessions", value: 3, scope: "server" } });
  });
});

describe("HTTP per-tenant stream limits", () => {
  it("caps one tenant's legacy SSE streams, and another tenant still opens sessions and calls tools", async () => {
    const { url } = await serve("  maxSessions: 5\n  maxStreamsPerTenant: 3\n");
    const held = await Promise.all([1, 2, 3].map(() => holdSse(url, TOKENS.acme)));
    expect(held.map((r) => r.status)).toEqual([200, 200, 200]);
    const over = await fetch(`${url}/sse`, { headers: { ...auth(TOKENS.acme), Accept: "text/event-stream" } });
    expect(over.status).toBe(429);
    const body = (await over.json()) as LimitBody;
    expect(body.error.data).toMatchObject({ code: "rate_limited", limit: { name: "http.maxStreamsPerTenant", value: 3, scope: "tenant", tenant: "acme", held: 3 } });
    expect(body.error.data.hint).toMatch(/tenantLimits\.acme\.maxStreams/);
    expect(handle!.sessions().sse).toBe(3);

    const client = new Client({ name: "tenant-b", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: auth(TOKENS.default) } }));
    try {
      const res = (await client.callTool({ name: "route_task", arguments: { prompt: PROMPT } })) as CallToolResult;
      expect(res.isError).toBeFalsy();
      expect((res.structuredContent as { tenant: string }).tenant).toBe("default");
      await open(url, TOKENS.default);
    } finally {
      await client.close();
    }
  });

  it("counts GET /mcp streams against the tenant's stream limit", async () => {
    const { url } = await serve("  tenantLimits:\n    default: { maxStreams: 1 }\n");
    const [a, b] = [await open(url, TOKENS.default), await open(url, TOKENS.default)];
    expect((await holdGet(url, TOKENS.default, a)).status).toBe(200);
    const over = await holdGet(url, TOKENS.default, b);
    expect(over.status).toBe(429);
    expect(((await over.json()) as LimitBody).error.data.limit).toMatchObject({ name: "http.tenantLimits.default.maxStreams", value: 1 });
    // Requests on the session are not streams: they still go through.
    expect(await ping(url, TOKENS.default, b)).toBe(200);
    // A legacy SSE stream is a stream too.
    expect((await fetch(`${url}/sse`, { headers: { ...auth(TOKENS.default), Accept: "text/event-stream" } })).status).toBe(429);
  });
});

describe("HTTP tenant limits in stateless mode", () => {
  it("leaves stateless POSTs unaffected", async () => {
    const { url } = await serve("  maxSessions: 1\n  maxSessionsPerTenant: 1\n  maxStreamsPerTenant: 1\n", { stateless: true });
    const statuses = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const res = await post(url, { jsonrpc: "2.0", id: i + 1, method: "tools/list" }, { ...auth(TOKENS.acme), "Mcp-Protocol-Version": "2025-06-18" });
        await res.text();
        return res.status;
      }),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(handle!.sessions()).toEqual({ streamable: 0, sse: 0 });
  });
});
