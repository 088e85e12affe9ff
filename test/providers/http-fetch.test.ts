// The SDKs' fetch on Node's HTTP client: whole and streamed answers as standard Responses, aborts,
// and everything it does not handle itself left to the global fetch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { httpFetch } from "../../src/providers/http-fetch.js";

let server: Server;
let base: string;
/** Lets the streamed answer finish (after the client has read its first event). */
let release: () => void = () => undefined;
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

  it("leaves multipart bodies to the global fetch", async () => {
    const form = new FormData();
    form.append("file", new Blob(["abc"]), "a.txt");
    const res = await httpFetch(`${base}/json`, { method: "POST", body: form });
    expect(res.status).toBe(201);
    expect(String(seen.at(-1)!.headers["content-type"])).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.at(-1)!.body).toContain("abc");
  });
});
