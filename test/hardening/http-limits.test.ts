// Finding 11 of issue 13: slow clients. A client trickling its body or headers is cut off after the
// configured timeout; limits apply to receiving requests only, so a long-lived stream stays open.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { Runtime } from "../../src/runtime.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/http-server.js";
import { HTTP_DEFAULTS } from "../../src/config/schema.js";
import { captureLogger } from "../helpers/capture-logger.js";

const BODY_MS = 300;
const HEADERS_MS = 300;
const REQUEST_MS = 600;
const CAP_MS = 10_000;

let dir: string;
let runtime: Runtime;
let handle: HttpServerHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchboard-limits-"));
  const overlayFile = join(dir, "o.yaml");
  writeFileSync(overlayFile, YAML.stringify({ http: { bodyTimeoutMs: BODY_MS, headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: 1000, maxHeadersCount: 50, maxConnections: 500 } }));
  runtime = new Runtime({ overlayFile, env: {} });
  handle = await startHttpServer({ runtime, port: 0, log: captureLogger().log });
});
afterAll(async () => {
  await handle?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a raw connection that sends `head`, then one byte of `drip` every 50 ms until the server closes it. */
function trickle(head: string, drip: string): { socket: Socket; closed: Promise<{ ms: number; received: string }> } {
  const socket = connect(handle.port, "127.0.0.1");
  const t0 = Date.now();
  let received = "";
  let i = 0;
  socket.on("data", (d) => (received += d.toString()));
  socket.on("error", () => undefined);
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(drip[i++ % drip.length]!);
  }, 50);
  const closed = new Promise<{ ms: number; received: string }>((resolve, reject) => {
    const cap = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server kept a trickling client open for ${CAP_MS} ms`));
    }, CAP_MS);
    socket.on("close", () => {
      clearTimeout(cap);
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, received });
    });
  });
  return { socket, closed };
}

describe("slow clients", () => {
  it("config/http.yaml ships the limits, generous by default", async () => {
    expect(HTTP_DEFAULTS).toMatchObject({ headersTimeoutMs: 30_000, requestTimeoutMs: 120_000, bodyTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxHeadersCount: 100, maxConnections: 4096, auth: "on" });
    const shipped = new Runtime({ env: {} });
    expect(shipped.config.http).toMatchObject({ headersTimeoutMs: 30_000, requestTimeoutMs: 120_000, bodyTimeoutMs: 30_000, auth: "on" });
    await shipped.close();
  });

  it("a client trickling its body is answered 408 and cut after http.bodyTimeoutMs", async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${handle.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n\r\n{`;
    const { closed } = trickle(head, '"xxxxxxxx",');
    const { ms, received } = await closed;
    expect(ms).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(received).toMatch(/bodyTimeoutMs/);
  });

  it("many trickling clients at once are all cut", async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${handle.port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
    const results = await Promise.all(Array.from({ length: 40 }, () => trickle(head, "x").closed));
    expect(results).toHaveLength(40);
    for (const r of results) expect(r.ms).toBeLessThan(CAP_MS);
  });

  it("a client trickling its headers is cut after http.headersTimeoutMs", async () => {
    const { closed } = trickle(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${handle.port}\r\n`, "X-Slow: 1\r\n");
    const { ms, received } = await closed;
    expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(received).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it("the limits bound receiving, not responding: an SSE stream outlives them", async () => {
    const controller = new AbortController();
    const res = await fetch(`${handle.url}/sse`, { headers: { Accept: "text/event-stream" }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/event: endpoint/);
    const endpoint = /data: (\S+)/.exec(first)![1]!;
    // Past every receiving limit (request 600 ms, body and headers 300 ms), the stream still carries answers.
    await new Promise((r) => setTimeout(r, REQUEST_MS * 2));
    const post = await fetch(new URL(endpoint, handle.url), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    expect(post.status).toBe(202);
    let text = "";
    while (!/"id":1/.test(text)) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/"serverInfo"/);
    controller.abort();
  });

  it("a normal request is unaffected", async () => {
    const health = await fetch(`${handle.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
