// The compatible APIs' LLM requests skip Express in the plain case: what that lane must still
// refuse (callers without a token before their body is read, bodies too large, not JSON, unknown
// Hosts) in each API's own shape, and what it must
// leave to Express (browser Origins, which need CORS answers).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { startCompatServer, TOKENS, type CompatServer } from "../helpers/compat-server.js";

let server: CompatServer;

beforeAll(async () => {
  server = await startCompatServer({ http: { maxLlmBodyBytes: 2048, allowedOrigins: ["http://app.example"] } });
});
afterAll(() => server?.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the SDKs would refuse to send some of these. */
function send(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(path, server.handle.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { authorization: `Bearer ${TOKENS.default}`, "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const chat = JSON.stringify({ model: "openai:gpt-4.1-mini", messages: [{ role: "user", content: "What is the capital of Peru?" }] });
const message = JSON.stringify({ model: "openai:gpt-4.1-mini", max_tokens: 64, messages: [{ role: "user", content: "What is the capital of Peru?" }] });

describe("the compatible APIs' fast lane", () => {
  it("answers a plain request and Claude Code's ?beta=true query", async () => {
    const a = await send("/v1/chat/completions", chat);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body).choices[0].message.content).toBeTruthy();
    expect(a.headers["x-switchboard-model"]).toBe("openai:gpt-4.1-mini");
    const b = await send("/v1/messages?beta=true", message, { "x-api-key": TOKENS.default, "anthropic-version": "2023-06-01" });
    expect(b.status).toBe(200);
    expect(JSON.parse(b.body).type).toBe("message");
  });

  it("413 in each API's shape for a body over http.maxLlmBodyBytes, and the connection is closed", async () => {
    const big = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "x".repeat(4096) }] });
    const a = await send("/v1/chat/completions", big);
    expect(a.status).toBe(413);
    expect(a.headers.connection).toBe("close");
    const e = JSON.parse(a.body).error;
    expect(e.code).toBe("invalid_request");
    expect(e.message).toMatch(/over 2048 bytes/);
    expect(e.hint).toMatch(/http\.maxLlmBodyBytes/);
    const b = await send("/v1/messages", big, { "anthropic-version": "2023-06-01" });
    expect(b.status).toBe(413);
    expect(JSON.parse(b.body)).toMatchObject({ type: "error", error: { type: "request_too_large" } });
  });

  it("refuses a caller without a valid token before reading its body: 401, not 413, in each API's shape, and recorded", async () => {
    const big = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "x".repeat(4096) }] });
    const before = server.records.length;
    const a = await send("/v1/chat/completions", big, { authorization: "Bearer not-a-token" });
    expect(a.status).toBe(401);
    expect(JSON.parse(a.body).error.code).toBe("unauthorized");
    // The unread body was discarded, not a reason to drop the connection.
    expect(a.headers.connection).not.toBe("close");
    const b = await send("/v1/messages", big, { authorization: "", "x-api-key": "not-a-token", "anthropic-version": "2023-06-01" });
    expect(b.status).toBe(401);
    expect(JSON.parse(b.body)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const c = await send("/v1/messages/count_tokens", big, { authorization: "", "anthropic-version": "2023-06-01" });
    expect(c.status).toBe(401);
    expect(JSON.parse(c.body)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    // Through Express too (a browser Origin).
    const d = await send("/v1/chat/completions", big, { authorization: "Bearer not-a-token", origin: "http://app.example" });
    expect(d.status).toBe(401);
    expect(server.records.slice(before).map((r) => [r.tool, r.outcome])).toEqual([
      ["chat_completions", "unauthorized"],
      ["messages", "unauthorized"],
      ["chat_completions", "unauthorized"],
    ]);
  });

  it("400 in the API's shape for a body that is not JSON", async () => {
    const a = await send("/v1/chat/completions", "{not json");
    expect(a.status).toBe(400);
    const e = JSON.parse(a.body).error;
    expect(e.message).toMatch(/not valid JSON/);
    expect(e.param).toBe("body");
  });

  it("leaves a browser Origin to Express: an allowed one gets CORS headers, another is refused", async () => {
    const ok = await send("/v1/chat/completions", chat, { origin: "http://app.example" });
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe("http://app.example");
    const refused = await send("/v1/chat/completions", chat, { origin: "http://evil.example" });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/not allowed/);
  });

  it("refuses a Host this server does not answer to (DNS rebinding), as Express's guard does", async () => {
    const a = await send("/v1/chat/completions", chat, { host: "evil.example" });
    expect(a.status).toBe(403);
    expect(a.body).toMatch(/DNS-rebinding/);
  });
});
