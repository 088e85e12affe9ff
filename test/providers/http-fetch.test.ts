// The SDKs' fetch on Node's HTTP client: whole and streamed answers as standard Responses, aborts,
// and everything it does not handle itself left to the global fetch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getEventListeners, once } from "node:events";
import { httpFetch } from "../../src/providers/http-fetch.js";

let server: Server;
let base: string;
/** Lets the streamed answer finish (after the client has read its first event). */
let release: () => void = () => undefined;
let slowArrived: () => void = () => undefined;
/** What the /flood answer has written, and its call when it wrote all it may. */
let floodSent = 0;
let floodCapped: () => void = () => undefined;
const FLOOD_CAP = 64 * 1024 * 1024;
const seen: Array<{ method?: string; headers: Record<string, unknown>; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, headers: req.headers, body });
      if (req.url === "/json") {
        res.writeHead(201, { "content-type": "application/json", "x-request-id": "req_1" });
        res.end(JSON.stringify({ ok: true, echo: body }));
      } else if (req.url === "/empty") {
        res.writeHead(204);
        res.end();
      } else if (req.url === "/slow") {
        // Answers only when the test says so (or never: the client aborts first).
        slowArrived();
      } else if (req.url === "/cut") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: one\n\n", () => res.socket?.destroy());
      } else if (req.url === "/flood") {
        // Writes as fast as the connection takes it, up to a cap that a paused reader never lets through.
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = `data: ${"x".repeat(64 * 1024)}\n\n`;
        const more = () => {
          while (floodSent < FLOOD_CAP) {
            floodSent += chunk.length;
            if (!res.write(chunk)) return;
          }
          floodCapped();
        };
        res.on("drain", more);
        res.on("close", () => res.off("drain", more));
        more();
      } else if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: one\n\n");
        release = () => res.end("data: two\n\n");
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end('{"error":"nothing here"}');
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("httpFetch", () => {
  it("sends method, headers and a text body, and returns status, headers and the whole body", async () => {
    const res = await httpFetch(`${base}/json`, { method: "POST", headers: new Headers({ "content-type": "application/json", authorization: "Bearer k" }), body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get("x-request-id")).toBe("req_1");
    expect(await res.json()).toEqual({ ok: true, echo: '{"a":1}' });
    expect(seen.at(-1)).toMatchObject({ method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" } });
  });

  it("passes error statuses through as Responses, and a 204 without a body", async () => {
    const missing = await httpFetch(new URL(`${base}/nope`));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('{"error":"nothing here"}');
    const empty = await httpFetch(`${base}/empty`, { method: "DELETE" });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it("hands a server-sent event stream over as it arrives, not when it ends", async () => {
    const res = await httpFetch(`${base}/stream`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: one\n\n");
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe("data: two\n\n");
  });

  it("stops a stream when its signal aborts", async () => {
    const ctrl = new AbortController();
    const res = await httpFetch(`${base}/stream`, { method: "POST", body: "{}", signal: ctrl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
    release();
  });

  it("rejects with an AbortError when aborted before the answer, as fetch does", async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(httpFetch(`${base}/json`, { method: "POST", body: "{}", signal: ctrl.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects with an AbortError when aborted while waiting for the answer", async () => {
    const ctrl = new AbortController();
    const arrived = new Promise<void>((r) => (slowArrived = r));
    const pending = httpFetch(`${base}/slow`, { method: "POST", body: "{}", signal: ctrl.signal });
    await arrived;
    ctrl.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("errors a stream the upstream cuts off, rather than ending it as if complete", async () => {
    const res = await httpFetch(`${base}/cut`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: one\n\n");
    await expect(reader.read()).rejects.toThrow();
  });

  it("stops reading a stream its reader is behind on, so a stalled reader does not buffer without bound", async () => {
    const capped = new Promise<"capped">((r) => (floodCapped = () => r("capped")));
    const res = await httpFetch(`${base}/flood`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    expect((await reader.read()).value!.byteLength).toBeGreaterThan(0);
    // Nothing read from here on. Unpaused, the client would take all 64 MB off loopback in well
    // under a second; paused, the socket buffers (a few MB) fill and the upstream stops. Absence
    // has no event to await: this waits a bounded second for the cap, which must not come.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([capped, new Promise<"held">((r) => (timer = setTimeout(() => r("held"), 1000)))]);
    clearTimeout(timer);
    expect(outcome).toBe("held");
    expect(floodSent).toBeLessThan(FLOOD_CAP);
    await reader.cancel();
  });

  it("leaves no abort listener on the signal once the exchange is over", async () => {
    const ctrl = new AbortController();
    const res = await httpFetch(`${base}/json`, { method: "POST", body: "{}", signal: ctrl.signal });
    await res.text();
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(ctrl.signal, "abort")).toHaveLength(0);
    const streamed = await httpFetch(`${base}/stream`, { method: "POST", body: "{}", signal: ctrl.signal });
    release();
    await streamed.text();
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(ctrl.signal, "abort")).toHaveLength(0);
  });

  it("leaves multipart bodies to the global fetch", async () => {
    const form = new FormData();
    form.append("file", new Blob(["abc"]), "a.txt");
    const res = await httpFetch(`${base}/json`, { method: "POST", body: form });
    expect(res.status).toBe(201);
    expect(String(seen.at(-1)!.headers["content-type"])).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.at(-1)!.body).toContain("abc");
  });
});
